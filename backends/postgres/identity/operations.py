"""The PostgreSQL statements of human control over identity (`control.IdentityRows`):
merge, split, reject, explain and the journal, whose flow is `backends.identity.control`'s;
and the suggestions and link export pages.

Every statement runs in the caller's transaction; lists travel as arrays. An operation
locks the customers it changes (rows, in id order), so an import resolving the same
people waits for it.
"""

from __future__ import annotations

import json
from typing import Any

from backends.postgres.identity import store as st
from backends.postgres.identity.writer import PgBatchRows


class PgIdentityRows(PgBatchRows):
    """`control.IdentityRows` over a PostgreSQL connection."""

    def lock(self, *customer_ids: int) -> None:
        self.db.execute(
            "SELECT id FROM customers WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            (sorted(set(customer_ids)),),
        )

    def join(self, moved: list[int], kept: list[int], why: str, actor: str, now: int) -> None:
        both = moved + kept
        self.db.execute(
            "DELETE FROM identity_links WHERE kind = 'apart' AND record_a = ANY(%s) "
            "AND record_b = ANY(%s)",
            (both, both),
        )
        self.db.execute(
            "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
            "created_at) VALUES (%s,%s,'manual',1.0,%s,%s,%s)",
            (min(kept), min(moved), why, actor, now),
        )
        self.db.execute(
            "UPDATE identity_suggestions SET status = 'merged' WHERE status = 'open' AND "
            "record_a = ANY(%s) AND record_b = ANY(%s)",
            (both, both),
        )

    def new_customer_id(self) -> int:
        return st.new_ids(self.db, "customers", 1)[0]

    def restore_customer(self, customer_id: int, snapshot: dict[str, Any], now: int) -> None:
        known = {
            r[0]
            for r in self.db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = 'customers'"
            )
        }
        cols = {
            k: v for k, v in snapshot.items() if not k.startswith("_") and k != "id" and k in known
        }
        cols.setdefault("created_at", now)
        cols["updated_at"] = now
        names = ", ".join(cols)  # column names of our own table, checked above
        marks = ",".join(["%s"] * len(cols))
        self.db.execute(
            f"INSERT INTO customers(id, {names}) VALUES (%s, {marks})",
            (customer_id, *cols.values()),
        )

    def move_records(self, record_ids: list[int], customer_id: int) -> None:
        self.db.execute(
            "UPDATE source_records SET customer_id = %s WHERE id = ANY(%s)",
            (customer_id, record_ids),
        )

    def record_events(self, customer_id: int, record_ids: list[int]) -> set[int]:
        return {
            r[0]
            for r in self.db.execute(
                "SELECT id FROM events WHERE customer_id = %s AND record_id = ANY(%s)",
                (customer_id, record_ids),
            )
        }

    def event_contacts(self, event_ids: list[int]) -> set[int]:
        return {
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT contact_id FROM events WHERE id = ANY(%s) "
                "AND contact_id IS NOT NULL",
                (event_ids,),
            )
        }

    def move_events(self, event_ids: list[int], old: int, new: int) -> None:
        self.db.execute(
            "UPDATE events SET customer_id = %s WHERE customer_id = %s AND id = ANY(%s)",
            (new, old, event_ids),
        )
        self.db.execute(
            "UPDATE orders SET customer_id = %s WHERE customer_id = %s AND event_id = ANY(%s)",
            (new, old, event_ids),
        )

    def move_contacts(self, contact_ids: list[int], old: int, new: int) -> None:
        self.db.execute(  # messages follow their contact (ON UPDATE CASCADE)
            "UPDATE contacts SET customer_id = %s WHERE customer_id = %s AND id = ANY(%s)",
            (new, old, contact_ids),
        )

    def lower_value(self, customer_id: int, amount: float) -> None:
        self.db.execute(
            "UPDATE customers SET lifetime_value = greatest(0, lifetime_value - %s) WHERE id = %s",
            (amount, customer_id),
        )

    def keep_apart(self, pairs: list[tuple[int, int]], reason: str, actor: str, now: int) -> None:
        with self.db.cursor() as cur:
            cur.executemany(
                "INSERT INTO identity_links(record_a, record_b, kind, reason, actor, created_at) "
                "VALUES (%s,%s,'apart',%s,%s,%s)",
                [(a, b, reason, actor, now) for a, b in pairs],
            )

    def unlink(self, moving: list[int], remaining: list[int]) -> None:
        self.db.execute(
            "DELETE FROM identity_links WHERE kind IN ('auto', 'manual') AND ((record_a = "
            "ANY(%s) AND record_b = ANY(%s)) OR (record_b = ANY(%s) AND record_a = ANY(%s)))",
            (moving, remaining, moving, remaining),
        )

    def suggestion_records(self, suggestion_id: int) -> tuple[int, int] | None:
        row = self.db.execute(
            "SELECT record_a, record_b FROM identity_suggestions WHERE id = %s FOR UPDATE",
            (suggestion_id,),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def keep_sides_apart(
        self, side_a: list[int], side_b: list[int], reason: str, actor: str, now: int
    ) -> None:
        self.db.execute(
            "INSERT INTO identity_links(record_a, record_b, kind, reason, actor, created_at) "
            "SELECT a, b, 'apart', %s, %s, %s FROM unnest(%s::bigint[]) AS a, "
            "unnest(%s::bigint[]) AS b",
            (reason, actor, now, side_a, side_b),
        )

    def reject(self, suggestion_id: int, side_a: list[int], side_b: list[int]) -> None:
        self.db.execute(
            "UPDATE identity_suggestions SET status = 'rejected' WHERE id = %s", (suggestion_id,)
        )
        self.db.execute(
            "UPDATE identity_suggestions SET status = 'rejected' WHERE status = 'open' AND "
            "((record_a = ANY(%s) AND record_b = ANY(%s)) OR "
            "(record_a = ANY(%s) AND record_b = ANY(%s)))",
            (side_a, side_b, side_b, side_a),
        )

    def links_of(self, record_ids: list[int]) -> list[Any]:
        return list(
            self.db.execute(
                "SELECT l.*, ra.source || ':' || ra.source_id AS ka, rb.source || ':' || "
                "rb.source_id AS kb FROM identity_links l JOIN source_records ra ON ra.id = "
                "l.record_a JOIN source_records rb ON rb.id = l.record_b "
                "WHERE l.record_a = ANY(%s) OR l.record_b = ANY(%s) ORDER BY l.id",
                (record_ids, record_ids),
            )
        )

    def record_changes(self, record_ids: list[int]) -> list[tuple[int, int, int, dict[str, Any]]]:
        return [
            (rid, import_id, at, json.loads(changed))
            for rid, import_id, at, changed in self.db.execute(
                "SELECT record_id, import_id, at, changed FROM record_changes "
                "WHERE record_id = ANY(%s) ORDER BY at DESC LIMIT 50",
                (record_ids,),
            )
        ]

    def record_names(self, record_ids: list[int]) -> list[str]:
        return [
            f"{r[0]}:{r[1]}"
            for r in self.db.execute(
                "SELECT source, source_id FROM source_records WHERE id = ANY(%s) "
                "ORDER BY source, source_id",
                (record_ids,),
            )
        ]


#: What `backends.identity_ops` builds for a transaction.
rows = PgIdentityRows
