"""The import pipeline on a PostgreSQL store: `backends.identity.pipeline` reads the file,
`PgImport` writes its batches.

Without `strict`, each batch is one transaction (an interrupted import leaves the store
consistent; running it again finishes it); with `strict`, the whole file is one. A batch
that lost a race with another import (`Retry`, a deadlock between their locks) is rolled
back and run again: up to `ATTEMPTS` times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg.errors

from backends.audit_chain import Actor
from backends.base import Conflict
from backends.identity import pipeline
from backends.identity.config import MatchConfig
from backends.identity.events import IncomingEvent
from backends.identity.jsontext import dumps
from backends.identity.pipeline import ImportOptions, ImportReport
from backends.identity.resolve import BatchResult, Incoming
from backends.models import Origin
from backends.personal_data import record_digest
from backends.postgres import audit, gdpr
from backends.postgres.identity import events as event_store
from backends.postgres.identity.model_store import (
    load_model,
    needs_training,
    record_count,
    train_model,
)
from backends.postgres.identity.relink import relink
from backends.postgres.identity.resolver import PgResolver
from backends.postgres.identity.settings import database_config, save_settings
from backends.postgres.store import PgStore

#: How many times a batch runs before a lost race is reported as a Conflict.
ATTEMPTS = 8


def run_import(
    store: PgStore,
    path: str | Path,
    options: ImportOptions,
    *,
    now: int | None = None,
    actor: str = "import",
    audit_actor: Actor | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_bad: Callable[[int, str], None] | None = None,
) -> ImportReport:
    """Import one file (see `Backend.import_file`); the audit trail gets one entry with the
    counts, as `audit_actor` (default: `actor`).

    Raises:
        InvalidInput: unreadable file or mapping; with `strict`, the first bad row.
        Conflict: a batch kept losing races with other writers.
        Unavailable: the store cannot be written.
    """
    started = time.perf_counter()
    with store.read() as db:  # the settings kept in the database, then the mapping's
        s = pipeline.setup(path, options, database_config(db, options.config))
    now = int(time.time()) if now is None else now
    who = audit_actor or Actor(actor, origin=Origin.IMPORT.value)
    if options.strict:  # all or nothing: one transaction for the whole file
        with store.write() as db:
            target = PgImport(store, db, options, s.cfg, now, actor, who)
            pipeline.run(target, s, options, now, progress, on_bad)
    else:
        target = PgImport(store, None, options, s.cfg, now, actor, who)
        pipeline.run(target, s, options, now, progress, on_bad)
    s.report.seconds = time.perf_counter() - started
    return s.report


class PgImport:
    """`pipeline.ImportTarget` on a PostgreSQL store: each call one transaction, or a
    savepoint in `db`'s (strict)."""

    def __init__(
        self,
        store: PgStore,
        db: Any,
        options: ImportOptions,
        cfg: MatchConfig,
        now: int,
        actor: str,
        who: Actor,
    ) -> None:
        self.store, self.db, self.options, self.cfg = store, db, options, cfg
        self.now, self.actor, self.who = now, actor, who
        self.trained, self.records = True, 0  # the store's model, read when the import starts
        self.resolver: PgResolver | None = None

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self.db is None:
            with self.store.write() as conn:
                yield conn
        else:
            with self.db.transaction():
                yield self.db

    def _write(self, fn: Callable[[Any], Any]) -> Any:
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

    def start(self, report: ImportReport, path: str) -> Callable[[str], bool]:
        def start(conn: Any) -> None:
            report.import_id = int(
                conn.execute(
                    "INSERT INTO imports(source, kind, path, started_at) VALUES (%s,%s,%s,%s) "
                    "RETURNING id",
                    (report.source, report.kind, path, self.now),
                ).fetchone()[0]
            )
            if self.options.mapping.identity:
                save_settings(conn, self.options.mapping.identity)
            held.update(gdpr.erased_digests(conn, report.source))
            self.trained, self.records = bool(load_model(conn).version), record_count(conn)

        held: set[str] = set()
        self._write(start)
        source = report.source
        return lambda sid: bool(held) and record_digest(source, sid) in held

    def customers(self, batch: list[Incoming], report: ImportReport, workers: Any) -> None:
        def flush(conn: Any) -> BatchResult:
            cfg = self.cfg
            if self.resolver is None:
                self.resolver = PgResolver(conn, cfg, self.now, self.actor)
                self.resolver.workers = workers
            resolver = self.resolver
            resolver.db = conn
            counted = resolver.add_batch(list(batch), report.import_id)
            if cfg.matcher == "model" and needs_training(conn, cfg):
                resolver.model = train_model(conn, cfg, self.now)  # the rest resolves with it
                counted.auto_merges += relink(conn, cfg, resolver.model, self.now, self.actor)
            return counted

        report.add(self._write(flush))

    def events(self, batch: list[IncomingEvent], report: ImportReport) -> list[tuple[int, str]]:
        def flush(conn: Any) -> tuple[int, int, list[tuple[int, str]]]:
            return event_store.write_events(conn, report.source, batch, self.now)

        created, updated, unattached = self._write(flush)
        report.created += created
        report.updated += updated
        return unattached

    def finish(self, report: ImportReport) -> None:
        def finish(conn: Any) -> None:
            cfg = self.cfg
            if report.kind == "customers" and cfg.matcher == "model" and needs_training(conn, cfg):
                model = train_model(conn, cfg, self.now)  # for the imports that follow
                report.auto_merges += relink(conn, cfg, model, self.now, self.actor)
            conn.execute(
                "UPDATE imports SET finished_at = %s, counts = %s WHERE id = %s",
                (self.now, dumps(report.to_json()), report.import_id),
            )
            audit.record(
                conn,
                self.who,
                self.now,
                "import",
                "import",
                report.import_id,
                detail=report.counts(),
            )

        self._write(finish)
