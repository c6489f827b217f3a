"""A contact as stored: the read every contact write starts and ends with."""

from __future__ import annotations

import sqlite3

from backends.base import NotFound
from backends.models import Contact
from backends.sqlite import rows


def read_contact(db: sqlite3.Connection, contact_id: int) -> Contact:
    """The contact with its customer's name, on `db` (inside the caller's transaction).

    Raises:
        NotFound: no such contact.
    """
    row = db.execute(
        f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} WHERE c.id = ?", (contact_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no contact with id {contact_id}")
    return rows.contact(row)
