"""Inspecting a store file: schema version, table sizes, integrity (for `vista db`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from backends.models import StoreInfo
from backends.sqlite.store import SCHEMA_VERSION, Store, translate


def info(path: Path) -> StoreInfo:
    """Row counts per table, read-only (counts use sqlite-utils' table introspection)."""
    store = Store(path, read_only=True, inspect=True)
    try:
        return _info(store, path)
    except sqlite3.Error as e:  # a damaged file: one line, as `check` reports it
        raise translate(e, path) from e
    finally:
        store.close()


def _info(store: Store, path: Path) -> StoreInfo:
    db = sqlite_utils.Database(store.conn)
    tables = {
        name: db[name].count
        for name in db.table_names()
        if not name.startswith(("sqlite_", "customer_search_"))
    }
    version = store.conn.execute("PRAGMA user_version").fetchone()[0]
    mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    return StoreInfo(str(path), version, SCHEMA_VERSION, path.stat().st_size, mode, tables)


def check(path: Path) -> list[str]:
    """SQLite's integrity and foreign-key checks; empty when the file is sound.

    A check that cannot finish on a damaged file is a problem itself, reported
    with what the checks before it found.
    """
    store = Store(path, read_only=True, inspect=True)
    problems: list[str] = []
    try:
        for name, pragma, lines in _CHECKS:
            try:
                for row in store.conn.execute(pragma):
                    problems += lines(row)
            except sqlite3.Error as e:
                problems.append(f"{name} could not finish: {e}")
    finally:
        store.close()
    return problems


def _integrity_lines(row: sqlite3.Row) -> list[str]:
    """quick_check's answer as one problem per line ('ok' and its headings dropped)."""
    return [
        line.strip()
        for line in str(row[0]).splitlines()
        if line.strip() and line.strip() != "ok" and not line.startswith("***")
    ]


_CHECKS: tuple[tuple[str, str, Callable[[sqlite3.Row], list[str]]], ...] = (
    ("integrity check", "PRAGMA quick_check", _integrity_lines),
    (
        "foreign-key check",
        "PRAGMA foreign_key_check",
        lambda r: [f"foreign key: {r[0]} row {r[1]} -> {r[2]}"],
    ),
)
