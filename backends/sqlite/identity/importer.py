"""The import pipeline on the SQLite store: `backends.identity.pipeline` reads the file,
`SQLiteImport` writes its batches.

Without `strict`, each batch is one transaction: an interrupted import leaves the
store consistent, and running it again finishes it (records are upserted by source and
source id). With `strict`, the whole file is one transaction and the first bad row
aborts it with nothing written.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backends.identity import pipeline
from backends.identity.config import MatchConfig
from backends.identity.events import IncomingEvent
from backends.identity.jsontext import dumps
from backends.identity.pipeline import MAX_BAD_KEPT, PARALLEL_BYTES, ImportOptions, ImportReport
from backends.identity.resolve import Incoming
from backends.sqlite import audit, gdpr
from backends.sqlite.identity import events as event_store
from backends.sqlite.identity.model_store import (
    load_model,
    needs_training,
    record_count,
    train_model,
)
from backends.sqlite.identity.relink import relink
from backends.sqlite.identity.resolver import Resolver
from backends.sqlite.identity.settings import database_config, save_settings
from backends.sqlite.store import Store

__all__ = [
    "MAX_BAD_KEPT",
    "PARALLEL_BYTES",
    "ImportOptions",
    "ImportReport",
    "SQLiteImport",
    "run_import",
]

IMPORT_CACHE_KIB = 65536  # SQLite page cache of the importing connection (64 MiB)


def run_import(
    store: Store,
    path: str | Path,
    options: ImportOptions,
    *,
    now: int | None = None,
    actor: str = "import",
    audit_actor: audit.Actor | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_bad: Callable[[int, str], None] | None = None,
) -> ImportReport:
    """Import one file. `progress(bytes_done, bytes_total)`; `on_bad(line, reason)` per bad row.
    The audit trail gets one entry with the counts, as `audit_actor` (default: `actor`).

    Raises:
        InvalidInput: unreadable file or mapping; with `strict`, the first bad row.
        Unavailable: the store cannot be written.
    """
    started = time.perf_counter()
    # the settings kept in this database, then this mapping's (kept too, for what comes later)
    s = pipeline.setup(path, options, database_config(store.conn, options.config))
    now = int(time.time()) if now is None else now
    try:  # a bulk load walks big indexes: give this connection a larger page cache
        store.conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    except sqlite3.Error:
        pass
    who = audit_actor or audit.Actor(actor, origin="import")
    if options.strict:  # all or nothing: one transaction for the whole file
        with store.write() as db:
            target = SQLiteImport(store, db, options, s.cfg, now, actor, who)
            pipeline.run(target, s, options, now, progress, on_bad)
    else:
        target = SQLiteImport(store, None, options, s.cfg, now, actor, who)
        pipeline.run(target, s, options, now, progress, on_bad)
    s.report.seconds = time.perf_counter() - started
    return s.report


class SQLiteImport:
    """`pipeline.ImportTarget` on a SQLite store: each call one write transaction, or all
    of them in `db`'s (strict)."""

    def __init__(
        self,
        store: Store,
        db: sqlite3.Connection | None,
        options: ImportOptions,
        cfg: MatchConfig,
        now: int,
        actor: str,
        who: audit.Actor,
    ) -> None:
        self.store, self.db, self.options, self.cfg = store, db, options, cfg
        self.now, self.actor, self.who = now, actor, who
        self.trained, self.records = True, 0  # the store's model, read when the import starts
        self.resolver: Resolver | None = None

    def _write(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        if self.db is not None:
            return fn(self.db)
        with self.store.write() as conn:
            return fn(conn)

    def start(self, report: ImportReport, path: str) -> Callable[[str], bool]:
        held: set[str] = set()

        def start(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "INSERT INTO imports(source, kind, path, started_at) VALUES (?,?,?,?)",
                (report.source, report.kind, path, self.now),
            )
            report.import_id = int(cur.lastrowid or 0)
            if self.options.mapping.identity:
                save_settings(conn, self.options.mapping.identity)
            held.update(gdpr.erased_digests(conn, report.source))
            self.trained, self.records = bool(load_model(conn).version), record_count(conn)

        self._write(start)
        source = report.source
        return lambda sid: bool(held) and gdpr.record_digest(source, sid) in held

    def customers(self, batch: list[Incoming], report: ImportReport, workers: Any) -> None:
        def flush(conn: sqlite3.Connection) -> None:
            cfg = self.cfg
            if self.resolver is None:
                self.resolver = Resolver(conn, cfg, self.now, self.actor)
                self.resolver.workers = workers
            resolver = self.resolver
            resolver.db = conn
            report.add(resolver.add_batch(batch, report.import_id))
            if cfg.matcher == "model" and needs_training(conn, cfg):
                resolver.model = train_model(conn, cfg, self.now)  # the rest resolves with it
                report.auto_merges += relink(conn, cfg, resolver.model, self.now, self.actor)

        self._write(flush)

    def events(self, batch: list[IncomingEvent], report: ImportReport) -> list[tuple[int, str]]:
        def flush(conn: sqlite3.Connection) -> list[tuple[int, str]]:
            created, updated, unattached = event_store.write_events(
                conn, report.source, batch, self.now
            )
            report.created += created
            report.updated += updated
            return unattached

        result: list[tuple[int, str]] = self._write(flush)
        return result

    def finish(self, report: ImportReport) -> None:
        def finish(conn: sqlite3.Connection) -> None:
            cfg = self.cfg
            if report.kind == "customers" and cfg.matcher == "model" and needs_training(conn, cfg):
                model = train_model(conn, cfg, self.now)  # for the imports that follow
                report.auto_merges += relink(conn, cfg, model, self.now, self.actor)
            conn.execute(
                "UPDATE imports SET finished_at = ?, counts = ? WHERE id = ?",
                (self.now, dumps(report.to_json()), report.import_id),
            )
            counts = report.counts()
            audit.record(
                conn, self.who, self.now, "import", "import", report.import_id, detail=counts
            )

        self._write(finish)
