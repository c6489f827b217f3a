"""The PostgreSQL statements of writing a resolved batch (`batch.BatchRows`; the flow is
`backends.identity.batch`'s): records, features, identifiers and keys, customers and their
golden profile, search and guard-profile rows, links and suggestions.

Bulk rows go in with COPY (records, features, keys, new customers) or one pipelined
statement per kind; lists travel as arrays. Everything runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backends.identity import batch
from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.golden import GoldenRow
from backends.identity.resolve import Resolved
from backends.identity_rows import PyformatRows
from backends.postgres.identity import store as st

Conn = Any


def write_batch(
    db: Conn, cfg: MatchConfig, now: int, actor: str, r: Resolved, workers: Any = None
) -> None:
    """See `batch.write_batch`."""
    batch.write_batch(PgBatchRows(db), cfg, now, actor, r, workers)


def rebuild(
    db: Conn,
    cfg: MatchConfig,
    now: int,
    customer_ids: Iterable[int],
    feats: dict[int, Features] | None = None,
) -> None:
    """See `batch.rebuild`."""
    batch.rebuild(PgBatchRows(db), cfg, now, customer_ids, feats)


_UPDATE = (
    "UPDATE customers SET first_name = %s, last_name = %s, emails = %s, phones = %s, "
    "addresses = %s, birth_date = %s, language = coalesce(nullif(%s, ''), language), "
    "segment = coalesce(nullif(%s, ''), segment), tier = coalesce(nullif(%s, ''), tier), "
    "consents = (consents::jsonb || %s::jsonb)::text, provenance = %s, updated_at = %s, "
    "created_at = least(created_at, %s), version = version + 1 WHERE id = %s"
)
#: A customer created by this batch gets the row `_UPDATE` would leave on a blank one.
_INSERT = (
    "COPY customers(first_name, last_name, emails, phones, addresses, birth_date, language, "
    "segment, tier, consents, provenance, updated_at, created_at, id, version) FROM STDIN"
)


def _many(db: Conn, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        with db.cursor() as cur:
            cur.executemany(sql, rows)


def _copy(db: Conn, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with db.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


class PgBatchRows(PyformatRows, batch.StoreRows):
    """`batch.BatchRows` over a PostgreSQL connection."""

    store = st

    def stored_members(self, customer_ids: list[int]) -> list[batch.StoredMember]:
        if not customer_ids:
            return []
        return [
            (r[0], r[1], r[2], r[3], r[4])
            for r in self.db.execute(
                "SELECT id, customer_id, source, source_id, updated_at FROM source_records "
                "WHERE customer_id = ANY(%s)",
                (customer_ids,),
            )
        ]

    def load_features(
        self, record_ids: list[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]:
        return st.PgCandidates(self.db).load_features(record_ids, texts)

    def corrected(self, customer_ids: list[int]) -> list[tuple[int, str, dict[str, Any]]]:
        if not customer_ids:
            return []
        return [
            (row[0], row[1], dict(zip(row.keys(), row, strict=True)))
            for row in self.db.execute(
                "SELECT id, provenance, first_name, last_name, birth_date, language, "
                "tier, segment, consents FROM customers WHERE id = ANY(%s) "
                "AND provenance LIKE '%%agent:%%'",
                (customer_ids,),
            )
        ]

    def orders(self, customer_ids: list[int]) -> list[tuple[str, int, int]]:
        if not customer_ids:
            return []
        return [
            (r[0], r[1], r[2])
            for r in self.db.execute(
                "SELECT number, customer_id, at FROM orders WHERE customer_id = ANY(%s)",
                (customer_ids,),
            )
        ]

    def insert_customers(self, now: int, rows: list[GoldenRow]) -> None:
        _copy(
            self.db,
            _INSERT,
            ((*row.update[:12], min(now, row.update[12]), row.update[13], 2) for row in rows),
        )

    def defer_customers(self) -> None:
        return None  # a record's customer is not a foreign key here

    def insert_records(self, r: Resolved) -> None:
        db = self.db
        _copy(
            db,
            "COPY source_records(id, source, source_id, customer_id, fields, received_at, "
            "updated_at) FROM STDIN",
            batch.record_rows(r),
        )
        _copy(db, "COPY record_features(record_id, features) FROM STDIN", batch.feature_rows(r))
        idents: set[tuple[int, str, str, str]] = set()
        keys: set[tuple[str, int]] = set()
        for rec, values, blocks in batch.record_keys(r):
            rid = rec.record_id
            seen: set[tuple[str, str]] = set()
            for kind, value, raw in values:
                if (kind, value) not in seen:  # the first raw form of a value, as SQLite keeps
                    seen.add((kind, value))
                    idents.add((rid, kind, value, raw))
            keys.update((k, rid) for k in blocks)
        _copy(db, "COPY identities(record_id, kind, value, raw) FROM STDIN", sorted(idents))
        _copy(db, "COPY match_keys(key, record_id) FROM STDIN", sorted(keys))

    def reassign(self, pairs: list[tuple[int, int]]) -> None:
        _many(
            self.db,
            "UPDATE source_records SET customer_id = %s WHERE id = %s "
            "AND customer_id IS DISTINCT FROM %s",
            [(cid, rid, cid) for cid, rid in pairs],
        )

    def store_golden(self, rows: list[GoldenRow], stored: list[GoldenRow]) -> None:
        db = self.db
        _many(db, _UPDATE, [row.update for row in stored])
        old = {row.customer_id for row in stored}
        _many(
            db,
            "INSERT INTO customer_search(customer_id, name, emails, phones, orders) "
            "VALUES (%s,%s,%s,%s,%s) ON CONFLICT (customer_id) DO UPDATE SET "
            "name = excluded.name, emails = excluded.emails, phones = excluded.phones, "
            "orders = excluded.orders WHERE (customer_search.name, customer_search.emails, "
            "customer_search.phones, customer_search.orders) IS DISTINCT FROM "
            "(excluded.name, excluded.emails, excluded.phones, excluded.orders)",
            [row.search for row in stored],
        )
        _many(
            db,
            "INSERT INTO identity_profiles(customer_id, dobs, firsts) VALUES (%s,%s,%s) "
            "ON CONFLICT (customer_id) DO UPDATE SET dobs = excluded.dobs, "
            "firsts = excluded.firsts",
            [row.profile for row in stored],
        )
        _copy(
            db,
            "COPY customer_search(customer_id, name, emails, phones, orders) FROM STDIN",
            (row.search for row in rows if row.customer_id not in old),
        )
        _copy(
            db,
            "COPY identity_profiles(customer_id, dobs, firsts) FROM STDIN",
            (row.profile for row in rows if row.customer_id not in old),
        )

    def add_links(self, links: list[tuple[Any, ...]]) -> None:
        _many(
            self.db,
            "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
            "created_at) VALUES (%s,%s,%s,%s,%s,%s,%s)",
            links,
        )

    def add_suggestions(self, suggestions: list[tuple[Any, ...]]) -> None:
        _many(
            self.db,
            "INSERT INTO identity_suggestions(record_a, record_b, score, reason, created_at) "
            "VALUES (%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            suggestions,
        )
