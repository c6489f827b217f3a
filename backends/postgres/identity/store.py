"""Set-based SQL for identity resolution on PostgreSQL: candidate lookup (the reads of
`resolve.Candidates` and `fitting.TrainingReads`), locks, golden-profile context, and
moving a customer's timeline, orders and contacts when customers merge.

Every function runs inside the caller's transaction with bound parameters only; lists
travel as arrays (`= ANY(%s)`, `unnest`), so a statement's size does not grow with them.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import psycopg

from backends.identity import batch, review
from backends.identity.features import Features
from backends.identity.model import Model

Conn = psycopg.Connection[Any]
Key = tuple[str, str]

#: Blocking keys read in full: name + birth date / postcode, first name + birth date. They
#: stay small (a few records each); names (`n:`) and addresses (`a:`) can hold thousands.
SMALL_BLOCKS = ("nd:", "np:", "fd:")

#: The namespace (first half) of the advisory locks an import takes per key it touches.
LOCK_SPACE = 0x56494431  # "VID1"
#: Keys hash into this many locks: a batch of 10,000 records holds at most this many
#: (PostgreSQL's lock table has room for max_locks_per_transaction x max_connections,
#: 6,400 by default, shared by every session).
LOCK_BUCKETS = 512


def lock_keys(db: Conn, keys: Iterable[str]) -> None:
    """Take a transaction-level advisory lock per key (its hash bucket), in sorted order,
    so that two transactions touching one key run one after the other and two touching
    several never wait for each other in a circle."""
    hashes = sorted({zlib.crc32(k.encode("utf-8", "surrogatepass")) % LOCK_BUCKETS for k in keys})
    if hashes:
        db.execute(
            "SELECT count(pg_advisory_xact_lock(%s, h)) FROM unnest(%s::int[]) AS h",
            (LOCK_SPACE, hashes),
        )


def existing_records(
    db: Conn, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, int | None]]:
    """(source, source_id) -> (record id, fields JSON, customer id) for those already stored."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, sid in keys:
        by_source[source].append(sid)
    out: dict[tuple[str, str], tuple[int, str, int | None]] = {}
    for source, ids in by_source.items():
        for rid, sid, fields, cid in db.execute(
            "SELECT id, source_id, fields, customer_id FROM source_records "
            "WHERE source = %s AND source_id = ANY(%s)",
            (source, ids),
        ):
            out[(source, sid)] = (rid, fields, cid)
    return out


def new_ids(db: Conn, table: str, n: int) -> list[int]:
    """`n` fresh ids from `table`'s id sequence (`table` is one of ours, never input)."""
    if n <= 0:
        return []
    return [
        r[0]
        for r in db.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
            (n,),
        )
    ]


def forget_keys(db: Conn, record_ids: list[int]) -> None:
    """Drop the derived rows of records about to be re-normalised."""
    for table in ("identities", "match_keys", "record_features"):
        db.execute(f"DELETE FROM {table} WHERE record_id = ANY(%s)", (record_ids,))


class PgCandidates:
    """`resolve.Candidates` and `fitting.TrainingReads` over a PostgreSQL connection."""

    def __init__(self, db: Conn) -> None:
        self.db = db

    def key_holders(
        self, keys: Iterable[Key], junk_limit: int, block_limit: int, count_limit: int
    ) -> tuple[dict[Key, list[int]], dict[Key, int]]:
        """Who holds each (kind, value) ('key' kind: a blocking key), and how many do: held
        identifiers up to `junk_limit`, small blocks up to `block_limit`, other blocks read
        just past their limit, names included (see the SQLite store's)."""
        db = self.db
        holders: dict[Key, list[int]] = {}
        counts: dict[Key, int] = {}
        kinds, values, small, big = [], [], [], []
        for kind, value in keys:
            if kind != "key":
                kinds.append(kind)
                values.append(value)
            elif value.startswith(SMALL_BLOCKS):
                small.append(value)
            else:
                big.append(value)
        found: dict[Key, list[int]] = defaultdict(list)
        if kinds:
            for kind, value, rid in db.execute(
                "SELECT p.kind, p.value, i.record_id FROM unnest(%s::text[], %s::text[]) "
                "AS p(kind, value) JOIN identities i ON i.kind = p.kind AND i.value = p.value "
                "ORDER BY p.kind, p.value, i.record_id",
                (kinds, values),
            ):
                found[(kind, value)].append(rid)
        blocks: dict[Key, list[int]] = defaultdict(list)
        if small:
            for value, rid in db.execute(
                "SELECT p.value, m.record_id FROM unnest(%s::text[]) AS p(value) "
                "JOIN match_keys m ON m.key = p.value ORDER BY p.value, m.record_id",
                (small,),
            ):
                blocks[("key", value)].append(rid)
        for limit, items in ((junk_limit, found.items()), (block_limit, blocks.items())):
            for key, rids in items:
                counts[key] = len(rids)
                if len(rids) <= limit:
                    holders[key] = rids
        if big:
            for value, rids in db.execute(
                "SELECT p.value, ARRAY(SELECT record_id FROM match_keys m WHERE m.key = p.value "
                "ORDER BY record_id LIMIT %s) FROM unnest(%s::text[]) AS p(value)",
                (max(block_limit, count_limit) + 1, big),
            ):
                if rids:
                    counts[("key", value)] = len(rids)
                    if len(rids) <= block_limit:
                        holders[("key", value)] = list(rids)
        return holders, counts

    def load_features(
        self, record_ids: Iterable[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]:
        """record id -> (customer id, features) (see `batch.stored_features`)."""
        ids = sorted(record_ids)
        if not ids:
            return {}
        return batch.stored_features(
            self.db.execute(
                "SELECT r.id, r.customer_id, f.features, CASE WHEN f.features IS NULL THEN "
                "r.fields END, r.source FROM source_records r LEFT JOIN record_features f "
                "ON f.record_id = r.id WHERE r.id = ANY(%s)",
                (ids,),
            ),
            texts,
        )

    def load_profiles(self, customer_ids: Iterable[int]) -> dict[int, tuple[list[str], list[str]]]:
        return {
            cid: (json.loads(dobs), json.loads(firsts))
            for cid, dobs, firsts in self.db.execute(
                "SELECT customer_id, dobs, firsts FROM identity_profiles "
                "WHERE customer_id = ANY(%s)",
                (sorted(customer_ids),),
            )
        }

    def customer_sizes(self, customer_ids: Iterable[int]) -> dict[int, int]:
        return {
            cid: n
            for cid, n in self.db.execute(
                "SELECT customer_id, count(*) FROM source_records WHERE customer_id = ANY(%s) "
                "GROUP BY customer_id",
                (sorted(customer_ids),),
            )
        }

    def customer_records(self, customer_ids: Iterable[int]) -> list[tuple[int, int]]:
        return [
            (r[0], r[1])
            for r in self.db.execute(
                "SELECT id, customer_id FROM source_records WHERE customer_id = ANY(%s)",
                (sorted(customer_ids),),
            )
        ]

    def apart_pairs(self) -> list[tuple[int, int]]:
        return [
            (a, b)
            for a, b in self.db.execute(
                "SELECT record_a, record_b FROM identity_links WHERE kind = 'apart'"
            )
        ]

    def record_customers(self, record_ids: Iterable[int]) -> dict[int, int | None]:
        return {
            rid: cid
            for rid, cid in self.db.execute(
                "SELECT id, customer_id FROM source_records WHERE id = ANY(%s)",
                (sorted(record_ids),),
            )
        }

    def load_term_shares(self, model: Model, names: dict[str, set[str]]) -> None:
        if not model.version:
            return  # the defaults: no counts yet
        total = max(model.records, 1)
        for fieldname, values in names.items():
            shares = model.tf.setdefault(fieldname, {})
            todo = sorted(v for v in values if v and v not in shares)
            if not todo:
                continue
            for value, n in self.db.execute(
                "SELECT value, records FROM identity_term_counts WHERE field = %s "
                "AND value = ANY(%s)",
                (fieldname, todo),
            ):
                shares[value] = n / total

    def record_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM source_records ORDER BY id")]


def customer_row(db: Conn, customer_id: int) -> dict[str, Any] | None:
    row = db.execute("SELECT * FROM customers WHERE id = %s", (customer_id,)).fetchone()
    return None if row is None else dict(zip(row.keys(), row, strict=True))


def snapshot_of(db: Conn, customer_id: int) -> dict[str, Any] | None:
    """A customer's row plus the ids of its events and contacts (what undoing a merge restores)."""
    snap = customer_row(db, customer_id)
    if snap is not None:
        snap["_events"] = [
            r[0]
            for r in db.execute(
                "SELECT id FROM events WHERE customer_id = %s ORDER BY id", (customer_id,)
            )
        ]
        snap["_contacts"] = [
            r[0]
            for r in db.execute(
                "SELECT id FROM contacts WHERE customer_id = %s ORDER BY id", (customer_id,)
            )
        ]
    return snap


def move_customer_data(db: Conn, gone: int, keep: int) -> None:
    """Re-point everything of customer `gone` to `keep` and delete `gone` (an order number
    both hold stays the kept customer's)."""
    db.execute(
        "DELETE FROM orders o WHERE o.customer_id = %s AND EXISTS (SELECT 1 FROM orders k "
        "WHERE k.customer_id = %s AND k.number = o.number)",
        (gone, keep),
    )
    for table in ("source_records", "events", "orders", "contacts", "messages"):
        db.execute(f"UPDATE {table} SET customer_id = %s WHERE customer_id = %s", (keep, gone))
    for table in ("outbox", "inbound_receipts"):
        db.execute(f"UPDATE {table} SET customer_id = %s WHERE customer_id = %s", (keep, gone))
    a = customer_row(db, keep)
    b = customer_row(db, gone)
    if a is not None and b is not None:
        db.execute(
            "UPDATE customers SET lifetime_value = lifetime_value + %s, tags = %s, "
            "attributes = %s, consents = %s, churn_risk = greatest(churn_risk, %s), "
            "unhappy = greatest(unhappy, %s), created_at = least(created_at, %s) WHERE id = %s",
            (*review.absorbed(a, b), keep),
        )
    db.execute("DELETE FROM customer_search WHERE customer_id = %s", (gone,))
    db.execute("DELETE FROM identity_profiles WHERE customer_id = %s", (gone,))
    db.execute("DELETE FROM customers WHERE id = %s", (gone,))


def journal(db: Conn, row: tuple[Any, ...]) -> int:
    """Write an `identity_journal` row (`review.journal_row`); its id."""
    return int(
        db.execute(
            "INSERT INTO identity_journal(at, actor, action, customer_id, other_id, records, "
            "reason, snapshot) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
            row,
        ).fetchone()[0]  # type: ignore[index]
    )
