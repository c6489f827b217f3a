"""The import pipeline on a PostgreSQL store: `backends.identity_import` runs it, through
`PgSteps`: each batch one transaction, or a savepoint in the strict import's. A batch
that lost a race with another import (`Retry`, a deadlock between their locks) is rolled
back and run again: up to `ATTEMPTS` times."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg.errors

from backends import identity_import
from backends.base import Conflict
from backends.identity.config import MatchConfig
from backends.identity.jsontext import dumps
from backends.identity.pipeline import ImportOptions, ImportReport
from backends.postgres.identity.resolver import PgResolver
from backends.postgres.identity.settings import database_config
from backends.postgres.store import PgStore

#: How many times a batch runs before a lost race is reported as a Conflict.
ATTEMPTS = 8
T = TypeVar("T")


class PgSteps(identity_import.ImportSteps):
    """`identity_import.ImportSteps` on a PostgreSQL store."""

    package = "backends.postgres"

    @classmethod
    def stored_config(cls, store: PgStore, base: MatchConfig) -> MatchConfig:
        with store.read() as db:
            return database_config(db, base)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self.db is None:
            with self.store.write() as conn:
                yield conn
        else:
            with self.db.transaction():
                yield self.db

    def write(self, fn: Callable[[Any], T]) -> T:
        """`fn(conn)` in a transaction, again after a lost race (up to ATTEMPTS times)."""
        for attempt in range(ATTEMPTS):
            try:
                with self._transaction() as conn:
                    return fn(conn)
            except (Conflict, psycopg.errors.DeadlockDetected):
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def begin(self, conn: Any, report: ImportReport, path: str, now: int) -> int:
        return int(
            conn.execute(
                "INSERT INTO imports(source, kind, path, started_at) VALUES (%s,%s,%s,%s) "
                "RETURNING id",
                (report.source, report.kind, path, now),
            ).fetchone()[0]
        )

    def end(self, conn: Any, report: ImportReport, now: int) -> None:
        conn.execute(
            "UPDATE imports SET finished_at = %s, counts = %s WHERE id = %s",
            (now, dumps(report.to_json()), report.import_id),
        )

    def resolver(self, conn: Any, cfg: MatchConfig, now: int, actor: str) -> PgResolver:
        return PgResolver(conn, cfg, now, actor)


def run_import(
    store: PgStore, path: str | Path, options: ImportOptions, **how: Any
) -> ImportReport:
    """See `identity_import.run_import` (`how`: now, actor, audit_actor, progress, on_bad)."""
    return identity_import.run_import(PgSteps, store, path, options, **how)
