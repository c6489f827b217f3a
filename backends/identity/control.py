"""Human control over identity, the same on every store: merge, split (undoing a merge),
reject a suggestion, explain a customer, read a journal entry.

Every merge and split is journaled with what it needs to be undone: a merge keeps the
absorbed customer's row and the ids of its events and contacts, so splitting the same
records back out restores that customer under its old id. A split also keeps the two
sides apart, so a later import does not merge them again.

The flow lives here; a store hands in its `IdentityRows`, the SQL of each step, bound to
the caller's transaction. No SQL here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from backends.base import InvalidInput, NotFound
from backends.identity import review
from backends.identity.config import MatchConfig
from backends.identity.relink import relink_open, revisitable

if TYPE_CHECKING:
    from backends.identity.model import Model
    from backends.identity.resolve import Candidates

#: The largest record id a store can hold (64-bit): a larger number names no record.
MAX_ID = (1 << 63) - 1


class IdentityRows(Protocol):
    """A store's identity statements, each in the caller's transaction."""

    def customer_row(self, customer_id: int) -> dict[str, Any] | None: ...

    def lock(self, *customer_ids: int) -> None:
        """Hold these customers until the transaction ends (in id order)."""

    def records_of(self, customer_id: int) -> list[int]:
        """The ids of a customer's source records, ascending."""
        ...

    def snapshot_of(self, customer_id: int) -> dict[str, Any] | None: ...

    def move_customer_data(self, gone: int, keep: int) -> None: ...

    def join(self, moved: list[int], kept: list[int], why: str, actor: str, now: int) -> None:
        """Link two merged customers' records: no longer apart, a manual link, their open
        suggestions marked merged."""

    def rebuild(self, cfg: MatchConfig, now: int, customer_ids: list[int]) -> None: ...

    def journal(self, row: tuple[Any, ...]) -> int:
        """Write a `review.journal_row`; its id."""
        ...

    def log_change(self, now: int, rows: list[tuple[int, str]], actor: str) -> None: ...

    def record_by_key(self, source: str, source_id: str) -> tuple[int, int | None] | None:
        """(record id, customer id) of a source record, or None."""

    def record_by_id(self, record_id: int) -> tuple[int, int | None] | None: ...

    def undoable_merges(self, customer_id: int) -> list[tuple[int, list[int], dict[str, Any]]]:
        """(absorbed customer, records, snapshot) of the merges into a customer whose
        absorbed customer is gone, newest first."""
        ...

    def new_customer_id(self) -> int: ...

    def restore_customer(self, customer_id: int, snapshot: dict[str, Any], now: int) -> None: ...

    def move_records(self, record_ids: list[int], customer_id: int) -> None: ...

    def record_events(self, customer_id: int, record_ids: list[int]) -> set[int]:
        """The ids of a customer's events that came with these records."""
        ...

    def event_contacts(self, event_ids: list[int]) -> set[int]: ...

    def move_events(self, event_ids: list[int], old: int, new: int) -> None:
        """Events (and the orders they placed) of customer `old` to `new`."""

    def move_contacts(self, contact_ids: list[int], old: int, new: int) -> None: ...

    def lower_value(self, customer_id: int, amount: float) -> None:
        """Take a restored customer's lifetime value back (never below 0)."""

    def keep_apart(self, pairs: list[tuple[int, int]], reason: str, actor: str, now: int) -> None:
        """Record pairs that must stay apart."""

    def unlink(self, moving: list[int], remaining: list[int]) -> None:
        """Drop the auto and manual links between two sides of a split."""

    def suggestion_records(self, suggestion_id: int) -> tuple[int, int] | None:
        """(record a, record b) of a suggestion (held until the transaction ends), or None."""

    def records_with(self, record_id: int) -> list[int]:
        """The records of the customer a record belongs to (none when it has none)."""
        ...

    def keep_sides_apart(
        self, side_a: list[int], side_b: list[int], reason: str, actor: str, now: int
    ) -> None:
        """Every record of `side_a` kept apart from every record of `side_b`."""

    def reject(self, suggestion_id: int, side_a: list[int], side_b: list[int]) -> None:
        """Reject a suggestion and the open ones between the two sides."""

    def customer_records(self, customer_id: int) -> list[dict[str, Any]]:
        """id, source, source_id, received_at, updated_at of a customer's records, by
        source and source id."""
        ...

    def links_of(self, record_ids: list[int]) -> list[Any]:
        """Links touching these records (rows with their `ka`, `kb` names), by id."""
        ...

    def journal_ids(self, customer_id: int) -> list[int]: ...

    def record_changes(self, record_ids: list[int]) -> list[tuple[int, int, int, dict[str, Any]]]:
        """(record, import, at, changed) of these records' newest changes, newest first."""
        ...

    def journal_row(self, journal_id: int) -> Any: ...

    def record_names(self, record_ids: list[int]) -> list[str]:
        """SOURCE:SOURCE_ID of these records, sorted."""
        ...

    def suggestions(self, limit: int, after: tuple[float, int] | None) -> list[dict[str, Any]]:
        """Open suggestions, one per customer pair, most likely first, after `after`."""
        ...

    def links_page(self, after: int, limit: int) -> list[tuple[int, str, str, int | None]]: ...

    def open_suggestions(self) -> list[tuple[int, int, str]]:
        """(record a, record b, stored reason) of the open suggestions between two
        customers, most likely first."""
        ...


def require(rows: IdentityRows, customer_id: int) -> dict[str, Any]:
    row = rows.customer_row(customer_id)
    if row is None:
        raise NotFound(f"no customer with id {customer_id}")
    return row


def merge(
    rows: IdentityRows,
    cfg: MatchConfig,
    now: int,
    actor: str,
    keep: int,
    gone: int,
    reason: str = "",
) -> dict[str, Any]:
    """Merge customer `gone` into `keep`; returns the journal entry as a dict.

    Raises:
        NotFound: either customer is missing. InvalidInput: the same customer twice.
    """
    if keep == gone:
        raise InvalidInput("cannot merge a customer with itself")
    rows.lock(keep, gone)
    require(rows, keep)
    require(rows, gone)
    snapshot = rows.snapshot_of(gone)
    moved, kept = rows.records_of(gone), rows.records_of(keep)
    rows.move_customer_data(gone, keep)
    why = reason or f"merged by {actor}"
    if moved and kept:
        rows.join(moved, kept, why, actor, now)
    rows.rebuild(cfg, now, [keep])
    journal_id = rows.journal(
        review.journal_row(now, actor, "merge", keep, gone, moved, why, snapshot)
    )
    rows.log_change(now, [(keep, "identity:merge"), (gone, "identity:merged-away")], actor)
    return entry(rows, journal_id)


def resolve_records(rows: IdentityRows, customer_id: int, keys: list[str]) -> list[int]:
    """Record ids for `source:source_id` keys (or bare record ids) of one customer.

    Raises:
        InvalidInput: a key that names no record of this customer.
    """
    ids: list[int] = []
    for key in keys:
        source, sep, sid = key.partition(":")
        if sep:
            row = rows.record_by_key(source.strip().lower(), sid.strip())
        elif key.strip().isdigit() and int(key) <= MAX_ID:
            row = rows.record_by_id(int(key))
        else:
            raise InvalidInput(f"{key!r}: name a record as SOURCE:SOURCE_ID")
        if row is None:
            raise InvalidInput(f"no source record {key}")
        if row[1] != customer_id:
            raise InvalidInput(f"record {key} belongs to customer {row[1]}, not {customer_id}")
        ids.append(int(row[0]))
    return sorted(set(ids))


def split(
    rows: IdentityRows,
    cfg: MatchConfig,
    now: int,
    actor: str,
    customer_id: int,
    keys: list[str],
) -> dict[str, Any]:
    """Move the named records of a customer out into a customer of their own; when they
    are exactly those an earlier merge brought in, that customer comes back under its old
    id with its events and contacts. Returns the journal entry.

    Raises:
        NotFound: no such customer. InvalidInput: bad or all records.
    """
    rows.lock(customer_id)
    require(rows, customer_id)
    if not keys:
        raise InvalidInput("name at least one record to split off (SOURCE:SOURCE_ID)")
    moving = resolve_records(rows, customer_id, keys)
    remaining = [r for r in rows.records_of(customer_id) if r not in set(moving)]
    if not remaining:
        raise InvalidInput("those are all the customer's records: nothing would be left")
    new_id, snapshot = review.split_undoes(rows.undoable_merges(customer_id), moving)
    if not new_id:
        new_id = rows.new_customer_id()
    rows.restore_customer(new_id, snapshot, now)
    rows.move_records(moving, new_id)
    events = rows.record_events(customer_id, moving) | set(snapshot.get("_events", ()))
    ordered = sorted(events)
    contacts = set(snapshot.get("_contacts", ())) | rows.event_contacts(ordered)
    rows.move_events(ordered, customer_id, new_id)
    rows.move_contacts(sorted(contacts), customer_id, new_id)
    if snapshot:
        rows.lower_value(customer_id, snapshot.get("lifetime_value", 0))
    # keep them apart from now on, and retire links that joined them
    rows.keep_apart(review.apart_pairs(moving, remaining), f"split by {actor}", actor, now)
    rows.unlink(moving, remaining)
    rows.rebuild(cfg, now, [customer_id, new_id])
    journal_id = rows.journal(
        review.journal_row(
            now, actor, "split", customer_id, new_id, moving, f"split by {actor}", None
        )
    )
    rows.log_change(now, [(customer_id, "identity:split"), (new_id, "identity:split-off")], actor)
    return entry(rows, journal_id)


def reject(rows: IdentityRows, now: int, actor: str, suggestion_id: int) -> None:
    """Mark a suggestion wrong: the two customers are different people.

    Every record of one is kept apart from every record of the other, and the other open
    suggestions between them are rejected too, so the pair does not come back through
    another of their records.

    Raises:
        NotFound: no such suggestion.
    """
    pair = rows.suggestion_records(suggestion_id)
    if pair is None:
        raise NotFound(f"no suggestion {suggestion_id}")
    side_a = rows.records_with(pair[0]) or [pair[0]]
    side_b = rows.records_with(pair[1]) or [pair[1]]
    rows.keep_sides_apart(side_a, side_b, f"rejected by {actor}", actor, now)
    rows.reject(suggestion_id, side_a, side_b)


def entry(rows: IdentityRows, journal_id: int) -> dict[str, Any]:
    """A journal entry as a plain dict (records named SOURCE:SOURCE_ID).

    Raises:
        NotFound: no such entry.
    """
    row = rows.journal_row(journal_id)
    if row is None:
        raise NotFound(f"no journal entry {journal_id}")
    return {
        "id": row["id"],
        "at": row["at"],
        "actor": row["actor"],
        "action": row["action"],
        "customer_id": row["customer_id"],
        "other_id": row["other_id"],
        "records": rows.record_names(json.loads(row["records"])),
        "reason": row["reason"],
    }


def explain(rows: IdentityRows, customer_id: int) -> dict[str, Any]:
    """Which records and which links made a customer, and its merge/split history.

    Raises:
        NotFound: no such customer.
    """
    require(rows, customer_id)
    records = rows.customer_records(customer_id)
    ids = [r["id"] for r in records]
    names = {r["id"]: f"{r['source']}:{r['source_id']}" for r in records}
    links = [
        review.link_row(row)
        for row in rows.links_of(ids)
        if (row["record_a"] in names and row["record_b"] in names) or row["kind"] == "apart"
    ]
    history = [entry(rows, jid) for jid in rows.journal_ids(customer_id)]
    found = sorted(rows.record_changes(ids), key=lambda c: -c[2])  # newest first
    changes = [
        {"record": names[rid], "import_id": import_id, "at": at, "changed": changed}
        for rid, import_id, at, changed in found
    ]
    return {
        "customer_id": customer_id,
        "records": records,
        "links": links,
        "journal": history,
        "changes": changes[:50],
    }


def relink(
    rows: IdentityRows, candidates: Candidates, cfg: MatchConfig, model: Model, now: int, actor: str
) -> int:
    """Score the open suggestions again with a newly trained `model` and merge the customers
    of those that now link (journaled merges, undone like any other; the decision is
    `backends.identity.relink`'s). Returns how many merged."""
    pairs = [(a, b) for a, b, reason in rows.open_suggestions() if revisitable(reason, model)]
    if not pairs:
        return 0

    def merged(keep: int, gone: int, reason: str) -> None:
        merge(rows, cfg, now, actor, keep, gone, reason)

    return relink_open(candidates, pairs, model, cfg, merged)
