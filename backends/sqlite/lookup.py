"""Screen pop's SQL on the SQLite store (the flow is backends/desk.py's `DeskFlow`): the
customers a value names, through the identities index or the orders table's key, and the
columns and open contacts of a caller card.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from backends import lookup as pure
from backends.models import Contact
from backends.sqlite import inbound, rows

DEFAULT_REGION = inbound.DEFAULT_REGION


def by_identity(
    db: sqlite3.Connection, kinds: tuple[str, ...], values: tuple[str, ...]
) -> list[int]:
    """Customers holding one of `values` as one of `kinds`: the one with the most such
    records first, then the most recently updated."""
    found = db.execute(
        "SELECT r.customer_id, count(*) AS n, max(r.updated_at) AS latest "
        "FROM identities i JOIN source_records r ON r.id = i.record_id "
        f"WHERE i.kind IN ({','.join('?' * len(kinds))}) "
        f"AND i.value IN ({','.join('?' * len(values))}) AND r.customer_id IS NOT NULL "
        "GROUP BY r.customer_id ORDER BY n DESC, latest DESC, r.customer_id",
        (*kinds, *values),
    ).fetchall()
    return [int(r[0]) for r in found]


def order_customer(db: sqlite3.Connection, number: str) -> int | None:
    row = db.execute("SELECT customer_id FROM orders WHERE number = ?", (number,)).fetchone()
    return None if row is None else int(row[0])


def card_row(db: sqlite3.Connection, customer_id: int) -> Any:
    sql = f"SELECT {pure.CARD_COLUMNS} FROM customers WHERE id = ?"
    return db.execute(sql, (customer_id,)).fetchone()


def open_contacts(db: sqlite3.Connection, customer_id: int) -> tuple[Contact, ...]:
    found = db.execute(
        f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} WHERE c.customer_id = ? "
        "AND c.status <> 'resolved' ORDER BY c.created_at DESC, c.id DESC LIMIT ?",
        (customer_id, pure.OPEN_CONTACTS),
    )
    return tuple(rows.contact(r) for r in found)
