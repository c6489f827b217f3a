"""Inspecting a store file: schema version, table sizes, integrity (for `vista db`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from backends.sqlite.store import SCHEMA_VERSION, Store


@dataclass(frozen=True, slots=True)
class StoreInfo:
    path: str
    schema_version: int
    code_schema_version: int
    size_bytes: int
    journal_mode: str
    tables: dict[str, int]  # table -> rows

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "schema_version": self.schema_version,
            "code_schema_version": self.code_schema_version,
            "size_bytes": self.size_bytes,
            "journal_mode": self.journal_mode,
            "tables": self.tables,
        }


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
