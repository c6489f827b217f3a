"""Telephony's SQL on the SQLite store (the flow is backends/desk.py's `DeskFlow`): a ringing
call opens or continues a phone contact.

The caller's number is resolved to a customer as an inbound message's sender is
(backends.sqlite.inbound); an unknown number gets a customer of its own. One writer at a
time (BEGIN IMMEDIATE): nothing here locks rows.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from backends import telephony
from backends.sqlite import inbound
from backends.sqlite.contacts import read_contact
from backends.telephony import CallEvent

DEFAULT_REGION = inbound.DEFAULT_REGION
SLA_SECONDS = inbound.SLA_SECONDS
find_customer = inbound.find_customer
create_customer = inbound.create_customer


def lock_call(db: sqlite3.Connection, call_id: str) -> None:
    """Nothing: the write transaction already serialises every writer."""


def lock_caller(db: sqlite3.Connection, number: str) -> None:
    """Nothing: the write transaction already serialises every writer."""


def agent_role(db: sqlite3.Connection, name: str) -> str | None:
    row = db.execute("SELECT role FROM agents WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row["role"])


def call_row(db: sqlite3.Connection, call_id: str) -> Any:
    return db.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()


def offer(db: sqlite3.Connection, contact_id: int, agent: str, now: int) -> None:
    db.execute(
        "UPDATE contacts SET assignee = ?, assigned_at = ?, updated_at = ?, version = version + 1 "
        "WHERE id = ? AND coalesce(assignee, '') <> ?",
        (agent, now, now, contact_id, agent),
    )


def open_phone_contact(db: sqlite3.Connection, customer_id: int) -> Any:
    return db.execute(
        "SELECT id, status FROM contacts WHERE customer_id = ? AND channel = 'phone' "
        "AND status <> 'resolved' ORDER BY created_at DESC, id DESC LIMIT 1",
        (customer_id,),
    ).fetchone()


def wake_contact(db: sqlite3.Connection, contact_id: int, status: str, at: int, now: int) -> None:
    db.execute(
        "UPDATE contacts SET status = ?, snoozed_until = NULL, "
        "last_inbound_at = max(coalesce(last_inbound_at, 0), ?), updated_at = ?, "
        "version = version + 1 WHERE id = ?",
        (status, at, now, contact_id),
    )


def add_phone_contact(
    db: sqlite3.Connection, customer_id: int, subject: str, at: int, now: int, due: int
) -> int:
    cur = db.execute(
        "INSERT INTO contacts(customer_id, channel, subject, intent, priority, status, "
        "created_at, updated_at, sla_due_at, last_inbound_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (customer_id, "phone", subject, "", 1, "new", at, now, due, at),
    )
    return int(cur.lastrowid or 0)


def add_call(
    db: sqlite3.Connection, event: CallEvent, contact_id: int, customer_id: int, new_caller: bool
) -> None:
    db.execute(
        f"INSERT INTO calls(state, {telephony.CALL_COLUMNS}) "
        "VALUES ('ringing',?,?,?,?,?,?,?,?,?,?,?,?)",
        telephony.new_call(event, contact_id, customer_id, new_caller),
    )


def add_call_event(
    db: sqlite3.Connection,
    customer_id: int,
    contact_id: int,
    at: int,
    summary: str,
    payload: dict[str, object],
) -> None:
    event_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0]
    db.execute(
        "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
        "contact_id) VALUES (?,?,?,'call','phone','telephony',?,?,?)",
        (
            customer_id,
            at,
            event_id,
            summary,
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            contact_id,
        ),
    )


def update_call(db: sqlite3.Connection, call_id: str, sets: dict[str, object]) -> None:
    db.execute(
        f"UPDATE calls SET {', '.join(f'{k} = ?' for k in sets)} WHERE call_id = ?",
        (*sets.values(), call_id),
    )


def answer_contact(db: sqlite3.Connection, contact_id: int, now: int) -> None:
    db.execute(
        "UPDATE contacts SET status = CASE WHEN status = 'new' THEN 'open' ELSE status END, "
        "updated_at = ?, version = version + 1 WHERE id = ?",
        (now, contact_id),
    )


def contact_calls(db: sqlite3.Connection, contact_id: int) -> list[Any]:
    read_contact(db, contact_id)  # NotFound
    return db.execute(
        "SELECT * FROM calls WHERE contact_id = ? ORDER BY started_at DESC, call_id",
        (contact_id,),
    ).fetchall()


def caller_row(db: sqlite3.Connection, customer_id: int) -> Any:
    return db.execute(
        "SELECT emails, first_name, last_name FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()


def name_customer(
    db: sqlite3.Connection, customer_id: int, first: str, last: str, emails: str, now: int
) -> None:
    db.execute(
        "UPDATE customers SET first_name = ?, last_name = ?, emails = ?, updated_at = ?, "
        "version = version + 1 WHERE id = ?",
        (first, last, emails, now, customer_id),
    )


def add_email(db: sqlite3.Connection, customer_id: int, address: str, raw: str) -> None:
    """The e-mail identity, on the customer's first record (an inbound one first)."""
    record = db.execute(
        "SELECT id FROM source_records WHERE customer_id = ? ORDER BY source = 'inbound' DESC, "
        "id LIMIT 1",
        (customer_id,),
    ).fetchone()
    if record is not None:
        db.execute(
            "INSERT OR IGNORE INTO identities(record_id, kind, value, raw) VALUES (?,?,?,?)",
            (record["id"], "email", address, raw),
        )


def index_name(db: sqlite3.Connection, customer_id: int, name: str, emails: str) -> None:
    db.execute(
        "UPDATE customer_search SET name = ?, emails = ? WHERE rowid = ?",
        (name, emails, customer_id),
    )
