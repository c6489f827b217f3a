"""Inspecting a store file: schema version, table sizes, integrity (for `vista db`)."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from backends.models import StoreInfo
from backends.sqlite.store import SCHEMA_VERSION, Store


def info(path: Path) -> StoreInfo:
    """Row counts per table, read-only (counts use sqlite-utils' table introspection)."""
    store = Store(path, read_only=True, inspect=True)
    try:
        db = sqlite_utils.Database(store.conn)
        tables = {
            name: db[name].count
            for name in db.table_names()
            if not name.startswith(("sqlite_", "customer_search_"))
        }
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        store.close()
    return StoreInfo(str(path), version, SCHEMA_VERSION, path.stat().st_size, mode, tables)


def check(path: Path) -> list[str]:
    """SQLite's integrity and foreign-key checks; empty when the file is sound."""
    store = Store(path, read_only=True, inspect=True)
    try:
        problems = [r[0] for r in store.conn.execute("PRAGMA quick_check") if r[0] != "ok"]
        problems += [
            f"foreign key: {r[0]} row {r[1]} -> {r[2]}"
            for r in store.conn.execute("PRAGMA foreign_key_check")
        ]
    finally:
        store.close()
    return problems
