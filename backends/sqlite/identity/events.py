"""The SQLite statements of storing imported events (`batch.EventRows`; the flow is
`backends.identity.batch.write_events`'s): an event takes the next id, or keeps the one
it replaces."""

from __future__ import annotations

import sqlite3

from backends.identity import batch
from backends.identity.events import IncomingEvent
from backends.identity_rows import PortableRows
from backends.sqlite import values as computed


class SQLiteEventRows(PortableRows):
    """`batch.EventRows` over a SQLite connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.next_id: int | None = None  # the last event id taken by this batch

    def identity_holder(self, kind: str, value: str) -> tuple[int, int] | None:
        row = self.db.execute(
            "SELECT r.customer_id, r.id FROM identities i JOIN source_records r ON r.id = "
            "i.record_id WHERE i.kind = ? AND i.value = ? AND r.customer_id IS NOT NULL "
            "ORDER BY r.updated_at DESC LIMIT 1",
            (kind, value),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def put_event(
        self, source: str, item: IncomingEvent, customer_id: int, record_id: int
    ) -> tuple[int, bool]:
        db = self.db
        if self.next_id is None:
            self.next_id = int(db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
        old = db.execute(
            "SELECT id FROM events WHERE source = ? AND external_id = ?", (source, item.external_id)
        ).fetchone()
        if old is not None:
            event_id = int(old[0])
            db.execute("DELETE FROM events WHERE id = ?", (event_id,))
        else:
            self.next_id += 1
            event_id = self.next_id
        db.execute(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
            "record_id, external_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            batch.event_row(source, item, customer_id, record_id, event_id),
        )
        return event_id, old is not None

    def put_order(self, item: IncomingEvent, customer_id: int, event_id: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO orders(number, customer_id, at, status, total, "
            "event_id) VALUES (?,?,?,?,?,?)",
            (item.number, customer_id, item.at, item.status or "placed", item.total, event_id),
        )

    def search_orders(self, customer_id: int) -> str | None:
        row = self.db.execute(
            "SELECT orders FROM customer_search WHERE rowid = ?", (customer_id,)
        ).fetchone()
        return None if row is None else row[0] or ""

    def set_search_orders(self, customer_id: int, numbers: str) -> None:
        self.db.execute(
            "UPDATE customer_search SET orders = ? WHERE rowid = ?", (numbers, customer_id)
        )

    def refresh_values(self, customer_ids: list[int], now: int) -> None:
        computed.refresh(self.db, customer_ids, computed.config_of(self.db), now)


def write_events(
    db: sqlite3.Connection, source: str, items: list[IncomingEvent], now: int
) -> tuple[int, int, list[tuple[int, str]]]:
    """See `batch.write_events`."""
    return batch.write_events(SQLiteEventRows(db), source, items, now)
