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
