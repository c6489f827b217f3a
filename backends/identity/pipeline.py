"""The import pipeline, without its store: a file from one source system -> rows ->
source records (or events) in batches -> a store's `ImportTarget`, which writes each batch
in its own transaction (or, `strict`, all of them in one) and resolves it.

Streamed (bounded memory); a bad row is skipped and reported, or (`strict`) aborts the
import with nothing written.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from backends.base import InvalidInput
from backends.identity import events as ev
from backends.identity import fitting
from backends.identity.config import MatchConfig, apply_config
from backends.identity.events import IncomingEvent
from backends.identity.features import CANONICAL_FIELDS
from backends.identity.mapping import EVENT_FIELDS, Mapping
from backends.identity.phones import check_region
from backends.identity.prepare import Plan, Workers, prepared, workers_for
from backends.identity.readers import check_encoding, detect_format, open_input, read_rows
from backends.identity.resolve import BatchResult, Incoming
from backends.imports import check_source

MAX_BAD_KEPT = 1000
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

    def counts(self) -> dict[str, Any]:
        """What the audit trail keeps of an import: its counts (not its bad rows or time)."""
        out = self.to_json()
        out.pop("bad_rows", None)
        out.pop("seconds", None)
        return out

    def add(self, r: BatchResult) -> None:
        """Count a resolved batch of source records."""
        self.created += r.created
        self.updated += r.updated
        self.unchanged += r.unchanged
        self.customers_created += r.customers_created
        self.auto_merges += r.auto_merges
        self.suggestions += r.suggestions


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


@dataclass
class Setup:
    """An import's checked options: the file, its format and encoding, the settings."""

    path: Path
    fmt: str
    cfg: MatchConfig
    region: str
    encoding: str
    report: ImportReport
    total: int  # the file's size in bytes (0: not a regular file)


def setup(path: str | Path, options: ImportOptions, stored: MatchConfig) -> Setup:
    """Check an import's options against `stored` (the settings kept in the store, applied
    to the options'); the mapping's `[identity]` settings apply on top.

    Raises:
        InvalidInput: a bad source name, kind, format, region or encoding.
    """
    p = Path(path).expanduser()
    source = check_source(options.source)
    if options.kind not in ("customers", "events"):
        raise InvalidInput(f"unknown --kind {options.kind!r}; use customers or events")
    fmt = detect_format(p, options.fmt)
    cfg = apply_config(stored, options.mapping.identity) if options.mapping.identity else stored
    region = check_region(options.mapping.default_region or options.default_region or "IT")
    encoding = check_encoding(options.encoding or options.mapping.encoding)
    total = p.stat().st_size if p.is_file() else 0
    return Setup(p, fmt, cfg, region, encoding, ImportReport(source, options.kind), total)


class ImportTarget(Protocol):
    """A store's side of an import: each call writes in a transaction of the store's."""

    def start(self, report: ImportReport, path: str) -> Callable[[str], bool]:
        """Record the import (`report.import_id`); returns whether a source id is held
        (an erased person's record: never imported again silently)."""
        ...

    #: Whether the store's match model is trained, and its records, read by `start`
    #: (an untrained store's first batch ends where it can be: `fitting.first_batch`).
    trained: bool
    records: int

    def customers(self, batch: list[Incoming], report: ImportReport, workers: Any) -> None:
        """Store and resolve a batch of source records; count it in `report`."""
        ...

    def events(self, batch: list[IncomingEvent], report: ImportReport) -> list[tuple[int, str]]:
        """Store a batch of events; count it in `report`. Returns (line, reason) of those
        no customer was found for."""
        ...

    def finish(self, report: ImportReport) -> None:
        """Close the import: counts kept, audit entry, model trained when due."""
        ...


def run(
    target: ImportTarget,
    s: Setup,
    options: ImportOptions,
    now: int,
    progress: Callable[[int, int], None] | None = None,
    on_bad: Callable[[int, str], None] | None = None,
) -> None:
    """Read the file `s` names and write it through `target` in batches.

    Raises:
        InvalidInput: unreadable file; with `strict`, the first bad row.
    """
    raw = open_input(s.path)
    collecting = gc.isenabled()
    gc.disable()  # batches hold many small objects and make no cycles: no collector passes
    try:
        _run(
            target,
            raw,
            s.fmt,
            options,
            s.cfg,
            s.region,
            s.encoding,
            now,
            s.report,
            s.total,
            progress,
            on_bad,
        )
    finally:
        raw.close()
        if collecting:
            gc.enable()


def _run(
    target: ImportTarget,
    raw: Any,
    fmt: str,
    options: ImportOptions,
    cfg: MatchConfig,
    region: str,
    encoding: str,
    now: int,
    report: ImportReport,
    total: int,
    progress: Callable[[int, int], None] | None,
    on_bad: Callable[[int, str], None] | None,
) -> None:
    source = report.source
    known = CANONICAL_FIELDS if options.kind == "customers" else EVENT_FIELDS
    held = target.start(report, str(getattr(raw, "name", "")))
    pool: Workers | None = None
    batch: list[Any] = []
    limit = fitting.first_batch(
        cfg, options.kind, target.trained, target.records, options.batch_size
    )

    def bad(line: int, reason: str) -> None:
        if options.strict:
            raise InvalidInput(f"line {line}: {reason} (--strict: nothing imported)")
        report.skipped += 1
        if len(report.bad) < MAX_BAD_KEPT:
            report.bad.append((line, reason))
        if on_bad is not None:
            on_bad(line, reason)

    def flush() -> None:
        if options.kind == "customers":
            target.customers(batch, report, pool)
        else:
            for line, reason in target.events(batch, report):
                bad(line, reason)

    try:
        if options.kind == "customers":
            plan = Plan(source, options.mapping, options.id_column, region, now, cfg, encoding)
            count = (
                options.workers
                if options.workers is not None
                else workers_for(total, PARALLEL_BYTES)
            )
            pool = Workers(count, plan) if count > 0 else None
            for item in prepared(plan, raw, fmt, pool, options.batch_size):
                report.rows += 1
                if isinstance(item, tuple):
                    bad(*item)
                    continue
                if held(item.source_id):
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
                if len(batch) >= limit:
                    flush()
                    batch = []
                    limit = options.batch_size
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
                    flush()
                    batch = []
                    if progress is not None:
                        progress(_position(raw), total)
        if batch:
            flush()
            batch = []
    finally:
        if pool is not None:
            pool.close()
    target.finish(report)
    if progress is not None:
        progress(total, total)


def _position(raw: Any) -> int:
    try:
        return int(raw.tell())
    except (OSError, ValueError):
        return 0
