"""Identity statements both stores run as written: portable SQL with `?` parameters, which
a store's `dialect` turns into its driver's (PostgreSQL's `%s`). A statement that differs
between the stores stays in the store's own module (backends/*/identity/)."""

from __future__ import annotations

import json
from typing import Any


class PortableRows:
    """The `batch.BatchRows` and `control.IdentityRows` steps whose SQL is the same on every
    store, on the connection `db` (each in the caller's transaction)."""

    db: Any

    def dialect(self, sql: str) -> str:
        """A portable statement as this store's driver takes it."""
        return sql

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return list(self.db.execute(self.dialect(sql), params))

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self.db.execute(self.dialect(sql), params).fetchone()

    def _many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            cur = self.db.cursor()
            try:
                cur.executemany(self.dialect(sql), rows)
            finally:
                cur.close()

    def log_change(self, now: int, rows: list[tuple[int, str]], actor: str) -> None:
        """Append (customer, action) rows to the change feed."""
        self._many(
            "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
            [(now, "customer", cid, action, actor) for cid, action in rows],
        )

    def log_events(self, now: int, customer_ids: list[int]) -> None:
        self._many(
            "INSERT INTO changes(at, entity, entity_id, action, actor) "
            "VALUES (?,'customer',?,'events','import')",
            [(now, cid) for cid in customer_ids],
        )

    def records_of(self, customer_id: int) -> list[int]:
        return [
            r[0]
            for r in self._all(
                "SELECT id FROM source_records WHERE customer_id = ? ORDER BY id", (customer_id,)
            )
        ]

    def record_by_key(self, source: str, source_id: str) -> tuple[int, int | None] | None:
        row = self._one(
            "SELECT id, customer_id FROM source_records WHERE source = ? AND source_id = ?",
            (source, source_id),
        )
        return None if row is None else (row[0], row[1])

    def record_by_id(self, record_id: int) -> tuple[int, int | None] | None:
        row = self._one("SELECT id, customer_id FROM source_records WHERE id = ?", (record_id,))
        return None if row is None else (row[0], row[1])

    def undoable_merges(self, customer_id: int) -> list[tuple[int, list[int], dict[str, Any]]]:
        return [
            (other, json.loads(records), json.loads(snap))
            for other, records, snap in self._all(
                "SELECT j.other_id, j.records, j.snapshot FROM identity_journal j WHERE "
                "j.customer_id = ? AND j.action IN ('merge', 'auto-merge') AND NOT EXISTS "
                "(SELECT 1 FROM customers c WHERE c.id = j.other_id) ORDER BY j.id DESC",
                (customer_id,),
            )
        ]

    def records_with(self, record_id: int) -> list[int]:
        return [
            r[0]
            for r in self._all(
                "SELECT id FROM source_records WHERE customer_id = "
                "(SELECT customer_id FROM source_records WHERE id = ?) ORDER BY id",
                (record_id,),
            )
        ]

    def customer_records(self, customer_id: int) -> list[dict[str, Any]]:
        return [
            dict(zip(r.keys(), r, strict=True))
            for r in self._all(
                "SELECT id, source, source_id, received_at, updated_at FROM source_records "
                "WHERE customer_id = ? ORDER BY source, source_id",
                (customer_id,),
            )
        ]

    def journal_ids(self, customer_id: int) -> list[int]:
        return [
            r[0]
            for r in self._all(
                "SELECT id FROM identity_journal WHERE customer_id = ? OR other_id = ? ORDER BY id",
                (customer_id, customer_id),
            )
        ]

    def journal_row(self, journal_id: int) -> Any:
        return self._one("SELECT * FROM identity_journal WHERE id = ?", (journal_id,))

    def open_suggestions(self) -> list[tuple[int, int, str]]:
        return [
            (a, b, reason)
            for a, b, reason in self._all(
                "SELECT s.record_a, s.record_b, s.reason FROM identity_suggestions s "
                "JOIN source_records ra ON ra.id = s.record_a "
                "JOIN source_records rb ON rb.id = s.record_b "
                "WHERE s.status = 'open' AND ra.customer_id <> rb.customer_id "
                "ORDER BY s.score DESC, s.id",
                (),
            )
        ]

    def record_named(self, source: str, source_id: str) -> tuple[int, int] | None:
        row = self._one(
            "SELECT customer_id, id FROM source_records WHERE source = ? AND source_id = ? "
            "AND customer_id IS NOT NULL",
            (source, source_id),
        )
        return None if row is None else (row[0], row[1])

    def reason_text(self, stored: str) -> str:
        """A link's or suggestion's reason as people read it, from the stored one."""
        return stored

    def suggestions(self, limit: int, after: tuple[float, int] | None) -> list[dict[str, Any]]:
        """Open suggestions between two different customers, most likely first, one per
        customer pair (its best), those after `after` (score, id) when given."""
        score, ident = after if after is not None else (float("inf"), 0)
        return [
            {**dict(zip(row.keys(), row, strict=True)), "reason": self.reason_text(row["reason"])}
            for row in self._all(
                "WITH open AS (SELECT s.id, s.score, s.reason, s.created_at, "
                "ra.customer_id AS ca, rb.customer_id AS cb, "
                "ra.source || ':' || ra.source_id AS ka, rb.source || ':' || rb.source_id AS kb, "
                "row_number() OVER (PARTITION BY "
                "CASE WHEN ra.customer_id < rb.customer_id THEN ra.customer_id "
                "ELSE rb.customer_id END, "
                "CASE WHEN ra.customer_id < rb.customer_id THEN rb.customer_id "
                "ELSE ra.customer_id END ORDER BY s.score DESC, s.id) AS nth "
                "FROM identity_suggestions s JOIN source_records ra ON ra.id = s.record_a "
                "JOIN source_records rb ON rb.id = s.record_b "
                "WHERE s.status = 'open' AND ra.customer_id <> rb.customer_id) "
                "SELECT o.id, o.score, o.reason, o.created_at, o.ca, o.cb, o.ka, o.kb, "
                "trim(a.first_name || ' ' || a.last_name) AS na, "
                "trim(b.first_name || ' ' || b.last_name) AS nb "
                "FROM open o JOIN customers a ON a.id = o.ca JOIN customers b ON b.id = o.cb "
                "WHERE o.nth = 1 AND (o.score < ? OR (o.score = ? AND o.id > ?)) "
                "ORDER BY o.score DESC, o.id LIMIT ?",
                (score, score, ident, limit),
            )
        ]

    def links_page(self, after: int, limit: int) -> list[tuple[int, str, str, int | None]]:
        """(record id, source, source_id, customer id) after record id `after`, in id order."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self._all(
                "SELECT id, source, source_id, customer_id FROM source_records WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (after, limit),
            )
        ]


class PyformatRows(PortableRows):
    """`PortableRows` for a driver that takes `%s` parameters (psycopg)."""

    def dialect(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")
