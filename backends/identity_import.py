"""An import's writes, the same for every store: `backends.identity.pipeline` reads the
file, `StoreImport` writes its batches through a store's `ImportSteps`.

Without `strict`, each batch is one transaction: an interrupted import leaves the store
consistent, and running it again finishes it (records are upserted by source and source
id). With `strict`, the whole file is one transaction and the first bad row aborts it
with nothing written. A store's steps say how a transaction is run (PostgreSQL runs a
batch that lost a race with another import again) and hold its few statements; its
identity modules (`identity.model_store`, `identity.relink`, `identity.settings`,
`identity.events`, `gdpr`, `audit`) are found by package. No SQL here.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from backends.audit_chain import Actor
from backends.identity import pipeline
from backends.identity.config import MatchConfig
from backends.identity.events import IncomingEvent
from backends.identity.pipeline import ImportOptions, ImportReport
from backends.identity.resolve import BatchResult, Incoming
from backends.models import Origin
from backends.personal_data import record_digest

T = TypeVar("T")


class ImportSteps:
    """A store's side of an import, on `store` (in `db`'s transaction when strict)."""

    package = ""  # the store's package, e.g. "backends.sqlite"

    def __init__(self, store: Any, db: Any) -> None:
        self.store, self.db = store, db

    def module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.{name}")

    @classmethod
    def stored_config(cls, store: Any, base: MatchConfig) -> MatchConfig:
        """The settings kept in the store, applied to `base` (before the import starts)."""
        raise NotImplementedError

    def write(self, fn: Callable[[Any], T]) -> T:
        """`fn(connection)` in a transaction of its own, or in the strict import's."""
        raise NotImplementedError

    def begin(self, conn: Any, report: ImportReport, path: str, now: int) -> int:
        """Record an import starting; its id."""
        raise NotImplementedError

    def end(self, conn: Any, report: ImportReport, now: int) -> None:
        """Record an import finished, with its counts."""
        raise NotImplementedError

    def resolver(self, conn: Any, cfg: MatchConfig, now: int, actor: str) -> Any:
        """The store's resolver of source record batches (`add_batch`, `model`, `db`)."""
        raise NotImplementedError


def run_import(
    steps: type[ImportSteps],
    store: Any,
    path: str | Path,
    options: ImportOptions,
    *,
    now: int | None = None,
    actor: str = "import",
    audit_actor: Actor | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_bad: Callable[[int, str], None] | None = None,
) -> ImportReport:
    """Import one file. `progress(bytes_done, bytes_total)`; `on_bad(line, reason)` per bad row.
    The audit trail gets one entry with the counts, as `audit_actor` (default: `actor`).

    Raises:
        InvalidInput: unreadable file or mapping; with `strict`, the first bad row.
        Unavailable: the store cannot be written.
        Conflict: a batch kept losing races with other writers.
    """
    started = time.perf_counter()
    # the settings kept in this database, then this mapping's (kept too, for what comes later)
    s = pipeline.setup(path, options, steps.stored_config(store, options.config))
    now = int(time.time()) if now is None else now
    who = audit_actor or Actor(actor, origin=Origin.IMPORT.value)
    if options.strict:  # all or nothing: one transaction for the whole file
        with store.write() as db:
            target = StoreImport(steps(store, db), options, s.cfg, now, actor, who)
            pipeline.run(target, s, options, now, progress, on_bad)
    else:
        target = StoreImport(steps(store, None), options, s.cfg, now, actor, who)
        pipeline.run(target, s, options, now, progress, on_bad)
    s.report.seconds = time.perf_counter() - started
    return s.report


class StoreImport:
    """`pipeline.ImportTarget` over a store's `ImportSteps`."""

    def __init__(
        self,
        steps: ImportSteps,
        options: ImportOptions,
        cfg: MatchConfig,
        now: int,
        actor: str,
        who: Actor,
    ) -> None:
        self.steps, self.options, self.cfg = steps, options, cfg
        self.now, self.actor, self.who = now, actor, who
        self.trained, self.records = True, 0  # the store's model, read when the import starts
        self.resolver: Any = None
        self.models = steps.module("identity.model_store")
        self.relink = steps.module("identity.relink").relink

    def start(self, report: ImportReport, path: str) -> Callable[[str], bool]:
        steps = self.steps

        def start(conn: Any) -> set[str]:
            report.import_id = steps.begin(conn, report, path, self.now)
            if self.options.mapping.identity:
                steps.module("identity.settings").save_settings(conn, self.options.mapping.identity)
            found: set[str] = steps.module("gdpr").erased_digests(conn, report.source)
            self.trained = bool(self.models.load_model(conn).version)
            self.records = self.models.record_count(conn)
            return found

        held = steps.write(start)
        source = report.source
        return lambda sid: bool(held) and record_digest(source, sid) in held

    def customers(self, batch: list[Incoming], report: ImportReport, workers: Any) -> None:
        def flush(conn: Any) -> BatchResult:
            cfg = self.cfg
            if self.resolver is None:
                self.resolver = self.steps.resolver(conn, cfg, self.now, self.actor)
                self.resolver.workers = workers
            resolver = self.resolver
            resolver.db = conn
            counted: BatchResult = resolver.add_batch(list(batch), report.import_id)
            if cfg.matcher == "model" and self.models.needs_training(conn, cfg):
                resolver.model = self.models.train_model(conn, cfg, self.now)  # the rest uses it
                counted.auto_merges += self.relink(conn, cfg, resolver.model, self.now, self.actor)
            return counted

        report.add(self.steps.write(flush))  # counted once its transaction committed

    def events(self, batch: list[IncomingEvent], report: ImportReport) -> list[tuple[int, str]]:
        write_events = self.steps.module("identity.events").write_events

        def flush(conn: Any) -> tuple[int, int, list[tuple[int, str]]]:
            found: tuple[int, int, list[tuple[int, str]]] = write_events(
                conn, report.source, batch, self.now
            )
            return found

        created, updated, unattached = self.steps.write(flush)
        report.created += created
        report.updated += updated
        return unattached

    def finish(self, report: ImportReport) -> None:
        def finish(conn: Any) -> None:
            cfg = self.cfg
            model_due = cfg.matcher == "model" and report.kind == "customers"
            if model_due and self.models.needs_training(conn, cfg):
                model = self.models.train_model(conn, cfg, self.now)  # for the imports to come
                report.auto_merges += self.relink(conn, cfg, model, self.now, self.actor)
            self.steps.end(conn, report, self.now)
            self.steps.module("audit").record(
                conn,
                self.who,
                self.now,
                "import",
                "import",
                report.import_id,
                detail=report.counts(),
            )

        self.steps.write(finish)
