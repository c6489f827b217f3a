"""The benchmark's demo database: built once per size and generator version, then reused.

`vista demo` builds in a temporary file and moves it into place only when it is complete,
so a file under the cached name is a whole database. A file that still fails the cheap
checks below (schema version, statistics from the last step, the customers, the WAL
mode set last) is not reused: it is rebuilt. A file of an older schema is upgraded in
place, as Vista upgrades any store it opens. Files of other generator versions are
pruned once the current one is built, since no run of this code can use them.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from backends.sqlite.store import SCHEMA_VERSION, Store
from console.demo import GENERATOR_VERSION

#: demo-<customers>-g<version>.db and its side files (-wal, -shm, .building, ...)
_CACHED = re.compile(r"^demo-(\d+)-g([^.]+)\.db")


def cached_path(data: Path, customers: int, version: str = GENERATOR_VERSION) -> Path:
    return data / f"demo-{customers}-g{version}.db"


def schema_version(path: Path) -> int | None:
    """The file's schema version (None if it cannot be read)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def problem(path: Path, customers: int) -> str:
    """Why the file at `path` is not a complete demo database of `customers` ("" if it is)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        return f"cannot open it ({e})"
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return "its schema version is not this code's"
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            return "it was not finished (not switched to WAL, the build's last step)"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "sqlite_stat1" not in tables:
            return "it was not finished (no statistics, the build's last step but one)"
        top = conn.execute("SELECT max(id) FROM customers").fetchone()[0] or 0
        if top < customers:
            return f"it holds customers up to {top:,}, not {customers:,}"
    except sqlite3.Error as e:
        return f"it is not a readable database ({e})"
    finally:
        conn.close()
    return ""


def prune(data: Path, keep_version: str = GENERATOR_VERSION) -> list[Path]:
    """Delete files of other generator versions in `data`; returns what was deleted."""
    gone = []
    for p in sorted(data.iterdir()):
        m = _CACHED.match(p.name)
        if m and m.group(2) != keep_version and p.is_file():
            p.unlink()
            gone.append(p)
    return gone


def build_with_cli(path: Path, customers: int) -> None:
    """`vista demo --customers N --seed 42 --db PATH --force`, as a user would run it."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from console.cli.app import main; main()",
            "demo",
            "--customers",
            str(customers),
            "--db",
            str(path),
            "--seed",
            "42",
            "--force",
        ],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def ensure(
    data: Path,
    customers: int,
    build: Callable[[Path, int], None] = build_with_cli,
    say: Callable[[str], None] = print,
) -> tuple[Path, float | None]:
    """The cached database of `customers`, built first if missing or incomplete.

    Returns the path and the seconds the build took (None when it was reused).
    """
    data.mkdir(parents=True, exist_ok=True)
    path = cached_path(data, customers)
    if path.exists():
        version = schema_version(path)
        if version is not None and 0 < version < SCHEMA_VERSION:
            say(f"upgrading {path.name} from schema {version} to {SCHEMA_VERSION}")
            Store(path).close()
        why = problem(path, customers)
        if not why:
            return path, None
        say(f"not reusing {path.name}: {why}; rebuilding it")
    say(f"building {path.name} (cached for later runs)…")
    started = time.perf_counter()
    build(path, customers)
    seconds = time.perf_counter() - started
    why = problem(path, customers)
    if why:
        raise RuntimeError(f"the demo build left {path} incomplete: {why}")
    for p in prune(data):
        say(f"pruned {p.name} (another generator version than {GENERATOR_VERSION})")
    return path, seconds
