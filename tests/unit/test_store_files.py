"""Store files: only `vista demo` and `vista db init` create one, and they are private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from backends.base import Unavailable
from backends.sqlite.backend import SQLiteBackend
from tests.unit.test_cli import vista


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "anna.csv"
    path.write_text("id,name,email\n1,Anna Bianchi,anna.bianchi@posta-vista.it\n", "utf-8")
    return path


def test_a_mistyped_path_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "dir" / "x.db"
    url = f"sqlite:///{typo}"
    imported = vista("--backend", url, "import", str(_csv(tmp_path)), "--source", "crm")
    inbound = vista("--backend", url, "contacts", "inbound", "email", "a@posta-vista.it", "Ciao")
    for done in (imported, inbound):
        assert done.returncode == 1
        assert done.stderr.strip() == (
            f"vista: error: no such database file: {typo} (`vista db init` or `vista demo` "
            "creates one)"
        )
    assert not (tmp_path / "typo").exists()


def test_db_init_creates_a_store_then_import_uses_it(tmp_path: Path) -> None:
    path = tmp_path / "new" / "x.db"
    made = vista("db", "init", "--db", str(path))
    assert made.returncode == 0 and made.stdout.strip().startswith(f"{path}: created")
    again = vista("db", "init", "--db", str(path))
    assert again.returncode == 0 and "already a Vista store" in again.stdout
    url = f"sqlite:///{path}"
    imported = vista("--backend", url, "import", str(_csv(tmp_path)), "--source", "crm")
    assert imported.returncode == 0, imported.stderr
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database", "utf-8")
    refused = vista("db", "init", "--db", str(foreign))
    assert refused.returncode == 1 and foreign.read_text("utf-8") == "not a database"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_store_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    assert vista("db", "init", "--db", str(path)).returncode == 0
    backend = SQLiteBackend(path, agent="giulia")
    backend.agents()  # opens the write-ahead log and its index
    for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert _mode(f) == 0o600, f
    backend.close()
    demo = tmp_path / "demo.db"
    assert vista("demo", "--db", str(demo), "--customers", "5").returncode == 0
    assert _mode(demo) == 0o600


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any directory")
def test_a_read_only_directory_is_named_as_the_reason(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    assert vista("db", "init", "--db", str(folder / "x.db")).returncode == 0
    for leftover in folder.glob("x.db-*"):
        leftover.unlink()
    folder.chmod(0o500)
    try:
        with pytest.raises(Unavailable, match=f"its directory {folder} is not writable"):
            SQLiteBackend(folder / "x.db", agent="giulia").agents()
    finally:
        folder.chmod(0o700)
