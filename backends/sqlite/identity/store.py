"""Set-based SQL for identity resolution: candidate lookup, golden profiles, moving a
customer's timeline, events, orders and contacts when customers merge or split.

Every function runs inside the caller's write transaction and uses bound
parameters only (customer text never becomes SQL).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from backends.identity import batch, review
from backends.identity.features import Features
from backends.identity.jsontext import dumps as dumps  # noqa: PLC0414 - re-exported
from backends.sqlite.identity.encoding import index_order, key_code
from backends.sqlite.record_shapes import FIELDS, SHAPE_JOIN

CHUNK = 500


def chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    """`items` in runs of at most `size` (bound parameters per statement stay few)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def existing_records(
    db: sqlite3.Connection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, int | None]]:
    """(source, source_id) -> (record id, fields JSON, customer id) for those already stored."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, sid in keys:
        by_source[source].append(sid)
    out: dict[tuple[str, str], tuple[int, str, int | None]] = {}
    for source, ids in by_source.items():
        for part in chunks(sorted(ids)):
            marks = ",".join("?" * len(part))
            for r in db.execute(
                f"SELECT r.id, r.source_id, {FIELDS}, r.customer_id FROM source_records r "
                f"{SHAPE_JOIN} WHERE r.source = ? AND r.source_id IN ({marks})",
                (source, *part),
            ):
                out[(source, r[1])] = (r[0], r[2], r[3])
    return out


def forget_keys(db: sqlite3.Connection, record_ids: list[int]) -> None:
    """Drop the derived rows of records about to be re-normalised.

    `match_keys` has no index by record (it would be as big as the table): a record's keys
    are found again from its stored features, which they were made from."""
    keys = sorted(
        (
            (key_code(k), rid)
            for rid, (_cid, f) in load_features(db, record_ids).items()
            for k in f.block_keys()
        ),
        key=index_order,
    )
    db.executemany("DELETE FROM match_keys WHERE key = ? AND record_id = ?", keys)
    for part in chunks(record_ids):
        marks = ",".join("?" * len(part))
        db.execute(f"DELETE FROM identities WHERE record_id IN ({marks})", part)
        db.execute(f"DELETE FROM record_features WHERE record_id IN ({marks})", part)


#: Blocking keys read in full: name + birth date / postcode, first name + birth date. They
#: stay small (a few records each); names (`n:`) and addresses (`a:`) can hold thousands.
_SMALL_BLOCKS = ("nd:", "np:", "fd:")


def key_holders(
    db: sqlite3.Connection,
    keys: Iterable[tuple[str, str]],
    junk_limit: int,
    block_limit: int,
    count_limit: int,
) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], int]]:
    """Who in the store holds each (kind, value) ('key' kind: a blocking key), and how many do.

    Holders are returned only for identifiers held by at most `junk_limit` records and
    blocks of at most `block_limit` (names, `n:`, included: same name, other fields typed
    apart; their count also tells a common name).
    Identifiers (a value past the junk limit is flagged and not asked again) and small
    blocks are read with one join per few hundred keys; counts of names and addresses
    stop just past their limit (bounded work for a key held by a million records).
    """
    holders: dict[tuple[str, str], list[int]] = {}
    counts: dict[tuple[str, str], int] = {}
    ids: list[tuple[str, str]] = []
    small: list[str] = []
    big: list[str] = []
    for key in keys:
        if key[0] != "key":
            ids.append(key)
        elif key[1].startswith(_SMALL_BLOCKS):
            small.append(key[1])
        else:
            big.append(key[1])
    found: dict[tuple[str, str], list[int]] = defaultdict(list)
    ids.sort()  # in index order: neighbouring keys share pages
    for part in chunks(ids, 250):
        rows = ",".join(["(?,?)"] * len(part))
        for kind, value, rid in db.execute(
            f"WITH p(kind, value) AS (VALUES {rows}) SELECT p.kind, p.value, i.record_id "
            f"FROM p JOIN identities i ON i.kind = p.kind AND i.value = p.value",
            [v for key in part for v in key],
        ):
            found[(kind, value)].append(rid)
    for limit, items in ((junk_limit, found.items()), (block_limit, _blocks(db, sorted(small)))):
        for key, rids in items:
            counts[key] = len(rids)
            if len(rids) <= limit:
                holders[key] = rids
    read = (
        "SELECT group_concat(record_id) FROM (SELECT record_id FROM match_keys m "
        "WHERE m.key = p.code LIMIT ?)"
    )
    for part in chunks(_coded(big), 400):
        for _kind, value, got in _probe(db, part, read, max(block_limit, count_limit) + 1):
            rids = [int(r) for r in got.split(",")]
            counts[("key", value)] = len(rids)
            if len(rids) <= block_limit:
                holders[("key", value)] = rids
    return holders, counts


def _coded(keys: Iterable[str]) -> list[tuple[str, int | str]]:
    """(key, its stored code) of each blocking key, in index order (neighbours share pages)."""
    return sorted(((k, key_code(k)) for k in keys), key=lambda kc: index_order((kc[1], 0)))


def _blocks(db: sqlite3.Connection, keys: list[str]) -> Iterable[tuple[tuple[str, str], list[int]]]:
    """(('key', key), holders) of each blocking key that has any."""
    for part in chunks(_coded(keys), 400):
        found: dict[tuple[str, str], list[int]] = defaultdict(list)
        rows = ",".join(["(?,?)"] * len(part))
        for value, rid in db.execute(
            f"WITH p(value, code) AS (VALUES {rows}) SELECT p.value, "
            f"m.record_id FROM p JOIN match_keys m ON m.key = p.code",
            [v for pair in part for v in pair],
        ):
            found[("key", value)].append(rid)
        yield from found.items()


def _probe(
    db: sqlite3.Connection, keys: list[tuple[str, int | str]], sub: str, limit: int
) -> Iterable[tuple[str, str, Any]]:
    """('key', key, what `sub` finds for it) for each blocking key it finds something for.

    `keys`: (key, code) pairs; `sub` reads the code as `p.code` and its LIMIT as `?`.
    """
    rows = ",".join(["(?,?)"] * len(keys))
    for value, found in db.execute(
        f"WITH p(value, code) AS (VALUES {rows}) SELECT p.value, ({sub}) FROM p",
        (*[v for pair in keys for v in pair], limit),
    ):
        if found:
            yield "key", value, found


def load_features(
    db: sqlite3.Connection, record_ids: Iterable[int], texts: dict[int, str] | None = None
) -> dict[int, tuple[int | None, Features]]:
    """record id -> (customer id, features); `texts` (if given) gets the stored JSON of each
    (see `batch.stored_features`)."""

    def rows() -> Iterator[Any]:
        for part in chunks(sorted(record_ids)):  # id order: neighbours share pages
            yield from db.execute(
                f"SELECT r.id, r.customer_id, f.features, CASE WHEN f.features IS NULL THEN "
                f"{FIELDS} END, r.source FROM source_records r LEFT JOIN record_features f "
                f"ON f.record_id = r.id {SHAPE_JOIN} WHERE r.id IN ({','.join('?' * len(part))})",
                part,
            )

    return batch.stored_features(rows(), texts)


def apart_pairs(db: sqlite3.Connection) -> list[tuple[int, int]]:
    """Every pair of records kept apart (a split, a rejected suggestion)."""
    return [
        (a, b)
        for a, b in db.execute("SELECT record_a, record_b FROM identity_links WHERE kind = 'apart'")
    ]


def record_customers(db: sqlite3.Connection, record_ids: Iterable[int]) -> dict[int, int | None]:
    """record id -> its customer id, as stored."""
    out: dict[int, int | None] = {}
    for part in chunks(sorted(record_ids)):
        marks = ",".join("?" * len(part))
        for rid, cid in db.execute(
            f"SELECT id, customer_id FROM source_records WHERE id IN ({marks})", part
        ):
            out[rid] = cid
    return out


def customer_row(db: sqlite3.Connection, customer_id: int) -> dict[str, Any] | None:
    row = db.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        return None
    return dict(zip(row.keys(), row, strict=True))


def snapshot_of(db: sqlite3.Connection, customer_id: int) -> dict[str, Any] | None:
    """A customer's row plus the ids of its events and contacts (what undoing a merge restores)."""
    snap = customer_row(db, customer_id)
    if snap is not None:
        snap["_events"] = [
            r[0] for r in db.execute("SELECT id FROM events WHERE customer_id = ?", (customer_id,))
        ]
        snap["_contacts"] = [
            r[0]
            for r in db.execute("SELECT id FROM contacts WHERE customer_id = ?", (customer_id,))
        ]
    return snap


def move_customer_data(db: sqlite3.Connection, gone: int, keep: int) -> None:
    """Re-point everything of customer `gone` to `keep` and delete `gone`."""
    for table in ("source_records", "events", "orders", "contacts"):
        db.execute(f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (keep, gone))
    a = customer_row(db, keep)
    b = customer_row(db, gone)
    if a is not None and b is not None:
        db.execute(
            "UPDATE customers SET lifetime_value = lifetime_value + ?, tags = ?, attributes = ?, "
            "consents = ?, churn_risk = max(churn_risk, ?), unhappy = max(unhappy, ?), "
            "created_at = min(created_at, ?) WHERE id = ?",
            (*review.absorbed(a, b), keep),
        )
    db.execute("DELETE FROM customer_search WHERE rowid = ?", (gone,))
    db.execute("DELETE FROM identity_profiles WHERE customer_id = ?", (gone,))
    db.execute("DELETE FROM customers WHERE id = ?", (gone,))


def journal(db: sqlite3.Connection, row: tuple[Any, ...]) -> int:
    """Write an `identity_journal` row (`review.journal_row`); its id."""
    cur = db.execute(
        "INSERT INTO identity_journal(at, actor, action, customer_id, other_id, records, reason, "
        "snapshot) VALUES (?,?,?,?,?,?,?,?)",
        row,
    )
    return int(cur.lastrowid or 0)


def load_profiles(
    db: sqlite3.Connection, customer_ids: Iterable[int]
) -> dict[int, tuple[list[str], list[str]]]:
    """customer id -> (birth dates, first-name keys) its records hold."""
    out: dict[int, tuple[list[str], list[str]]] = {}
    for part in chunks(sorted(customer_ids)):
        marks = ",".join("?" * len(part))
        for cid, dobs, firsts in db.execute(
            f"SELECT customer_id, dobs, firsts FROM identity_profiles WHERE customer_id IN ({marks})",
            part,
        ):
            out[cid] = (json.loads(dobs), json.loads(firsts))
    return out


def customer_sizes(db: sqlite3.Connection, customer_ids: Iterable[int]) -> dict[int, int]:
    """customer id -> how many source records it holds."""
    out: dict[int, int] = {}
    for part in chunks(sorted(customer_ids)):
        marks = ",".join("?" * len(part))
        for cid, n in db.execute(
            f"SELECT customer_id, count(*) FROM source_records WHERE customer_id IN ({marks}) "
            f"GROUP BY customer_id",
            part,
        ):
            out[cid] = n
    return out


def customer_records(db: sqlite3.Connection, customer_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(record id, customer id) of every source record of these customers."""
    out: list[tuple[int, int]] = []
    for part in chunks(sorted(customer_ids)):
        marks = ",".join("?" * len(part))
        out += db.execute(
            f"SELECT id, customer_id FROM source_records WHERE customer_id IN ({marks})", part
        ).fetchall()
    return out
