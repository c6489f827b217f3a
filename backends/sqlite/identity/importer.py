"""The import pipeline: a file from one source system -> source records -> resolved customers.

Streamed in batches (bounded memory). Without `strict`, each batch is one
transaction: an interrupted import leaves the store consistent, and running it
again finishes it (records are upserted by source and source id). With
`strict`, the whole file is one transaction and the first bad row aborts it
with nothing written.
"""

from __future__ import annotations

import gc
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.base import InvalidInput
from backends.identity import events as ev
from backends.identity.config import MatchConfig, apply_config
from backends.identity.features import CANONICAL_FIELDS
from backends.identity.mapping import EVENT_FIELDS, Mapping
from backends.identity.phones import check_region
from backends.identity.prepare import Plan, Workers, prepared, workers_for
from backends.identity.readers import check_encoding, detect_format, open_input, read_rows
from backends.imports import check_source
from backends.sqlite import audit, gdpr
from backends.sqlite.identity import events as event_store
from backends.sqlite.identity.model_store import (
    load_model,
    needs_training,
    record_count,
    train_model,
)
from backends.sqlite.identity.relink import relink
from backends.sqlite.identity.resolver import Incoming, Resolver
from backends.sqlite.identity.settings import database_config, save_settings
from backends.sqlite.identity.store import dumps
from backends.sqlite.store import Store

MAX_BAD_KEPT = 1000
IMPORT_CACHE_KIB = 65536  # SQLite page cache of the importing connection (64 MiB)
PARALLEL_BYTES = 1 << 20  # files from this size on are prepared by worker processes


@dataclass
class ImportReport:
    """What an import did."""

    source: str
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    customers_created: int = 0
    auto_merges: int = 0
    suggestions: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    import_id: int = 0
    held: int = 0  # rows of erased people's source records, not imported (see gdpr.py)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "bad"}
        out["bad_rows"] = [{"line": line, "reason": reason} for line, reason in self.bad]
        out["seconds"] = round(self.seconds, 3)
        return out


@dataclass
class ImportOptions:
    source: str
    kind: str = "customers"
    fmt: str | None = None
    mapping: Mapping = field(default_factory=Mapping)
    id_column: str | None = None
    default_region: str = "IT"
    strict: bool = False
    encoding: str | None = None  # the file's text encoding (else the mapping's, else UTF-8)
    batch_size: int = 10_000
    config: MatchConfig = field(default_factory=MatchConfig)
    workers: int | None = None  # processes preparing rows (None: by file size; 0: inline)


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
    p = Path(path).expanduser()
    source = check_source(options.source)
    if options.kind not in ("customers", "events"):
        raise InvalidInput(f"unknown --kind {options.kind!r}; use customers or events")
    fmt = detect_format(p, options.fmt)
    # the settings kept in this database, then this mapping's (kept too, for what comes later)
    cfg = database_config(store.conn, options.config)
    if options.mapping.identity:
        cfg = apply_config(cfg, options.mapping.identity)
    region = check_region(options.mapping.default_region or options.default_region or "IT")
    encoding = check_encoding(options.encoding or options.mapping.encoding)
    now = int(time.time()) if now is None else now
    report = ImportReport(source, options.kind)
    total = p.stat().st_size if p.is_file() else 0
    raw = open_input(p)
    try:  # a bulk load walks big indexes: give this connection a larger page cache
        store.conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    except sqlite3.Error:
        pass
    collecting = gc.isenabled()
    gc.disable()  # batches hold many small objects and make no cycles: no collector passes
    try:
        who = audit_actor or audit.Actor(actor, origin="import")
        args = (raw, fmt, source, options, cfg, region, encoding, now, actor, who, report, total)
        if options.strict:  # all or nothing: one transaction for the whole file
            with store.write() as db:
                _run(db, *args, progress, on_bad, None)
        else:
            _run(None, *args, progress, on_bad, store)
    finally:
        raw.close()
        if collecting:
            gc.enable()
    report.seconds = time.perf_counter() - started
    return report


def _run(
    db: Any,
    raw: Any,
    fmt: str,
    source: str,
    options: ImportOptions,
    cfg: MatchConfig,
    region: str,
    encoding: str,
    now: int,
    actor: str,
    who: audit.Actor,
    report: ImportReport,
    total: int,
    progress: Callable[[int, int], None] | None,
    on_bad: Callable[[int, str], None] | None,
    store: Store | None,
) -> None:
    """Read, convert and write in batches (in `db`'s transaction, or one per batch on `store`)."""
    known = CANONICAL_FIELDS if options.kind == "customers" else EVENT_FIELDS

    def write(fn: Callable[[Any], None]) -> None:
        if db is not None:
            fn(db)
        else:
            assert store is not None
            with store.write() as conn:
                fn(conn)

    def start(conn: Any) -> None:
        cur = conn.execute(
            "INSERT INTO imports(source, kind, path, started_at) VALUES (?,?,?,?)",
            (source, options.kind, str(getattr(raw, "name", "")), now),
        )
        report.import_id = int(cur.lastrowid or 0)
        if options.mapping.identity:
            save_settings(conn, options.mapping.identity)
        held.update(gdpr.erased_digests(conn, source))
        if options.kind == "customers" and cfg.matcher == "model" and not load_model(conn).version:
            # an untrained store: the first batch ends where the model can be trained, so
            # the rest of the file resolves with weights learnt from it, not the defaults
            room = cfg.train_min_records - record_count(conn)
            if 0 < room < options.batch_size:
                first_batch.append(room)

    held: set[str] = set()
    first_batch: list[int] = []  # the size of the first batch, when smaller than usual

    write(start)
    resolver_box: list[Resolver] = []
    pool_box: list[Workers | None] = []
    batch: list[Any] = []

    def flush(conn: Any) -> None:
        if options.kind == "customers":
            if not resolver_box:
                resolver_box.append(Resolver(conn, cfg, now, actor))
                resolver_box[0].workers = pool_box[-1] if pool_box else None
            resolver = resolver_box[0]
            resolver.db = conn
            r = resolver.add_batch(batch, report.import_id)
            report.created += r.created
            report.updated += r.updated
            report.unchanged += r.unchanged
            report.customers_created += r.customers_created
            report.auto_merges += r.auto_merges
            report.suggestions += r.suggestions
            if cfg.matcher == "model" and needs_training(conn, cfg):
                resolver.model = train_model(conn, cfg, now)  # the rest resolves with it
                report.auto_merges += relink(conn, cfg, resolver.model, now, actor)
        else:
            created, updated, unattached = event_store.write_events(conn, source, batch, now)
            report.created += created
            report.updated += updated
            for line, reason in unattached:
                bad(line, reason)

    def bad(line: int, reason: str) -> None:
        if options.strict:
            raise InvalidInput(f"line {line}: {reason} (--strict: nothing imported)")
        report.skipped += 1
        if len(report.bad) < MAX_BAD_KEPT:
            report.bad.append((line, reason))
        if on_bad is not None:
            on_bad(line, reason)

    try:
        if options.kind == "customers":
            plan = Plan(source, options.mapping, options.id_column, region, now, cfg, encoding)
            count = (
                options.workers
                if options.workers is not None
                else workers_for(total, PARALLEL_BYTES)
            )
            pool_box.append(Workers(count, plan) if count > 0 else None)
            for item in prepared(plan, raw, fmt, pool_box[-1], options.batch_size):
                report.rows += 1
                if isinstance(item, tuple):
                    bad(*item)
                    continue
                if held and gdpr.record_digest(source, item.source_id) in held:
                    report.held += 1  # an erased person's record: never back silently
                    continue
                batch.append(
                    Incoming(
                        source,
                        item.source_id,
                        {},
                        item.features,
                        item.at,
                        fields_json=item.fields_json,
                        features_json=item.features_json,
                        probe=item.probe,
                        idents=item.idents,
                        blocks=item.blocks,
                    )
                )
                if len(batch) >= (first_batch[0] if first_batch else options.batch_size):
                    write(flush)
                    batch = []
                    first_batch.clear()
                    if progress is not None:
                        progress(_position(raw), total)
        else:
            for line, row, problem in read_rows(raw, fmt, encoding):
                report.rows += 1
                if row is None:
                    bad(line, problem)
                    continue
                sid, _column = options.mapping.source_id(row, options.id_column)
                canonical = options.mapping.apply(row, known)
                event, reason = ev.to_event(line, sid, canonical, row, region)
                if event is None:
                    bad(line, reason)
                    continue
                batch.append(event)
                if len(batch) >= options.batch_size:
                    write(flush)
                    batch = []
                    if progress is not None:
                        progress(_position(raw), total)
        if batch:
            write(flush)
            batch = []

    finally:
        for workers in pool_box:
            if workers is not None:
                workers.close()

    def finish(conn: Any) -> None:
        if options.kind == "customers" and cfg.matcher == "model" and needs_training(conn, cfg):
            model = train_model(conn, cfg, now)  # for the imports that follow
            report.auto_merges += relink(conn, cfg, model, now, actor)
        conn.execute(
            "UPDATE imports SET finished_at = ?, counts = ? WHERE id = ?",
            (now, dumps(report.to_json()), report.import_id),
        )
        counts = report.to_json()
        counts.pop("bad_rows", None)
        counts.pop("seconds", None)
        audit.record(conn, who, now, "import", "import", report.import_id, detail=counts)

    write(finish)
    if progress is not None:
        progress(total, total)


def _position(raw: Any) -> int:
    try:
        return int(raw.tell())
    except (OSError, ValueError):
        return 0
