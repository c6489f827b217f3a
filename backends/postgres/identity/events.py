"""The PostgreSQL statements of storing imported events (`batch.EventRows`; the flow is
`backends.identity.batch.write_events`'s): an event takes the sequence's next id, or
keeps the one it replaces."""

from __future__ import annotations

from typing import Any

from backends.identity import batch
from backends.identity.events import IncomingEvent
from backends.identity_rows import PyformatRows
from backends.postgres import values as computed


class PgEventRows(PyformatRows):
    """`batch.EventRows` over a PostgreSQL connection."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def identity_holder(self, kind: str, value: str) -> tuple[int, int] | None:
        row = self.db.execute(
            "SELECT r.customer_id, r.id FROM identities i JOIN source_records r ON r.id = "
            "i.record_id WHERE i.kind = %s AND i.value = %s AND r.customer_id IS NOT NULL "
            "ORDER BY r.updated_at DESC, r.id LIMIT 1",
            (kind, value),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def put_event(
        self, source: str, item: IncomingEvent, customer_id: int, record_id: int
    ) -> tuple[int, bool]:
        old = self.db.execute(
            "DELETE FROM events WHERE source = %s AND external_id = %s RETURNING id",
            (source, item.external_id),
        ).fetchone()
        row = self.db.execute(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
            "record_id, external_id) VALUES (%s,%s,coalesce(%s, nextval('events_id_seq')),"
            "%s,%s,%s,%s,%s,%s,%s) RETURNING id",
            batch.event_row(source, item, customer_id, record_id, None if old is None else old[0]),
        ).fetchone()
        return int(row[0]), old is not None

    def put_order(self, item: IncomingEvent, customer_id: int, event_id: int) -> None:
        self.db.execute("DELETE FROM orders WHERE number = %s", (item.number,))
        self.db.execute(
            "INSERT INTO orders(number, customer_id, at, status, total, event_id) "
            "VALUES (%s,%s,%s,%s,%s,%s)",
            (item.number, customer_id, item.at, item.status or "placed", item.total, event_id),
        )

    def search_orders(self, customer_id: int) -> str | None:
        row = self.db.execute(
            "SELECT orders FROM customer_search WHERE customer_id = %s", (customer_id,)
        ).fetchone()
        return None if row is None else row[0] or ""

    def set_search_orders(self, customer_id: int, numbers: str) -> None:
        self.db.execute(
            "UPDATE customer_search SET orders = %s WHERE customer_id = %s", (numbers, customer_id)
        )

    def refresh_values(self, customer_ids: list[int], now: int) -> None:
        computed.refresh(self.db, customer_ids, now)


def write_events(
    db: Any, source: str, items: list[IncomingEvent], now: int
) -> tuple[int, int, list[tuple[int, str]]]:
    """See `batch.write_events`."""
    return batch.write_events(PgEventRows(db), source, items, now)
