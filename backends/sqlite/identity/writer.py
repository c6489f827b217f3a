"""The SQLite statements of writing a resolved batch (`batch.BatchRows`; the flow is
`backends.identity.batch`'s): records, features, identifiers and keys, customers and their
golden profile, search and guard-profile rows, links and suggestions.

Every statement is set-based (`executemany` or `IN` lists) and runs in the caller's write
transaction; identifiers and keys go in index order (each index page visited once), an FTS
row is rewritten only when its text changed, a link's reason is stored packed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from backends import link_reasons
from backends.identity import batch
from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.golden import GoldenRow
from backends.identity.keys import identity_values
from backends.identity.resolve import Resolved
from backends.identity_rows import PortableRows
from backends.sqlite import record_shapes
from backends.sqlite.identity import store as st
from backends.sqlite.identity.encoding import index_order, key_code, stored_raw


def identity_rows(
    record_id: int, source: str, source_id: str, f: Features
) -> list[tuple[Any, ...]]:
    """The `identities` rows of a record (normalised value and a raw form)."""
    return [
        (record_id, kind, value, raw) for kind, value, raw in identity_values(source, source_id, f)
    ]


def write_batch(
    db: sqlite3.Connection, cfg: MatchConfig, now: int, actor: str, r: Resolved, workers: Any = None
) -> None:
    """See `batch.write_batch`."""
    batch.write_batch(SQLiteBatchRows(db), cfg, now, actor, r, workers)


def rebuild(
    db: sqlite3.Connection,
    cfg: MatchConfig,
    now: int,
    customer_ids: Iterable[int],
    feats: dict[int, Features] | None = None,
) -> None:
    """See `batch.rebuild`."""
    batch.rebuild(SQLiteBatchRows(db), cfg, now, customer_ids, feats)


_UPDATE = (
    "UPDATE customers SET first_name = ?, last_name = ?, emails = ?, phones = ?, addresses = ?, "
    "birth_date = ?, language = coalesce(nullif(?, ''), language), "
    "segment = coalesce(nullif(?, ''), segment), tier = coalesce(nullif(?, ''), tier), "
    "consents = json_patch(consents, ?), provenance = ?, updated_at = ?, created_at = min(created_at, ?), version = version + 1 "
    "WHERE id = ?"
)
#: A customer created by this batch gets the row `_UPDATE` would leave on a blank one.
_INSERT = (
    "INSERT INTO customers(first_name, last_name, emails, phones, addresses, birth_date, "
    "language, segment, tier, consents, provenance, updated_at, created_at, id, version) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,min(?, ?),?,2)"
)


def _marks(items: list[Any]) -> str:
    return ",".join("?" * len(items))


class SQLiteBatchRows(PortableRows, batch.StoreRows):
    """`batch.BatchRows` over a SQLite connection."""

    store = st

    def stored_members(self, customer_ids: list[int]) -> Iterator[batch.StoredMember]:
        for part in st.chunks(customer_ids):
            for row in self.db.execute(
                f"SELECT id, customer_id, source, source_id, updated_at FROM source_records "
                f"WHERE customer_id IN ({_marks(part)})",
                part,
            ):
                yield tuple(row)  # type: ignore[misc]

    def load_features(
        self, record_ids: list[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]:
        return st.load_features(self.db, record_ids, texts)

    def corrected(self, customer_ids: list[int]) -> Iterator[tuple[int, str, dict[str, Any]]]:
        for part in st.chunks(customer_ids):
            for row in self.db.execute(
                f"SELECT id, provenance, first_name, last_name, birth_date, language, "
                f"tier, segment, consents FROM customers WHERE id IN ({_marks(part)}) "
                f"AND provenance LIKE '%agent:%'",
                part,
            ):
                yield row[0], row[1], dict(row)

    def orders(self, customer_ids: list[int]) -> Iterator[tuple[str, int, int]]:
        for part in st.chunks(customer_ids):
            yield from self.db.execute(
                f"SELECT number, customer_id, at FROM orders WHERE customer_id IN ({_marks(part)})",
                part,
            )

    def insert_customers(self, now: int, rows: list[GoldenRow]) -> None:
        self.db.executemany(_INSERT, [(*row.update[:12], now, *row.update[12:]) for row in rows])

    def defer_customers(self) -> None:
        self.db.execute("PRAGMA defer_foreign_keys = ON")  # checked at commit

    def insert_records(self, r: Resolved) -> None:
        db = self.db
        rows = list(batch.record_rows(r))
        kept = record_shapes.encode(db, [(row[4], row[2]) for row in rows])  # (fields, source_id)
        db.executemany(
            "INSERT INTO source_records(id, source, source_id, customer_id, fields, shape, "
            "received_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            [(*row[:4], *k, *row[5:]) for row, k in zip(rows, kept, strict=True)],
        )
        db.executemany(
            "INSERT INTO record_features(record_id, features) VALUES (?,?)",
            list(batch.feature_rows(r)),
        )
        idents: list[tuple[str, str, int, str]] = []
        keys: list[tuple[int | str, int]] = []
        for rec, values, blocks in batch.record_keys(r):
            rid = rec.record_id
            own = f"{rec.source}:{rec.source_id}"  # the record's own id: its source row says it
            idents += [
                (kind, value, rid, stored_raw(kind, value, raw, rec.source_id))
                for kind, value, raw in values
                if value != own or kind != "external_id"
            ]
            keys += [(key_code(k), rid) for k in blocks]
        idents.sort()
        db.executemany(
            "INSERT OR IGNORE INTO identities(kind, value, record_id, raw) VALUES (?,?,?,?)",
            idents,
        )
        keys.sort(key=index_order)
        db.executemany("INSERT OR IGNORE INTO match_keys(key, record_id) VALUES (?,?)", keys)

    def reassign(self, pairs: list[tuple[int, int]]) -> None:
        self.db.executemany(
            "UPDATE source_records SET customer_id = ? WHERE id = ? AND customer_id IS NOT ?",
            [(cid, rid, cid) for cid, rid in pairs],
        )

    def store_golden(self, rows: list[GoldenRow], stored: list[GoldenRow]) -> None:
        db = self.db
        db.executemany(_UPDATE, [row.update for row in stored])
        # an FTS row is rewritten token by token: leave those that did not change alone
        same: set[int] = set()
        if stored:
            wanted = {row.customer_id: row.search for row in stored}
            for part in st.chunks(sorted(wanted)):
                for old in db.execute(
                    f"SELECT rowid, name, emails, phones, orders FROM "
                    f"customer_search WHERE rowid IN ({_marks(part)})",
                    part,
                ):
                    if tuple(old) == wanted[old[0]]:
                        same.add(old[0])
            for part in st.chunks(sorted(wanted.keys() - same)):
                db.execute(f"DELETE FROM customer_search WHERE rowid IN ({_marks(part)})", part)
        db.executemany(
            "INSERT INTO customer_search(rowid, name, emails, phones, orders) VALUES (?,?,?,?,?)",
            [row.search for row in rows if row.customer_id not in same],
        )
        db.executemany(
            "INSERT OR REPLACE INTO identity_profiles(customer_id, dobs, firsts) VALUES (?,?,?)",
            [row.profile for row in rows],
        )

    def add_links(self, links: list[tuple[Any, ...]]) -> None:
        self.db.executemany(
            "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            [(*link[:4], link_reasons.pack(link[4]), *link[5:]) for link in links],
        )

    def add_suggestions(self, suggestions: list[tuple[Any, ...]]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO identity_suggestions(record_a, record_b, score, "
            "reason, created_at) VALUES (?,?,?,?,?)",
            [(*s[:3], link_reasons.pack(s[3]), *s[4:]) for s in suggestions],
        )
