"""The import pipeline on the SQLite store: `backends.identity_import` runs it, through
`SQLiteSteps` (each batch in a write transaction, or all of them in the strict import's)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from backends import identity_import
from backends.identity.config import MatchConfig
from backends.identity.jsontext import dumps
from backends.identity.pipeline import MAX_BAD_KEPT, PARALLEL_BYTES, ImportOptions, ImportReport
from backends.sqlite.identity.resolver import Resolver
from backends.sqlite.identity.settings import database_config
from backends.sqlite.store import Store

__all__ = ["MAX_BAD_KEPT", "PARALLEL_BYTES", "ImportOptions", "ImportReport", "run_import"]

IMPORT_CACHE_KIB = 65536  # SQLite page cache of the importing connection (64 MiB)
T = TypeVar("T")


class SQLiteSteps(identity_import.ImportSteps):
    """`identity_import.ImportSteps` on a SQLite store."""

    package = "backends.sqlite"

    @classmethod
    def stored_config(cls, store: Store, base: MatchConfig) -> MatchConfig:
        try:  # a bulk load walks big indexes: give this connection a larger page cache
            store.conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
        except sqlite3.Error:
            pass
        return database_config(store.conn, base)

    def write(self, fn: Callable[[Any], T]) -> T:
        if self.db is not None:
            return fn(self.db)
        with self.store.write() as conn:
            return fn(conn)

    def begin(self, conn: Any, report: ImportReport, path: str, now: int) -> int:
        cur = conn.execute(
            "INSERT INTO imports(source, kind, path, started_at) VALUES (?,?,?,?)",
            (report.source, report.kind, path, now),
        )
        return int(cur.lastrowid or 0)

    def end(self, conn: Any, report: ImportReport, now: int) -> None:
        conn.execute(
            "UPDATE imports SET finished_at = ?, counts = ? WHERE id = ?",
            (now, dumps(report.to_json()), report.import_id),
        )

    def resolver(self, conn: Any, cfg: MatchConfig, now: int, actor: str) -> Resolver:
        return Resolver(conn, cfg, now, actor)


def run_import(store: Store, path: str | Path, options: ImportOptions, **how: Any) -> ImportReport:
    """See `identity_import.run_import` (`how`: now, actor, audit_actor, progress, on_bad)."""
    return identity_import.run_import(SQLiteSteps, store, path, options, **how)
