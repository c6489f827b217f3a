"""The benchmark's cached demo database: built once, never reused half-built, and other
generator versions pruned when the current one is built."""

from __future__ import annotations

from pathlib import Path

from backends.sqlite.store import Store
from bench import database
from console.demo import GENERATOR_VERSION, generate
from tests.conftest import NOW


class Builds:
    """A `vista demo` stand-in that records its calls (a small, real demo database)."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, path: Path, customers: int) -> None:
        self.calls.append(path)
        generate(path, customers, seed=1, now=NOW, force=True)


def test_a_complete_database_is_built_once_then_reused(tmp_path: Path) -> None:
    build, said = Builds(), []
    path, seconds = database.ensure(tmp_path, 40, build, said.append)
    assert path == tmp_path / f"demo-40-g{GENERATOR_VERSION}.db" and seconds is not None
    assert database.problem(path, 40) == ""
    again, seconds = database.ensure(tmp_path, 40, build, said.append)
    assert again == path and seconds is None and build.calls == [path]


def test_a_half_built_database_under_the_cached_name_is_rebuilt(tmp_path: Path) -> None:
    path = database.cached_path(tmp_path, 40)
    Store(path, create=True).close()  # migrated, never loaded: what a cut-off build leaves
    (tmp_path / f"{path.name}.building").write_bytes(b"SQLite format 3\0 cut off")
    assert "not finished" in database.problem(path, 40)
    build, said = Builds(), []
    database.ensure(tmp_path, 40, build, said.append)
    assert build.calls == [path]
    assert any("not reusing" in line and "not finished" in line for line in said)
    assert database.problem(path, 40) == ""
    assert "not 400" in database.problem(path, 400)  # a cut-off load: too few customers
    garbage = tmp_path / "demo-7-g9.db"
    garbage.write_bytes(b"not a database at all")
    assert database.problem(garbage, 7) != ""


def test_other_generator_versions_are_pruned_after_a_build(tmp_path: Path) -> None:
    old = ["demo-40-g3.db", "demo-40-g3.db-wal", "demo-40-g3.db-shm", "demo-1000-g3.db.building"]
    for name in old + ["notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    said: list[str] = []
    path, _seconds = database.ensure(tmp_path, 40, Builds(), said.append)
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm")))
    assert left == sorted([path.name, "notes.txt"])  # (a reader's -wal and -shm may stay)
    assert sorted(line.split()[1] for line in said if line.startswith("pruned")) == sorted(old)


def test_an_older_schema_is_upgraded_in_place_not_rebuilt(tmp_path: Path) -> None:
    import sqlite3

    from backends.sqlite.store import SCHEMA_VERSION

    build, said = Builds(), []
    path, _seconds = database.ensure(tmp_path, 40, build, said.append)
    with sqlite3.connect(path) as conn:  # as if the newest migration came after the build
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.close()
    again, seconds = database.ensure(tmp_path, 40, build, said.append)
    assert again == path and seconds is None and build.calls == [path]
    assert database.schema_version(path) == SCHEMA_VERSION
    assert any(line.startswith("upgrading") for line in said)
