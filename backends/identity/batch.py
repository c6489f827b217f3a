"""Writing a resolved batch (or a batch of events), the same on every store: its records with their customer,
their identifiers and keys, merges of existing customers (journaled), and the golden
profile and search row of every customer the batch touched; and rebuilding the golden
profile of existing customers from their records.

A new customer is inserted once, complete with its golden profile, and its records point
at it from the start. In a big import the profiles are computed by worker processes while
the records, identifiers and keys are written (the store lets records come before their
new customer). The flow lives here; a store hands in its `BatchRows`, set-based
statements in the caller's transaction. No SQL here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from backends import provenance as provenance_text
from backends.identity import review
from backends.identity.config import MatchConfig
from backends.identity.events import IncomingEvent
from backends.identity.features import Features, extract
from backends.identity.golden import GoldenRow, compute_golden, golden_jobs
from backends.identity.jsontext import dumps
from backends.identity.keys import identity_values
from backends.identity.resolve import Resolved, golden_members
from backends.identity.survivorship import Member

#: A stored record as a golden profile reads it: (record, customer, source, source id, at).
StoredMember = tuple[int, int, str, str, int]


class BatchRows(Protocol):
    """A store's statements for writing batches (each in the caller's transaction)."""

    def records_of(self, customer_id: int) -> list[int]: ...

    def snapshot_of(self, customer_id: int) -> dict[str, Any] | None: ...

    def move_customer_data(self, gone: int, keep: int) -> None: ...

    def journal(self, row: tuple[Any, ...]) -> int: ...

    def log_change(self, now: int, rows: list[tuple[int, str]], actor: str) -> None: ...

    def stored_members(self, customer_ids: list[int]) -> Iterable[StoredMember]: ...

    def load_features(
        self, record_ids: list[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]: ...

    def corrected(self, customer_ids: list[int]) -> Iterable[tuple[int, str, dict[str, Any]]]:
        """(customer, provenance JSON, row) of those of these customers an agent corrected."""
        ...

    def orders(self, customer_ids: list[int]) -> Iterable[tuple[str, int, int]]:
        """(number, customer, at) of these customers' orders."""
        ...

    def insert_customers(self, now: int, rows: list[GoldenRow]) -> None:
        """Create customers with their golden profile (search and profile rows come later)."""

    def defer_customers(self) -> None:
        """Let records point at customers inserted later in the transaction."""

    def insert_records(self, r: Resolved) -> None:
        """The batch's new records, every record's features, identifiers and keys."""

    def reassign(self, pairs: list[tuple[int, int]]) -> None:
        """(customer, record): point stored records at their customer where it changed."""

    def store_golden(self, rows: list[GoldenRow], stored: list[GoldenRow]) -> None:
        """Write golden profiles: `stored` are customers that existed (updated, search row
        rewritten where it changed); the others of `rows` were just inserted."""

    def add_links(self, links: list[tuple[Any, ...]]) -> None: ...

    def add_suggestions(self, suggestions: list[tuple[Any, ...]]) -> None: ...


class StoreRows:
    """The steps every store takes from its identity store module `store` (customer_row,
    snapshot_of, move_customer_data, journal) with the transaction's
    connection, and `rebuild` over the store's own `BatchRows` statements."""

    store: Any

    def __init__(self, db: Any) -> None:
        self.db = db

    def customer_row(self, customer_id: int) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self.store.customer_row(self.db, customer_id)
        return row

    def snapshot_of(self, customer_id: int) -> dict[str, Any] | None:
        snap: dict[str, Any] | None = self.store.snapshot_of(self.db, customer_id)
        return snap

    def move_customer_data(self, gone: int, keep: int) -> None:
        self.store.move_customer_data(self.db, gone, keep)

    def journal(self, row: tuple[Any, ...]) -> int:
        return int(self.store.journal(self.db, row))

    def rebuild(self, cfg: MatchConfig, now: int, customer_ids: list[int]) -> None:
        rebuild(self, cfg, now, customer_ids)  # type: ignore[arg-type]


def write_batch(
    rows: BatchRows, cfg: MatchConfig, now: int, actor: str, r: Resolved, workers: Any = None
) -> None:
    """Apply a resolved batch (see the module docstring).

    `workers` (an import's `prepare.Workers`): the golden profiles are computed there
    while the records, identifiers and keys are written here.
    """
    fresh = r.touched & r.new_customers
    old = sorted(r.touched - r.new_customers)
    existing_gone = [(g, k) for g, k in r.absorbed.items() if g not in r.new_customers]
    gone = dict(existing_gone)
    members = golden_members(
        r,
        rows.stored_members(old + sorted(gone)),
        gone,
        lambda missing: {rid: f for rid, (_c, f) in rows.load_features(missing, r.texts).items()},
    )
    previous, orders = golden_context(rows, old, gone)
    # a new customer that an existing one merges into must exist before the merge
    early = workers is None or any(keep in fresh for keep in gone.values())
    if early:
        golden = compute_golden(cfg, now, golden_jobs(members, previous, orders))
        rows.insert_customers(now, [row for row in golden if row.customer_id in fresh])
    else:
        pending = workers.golden(
            golden_jobs(members, previous, orders, portable=True, texts=r.texts)
        )
        rows.defer_customers()
    rows.insert_records(r)
    if not early:
        golden = [row for future in pending for row in future.result()]
        rows.insert_customers(now, [row for row in golden if row.customer_id in fresh])
    changes: list[tuple[int, str]] = []
    for gone_id, keep in existing_gone:
        moved = rows.records_of(gone_id)
        snapshot = rows.snapshot_of(gone_id)
        rows.move_customer_data(gone_id, keep)
        why = "linked by an imported record"
        rows.journal(
            review.journal_row(now, actor, "auto-merge", keep, gone_id, moved, why, snapshot)
        )
        changes.append((gone_id, "merged"))
    rows.reassign([(r.assign[rec.record_id], rec.record_id) for rec in r.records if not rec.new])
    rows.store_golden(golden, [row for row in golden if row.customer_id not in fresh])
    changes += [
        (cid, "created" if cid in r.new_customers else "updated") for cid in sorted(r.touched)
    ]
    rows.log_change(now, changes, actor)
    if r.links:
        rows.add_links(r.links)
    if r.suggestions:
        rows.add_suggestions(r.suggestions)


def record_rows(r: Resolved) -> Iterator[tuple[int, str, str, int, str, int, int]]:
    """The `source_records` rows of a batch's new records (id, source, source id, customer,
    fields, received at, updated at)."""
    for rec in r.records:
        if rec.new:
            rid = rec.record_id
            yield rid, rec.source, rec.source_id, r.assign[rid], rec.fields_json, rec.at, rec.at


def feature_rows(r: Resolved) -> Iterator[tuple[int, str]]:
    """(record, features JSON) of every record of a batch."""
    for rec in r.records:
        yield rec.record_id, rec.features_json or dumps(rec.features.to_json())


def record_keys(r: Resolved) -> Iterator[tuple[Any, list[tuple[str, str, str]], Iterable[str]]]:
    """(record, its (kind, value, raw) identifiers, its blocking keys) of a batch."""
    for rec in r.records:
        values = rec.idents
        if values is None:
            values = identity_values(rec.source, rec.source_id, rec.features)
        yield rec, values, rec.blocks if rec.blocks is not None else rec.features.block_keys()


def stored_features(
    rows: Iterable[tuple[int, int | None, str | None, str | None, str]],
    texts: dict[int, str] | None = None,
) -> dict[int, tuple[int | None, Features]]:
    """record id -> (customer id, features) from stored rows (record, customer, features
    JSON, fields JSON when there are no features, source); `texts` (if given) gets the
    features JSON of each. A record written by another path (no stored features) is
    normalised from its fields on the fly, read as Vista's canonical field names."""
    out: dict[int, tuple[int | None, Features]] = {}
    for rid, cid, data, fields, source in rows:
        if data is not None:
            out[rid] = (cid, Features.from_json(json.loads(data)))
            if texts is not None:
                texts[rid] = data
        else:
            try:
                raw = json.loads(fields or "")
            except (TypeError, ValueError):
                raw = {}
            f = extract(raw if isinstance(raw, dict) else {})
            f.source = source
            out[rid] = (cid, f)
    return out


def event_row(
    source: str, item: IncomingEvent, customer_id: int, record_id: int, event_id: int | None
) -> tuple[Any, ...]:
    """An `events` row (customer, at, id, kind, channel, source, summary, payload, record,
    external id) of an imported event."""
    return (
        customer_id,
        item.at,
        event_id,
        item.kind,
        item.channel,
        source,
        item.summary,
        dumps(item.payload),
        record_id,
        item.external_id,
    )


def golden_context(
    rows: BatchRows, old_ids: list[int], gone: dict[int, int]
) -> tuple[dict[int, tuple[dict[str, Any], dict[str, Any]]], dict[int, list[str]]]:
    """(agent-corrected provenance and values, order numbers oldest first) of stored
    customers `old_ids`, counting the orders of customers `gone` merges into them
    (`gone`: absorbed -> keep)."""
    previous = {
        cid: (provenance_text.loads(prov), row) for cid, prov, row in rows.corrected(old_ids)
    }
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for number, cid, at in rows.orders(sorted([*old_ids, *gone])):
        found[gone.get(cid, cid)].append((at, number))
    return previous, {cid: [n for _at, n in sorted(v)] for cid, v in found.items()}


def rebuild(
    rows: BatchRows,
    cfg: MatchConfig,
    now: int,
    customer_ids: Iterable[int],
    feats: dict[int, Features] | None = None,
) -> None:
    """Recompute the golden profile and search row of existing customers from their records
    (`feats`: features of some of them already at hand)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    feats = feats or {}
    meta = list(rows.stored_members(ids))
    missing = [m[0] for m in meta if m[0] not in feats]
    loaded = {rid: f for rid, (_c, f) in rows.load_features(missing).items()} if missing else {}
    members: dict[int, list[Member]] = defaultdict(list)
    for rid, cid, source, sid, at in sorted(meta):
        f = feats.get(rid) or loaded.get(rid)
        if f is not None:
            members[cid].append(Member(rid, source, sid, at, f))
    previous, orders = golden_context(rows, ids, {})
    golden = compute_golden(cfg, now, golden_jobs(members, previous, orders))
    rows.store_golden(golden, golden)


class EventRows(Protocol):
    """A store's statements for writing imported events (each in the caller's transaction)."""

    def record_named(self, source: str, source_id: str) -> tuple[int, int] | None:
        """(customer, record) of a resolved source record, or None."""

    def identity_holder(self, kind: str, value: str) -> tuple[int, int] | None:
        """(customer, record) of the newest resolved record holding an identifier, or None."""

    def put_event(
        self, source: str, item: IncomingEvent, customer_id: int, record_id: int
    ) -> tuple[int, bool]:
        """Insert an event, or replace the one with its source and external id (keeping its
        id); (its id, whether it replaced one)."""
        ...

    def put_order(self, item: IncomingEvent, customer_id: int, event_id: int) -> None:
        """Insert an order event's order row, or replace the one with its number."""

    def search_orders(self, customer_id: int) -> str | None:
        """The order numbers a customer's search row holds (None: no search row)."""

    def set_search_orders(self, customer_id: int, numbers: str) -> None: ...

    def log_events(self, now: int, customer_ids: list[int]) -> None:
        """Append the customers whose events an import changed to the change feed."""

    def refresh_values(self, customer_ids: list[int], now: int) -> None:
        """Recompute the lifetime value and churn risk of these customers."""


def attach(rows: EventRows, source: str, probes: list[tuple[str, str]]) -> tuple[int, int] | None:
    """(customer id, record id) of the first identifier that names a resolved record."""
    for kind, value in probes:
        if kind == "external_id":
            other, _, sid = value[1:].partition(":")
            found = rows.record_named(other or source, sid)
        else:
            found = rows.identity_holder(kind, value)
        if found is not None:
            return int(found[0]), int(found[1])
    return None


def write_events(
    rows: EventRows, source: str, items: list[IncomingEvent], now: int
) -> tuple[int, int, list[tuple[int, str]]]:
    """Insert or replace a batch of events, each attached to the customer one of its
    identifiers names, with its order row: (created, updated, [(line, reason) unattached])."""
    created = updated = 0
    unattached: list[tuple[int, str]] = []
    touched: dict[int, list[str]] = {}
    for item in items:
        found = attach(rows, source, item.probes)
        if found is None:
            unattached.append((item.line, "no customer has any of its identifiers"))
            continue
        cid, rid = found
        if item.kind in ("refund", "return") and item.total and "amount" not in item.payload:
            item.payload["amount"] = item.total
        event_id, replaced = rows.put_event(source, item, cid, rid)
        if replaced:
            updated += 1
        else:
            created += 1
        numbers = touched.setdefault(cid, [])
        if item.kind == "order" and item.number:
            rows.put_order(item, cid, event_id)
            numbers.append(item.number)
    for cid, numbers in touched.items():
        if numbers:
            held = rows.search_orders(cid)
            if held is not None:
                rows.set_search_orders(cid, " ".join(dict.fromkeys(held.split() + numbers)))
    rows.log_events(now, list(touched))
    rows.refresh_values(list(touched), now)
    return created, updated, unattached
