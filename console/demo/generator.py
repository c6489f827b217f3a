"""The demo generator: deterministic (seed + `now`), streamed in batches, bounded memory.

People come from `people.People`, made inline or by a second process (`producer`) on a
machine with a second core; that side also writes their events to a staging file
(`bulk_load.Stage`). Their source records go through identity resolution like real imports; the
customers it makes get each person's profile extras, orders and contacts here, and the
events are copied across at the end, re-pointed where resolution put a person elsewhere.

The database is built in a temporary file beside the target, as one bulk load
(`backends.sqlite.bulk_load`, which holds every statement: some indexes and the KPI
rollup rebuilt set-wise at the end), flushed to disk and moved into place only when
complete, so an interrupted run leaves nothing half-written and a file under the target
name is always a whole database.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backends.base import InvalidInput
from backends.identity.config import MatchConfig
from backends.models import utcnow
from backends.sqlite import bulk_load
from backends.sqlite.identity.resolver import Resolver
from backends.sqlite.store import Store
from console.demo import vocab
from console.demo.people import Batch
from console.demo.producer import Background, batches

#: Bump when the output changes: benchmark databases are cached by it. (5: the same rows as
#: 4 for a seed and a clock, bulk-built, so the file's layout differs; 6: customers without
#: orders no longer ask about "order —".)
GENERATOR_VERSION = "7"

#: SQLite page cache while building (KiB): the indexes identity resolution probes at random
#: (identifiers, blocking keys, search) stay in memory up to a million customers.
BUILD_CACHE_KIB = 1_000_000
#: From this many customers, people are made by a second process (when there is a core for it).
PARALLEL_FROM = 20_000


@dataclass
class DemoSummary:
    path: Path
    customers: int = 0
    source_records: int = 0
    events: int = 0
    contacts: int = 0
    open_contacts: int = 0
    messages: int = 0
    seconds: float = 0.0


@contextmanager
def few_collections() -> Iterator[None]:
    """Rarer cyclic garbage collections while batches of small tuples come and go (they make
    no cycles; collecting every 700 allocations cost a third of decoding a batch)."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _write(db: Any, b: Batch, resolver: Resolver) -> None:
    """Write one batch the way real data arrives: source records through identity resolution
    (which makes the golden customers), then each person's extra profile columns, orders
    and contacts attached to the customer their records resolved to. People whose records
    went elsewhere are noted, for their staged events."""
    first_new = bulk_load.last_record_id(db)
    resolver.add_batch(b.items)
    resolved = bulk_load.records_after(db, first_new)
    record_map: dict[int, tuple[int, int]] = {}  # generator record id -> (record id, customer)
    person_customer: dict[int, int] = {}
    moved: set[int] = set()  # people with a record stored under another id or customer
    for rid, source, source_id, cid in b.records:
        new_rid, customer = resolved[(source, source_id)]
        record_map[rid] = (new_rid, customer)
        person_customer.setdefault(cid, customer)
        if new_rid != rid or customer != cid:
            moved.add(cid)
    # consents come with the source records; lifetime value and churn risk are not written:
    # the build computes them from orders, refunds, contacts and surveys at the end
    # (bulk_load.finish_build)
    profiles = [
        (c[8], c[9], c[13], c[14], c[16], c[18], c[19], person_customer[c[0]]) for c in b.customers
    ]
    orders, contacts = b.orders, b.contacts
    if moved:  # rows are keyed by person and generator record id: re-point those that moved
        orders, contacts = _repoint(b, moved, record_map, person_customer)
        bulk_load.note_moved(
            db,
            [(cid, person_customer[cid]) for cid in sorted(moved)],
            [(rid, *record_map[rid]) for rid, _s, _i, cid in b.records if cid in moved],
        )
    bulk_load.write_extras(db, profiles, orders, contacts, b.messages)


def _repoint(
    b: Batch,
    moved: set[int],
    record_map: dict[int, tuple[int, int]],
    person_customer: dict[int, int],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Orders and contacts of `moved` people, attached where their records went: to the
    customer of the record their event came through, else to the person's first record's."""

    def owner(cid: int, rid: int | None) -> int:
        return record_map[rid][1] if rid is not None and rid in record_map else person_customer[cid]

    orders = [
        o if o[1] not in moved else (o[0], owner(o[1], rid), *o[2:])
        for o, rid in zip(b.orders, b.order_records, strict=True)
    ]
    contacts = [
        c if c[1] not in moved else (c[0], owner(c[1], rid), *c[2:])
        for c, rid in zip(b.contacts, b.contact_records, strict=True)
    ]
    return orders, contacts


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def generate(
    path: str | Path,
    customers: int = 5000,
    *,
    seed: int = 42,
    now: datetime | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 2000,
    parallel: bool | None = None,
) -> DemoSummary:
    """Write a new demo database at `path` with `customers` people.

    Args:
        progress: called with the number of customers written so far.
        force: replace an existing file (otherwise InvalidInput).
        parallel: make people in a second process (default: from PARALLEL_FROM customers,
            when the machine has more than one core). The data is the same either way.
    Raises:
        InvalidInput: bad arguments, or the file exists without `force`.
        Unavailable: the file cannot be written.
    """
    if customers < 1:
        raise InvalidInput("--customers must be at least 1")
    target = Path(path).expanduser()
    if target.exists() and not force:
        raise InvalidInput(f"{target} already exists; pass --force to replace it")
    started = time.perf_counter()
    now_ts = int((now or utcnow()).timestamp())
    tmp = target.with_name(target.name + ".building")
    if parallel is None:
        parallel = customers >= PARALLEL_FROM and (os.cpu_count() or 1) > 1
    with few_collections():
        counts = _build(tmp, customers, seed, now_ts, progress, batch_size, parallel)
    os.replace(tmp, target)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    _fsync(target.parent)
    return DemoSummary(
        target,
        customers,
        counts.get("records", 0),
        counts.get("events", 0),
        counts.get("contacts", 0),
        counts.get("open", 0),
        counts.get("messages", 0),
        time.perf_counter() - started,
    )


def _build(
    tmp: Path,
    customers: int,
    seed: int,
    now_ts: int,
    progress: Callable[[int], None] | None,
    batch_size: int,
    parallel: bool,
) -> dict[str, int]:
    """Build the whole database in `tmp` and flush it to disk; on any failure remove it.
    Returns the generator's counts."""
    stage = bulk_load.stage_path(tmp)
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
        leftover.unlink(missing_ok=True)
    bulk_load.remove_stage(stage)
    store = Store(tmp, create=True)
    source: Background | None = None
    inline: Generator[Batch, None, None] | None = None
    counts: dict[str, int] = {}
    try:
        db = store.conn
        bulk_load.start_build(db, BUILD_CACHE_KIB)
        bulk_load.create_stage(stage, db)
        people: Iterator[Batch]
        if parallel:
            source = Background(seed, now_ts, customers, batch_size, stage)
            people = iter(source)
        else:
            people = inline = batches(seed, now_ts, customers, batch_size, stage)
        upkeep = bulk_load.DeferredUpkeep(db)
        with store.write() as w:
            bulk_load.seed_staff(w, vocab.AGENTS, vocab.TEMPLATES, now_ts)
            upkeep.suspend()
            bulk_load.begin_repoints(w)
            resolver = Resolver(w, MatchConfig(), now_ts, actor="demo", spare_ids_from=customers)
            for b in people:
                _write(w, b, resolver)
                counts = b.counts
                if progress is not None:
                    progress(b.first + b.size - 1)
        if source is not None:
            source.close()
        bulk_load.finish_build(store, stage, upkeep, now_ts)
        store.close()
        _fsync(tmp)
    except BaseException:
        store.close()
        if source is not None:
            source.close()
        if inline is not None:
            inline.close()  # lets it close its staging file
        bulk_load.remove_stage(stage)
        tmp.unlink(missing_ok=True)
        raise
    bulk_load.remove_stage(stage)
    return counts
