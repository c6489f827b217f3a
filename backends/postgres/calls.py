"""Screen pop's and telephony's SQL on the PostgreSQL store (the flow is backends/desk.py's
`DeskFlow`): the customers a value names, a caller card's rows, and what a call event writes.

A ringing call from an unknown number creates its customer under the same per-sender
advisory lock as an inbound message (backends.postgres.inbound), and events of one call id
are serialised by one of their own, so servers taking the same provider's webhooks agree.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from backends import lookup as pure
from backends import telephony
from backends.base import NotFound
from backends.models import Contact
from backends.postgres import inbound, rows
from backends.postgres.identity import store as identity_store
from backends.postgres.store import scalar
from backends.telephony import CallEvent

Conn = psycopg.Connection[Any]

DEFAULT_REGION = inbound.DEFAULT_REGION
SLA_SECONDS = inbound.SLA_SECONDS
find_customer = inbound.find_customer
create_customer = inbound.create_customer


# -- screen pop ---------------------------------------------------------------------------


def by_identity(db: Conn, kinds: tuple[str, ...], values: tuple[str, ...]) -> list[int]:
    """Customers holding one of `values` as one of `kinds`: the one with the most such
    records first, then the most recently updated."""
    found = db.execute(
        "SELECT r.customer_id, count(*) AS n, max(r.updated_at) AS latest "
        "FROM identities i JOIN source_records r ON r.id = i.record_id "
        "WHERE i.kind = ANY(%s) AND i.value = ANY(%s) AND r.customer_id IS NOT NULL "
        "GROUP BY r.customer_id ORDER BY n DESC, latest DESC, r.customer_id",
        (list(kinds), list(values)),
    ).fetchall()
    return [int(r[0]) for r in found]


def order_customer(db: Conn, number: str) -> int | None:
    found = scalar(db, "SELECT customer_id FROM orders WHERE number = %s", (number,))
    return None if found is None else int(found)


def card_row(db: Conn, customer_id: int) -> Any:
    sql = f"SELECT {pure.CARD_COLUMNS} FROM customers WHERE id = %s"
    return db.execute(sql, (customer_id,)).fetchone()


def open_contacts(db: Conn, customer_id: int) -> tuple[Contact, ...]:
    found = db.execute(
        f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} WHERE c.customer_id = %s "
        "AND c.status <> 'resolved' ORDER BY c.created_at DESC, c.id DESC LIMIT %s",
        (customer_id, pure.OPEN_CONTACTS),
    )
    return tuple(rows.contact(r) for r in found)


# -- call events ---------------------------------------------------------------------------


def lock_call(db: Conn, call_id: str) -> None:
    """Serialise the events of one call id (across servers) until the caller commits."""
    db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 9))", (f"call:{call_id}",))


def lock_caller(db: Conn, number: str) -> None:
    """The locks an inbound message from this number takes (its sender, its identity key)."""
    db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 3))", (f"sender:phone:{number}",))
    identity_store.lock_keys(db, [f"phone\x00{number}"])


def agent_role(db: Conn, name: str) -> str | None:
    role = scalar(db, "SELECT role FROM agents WHERE name = %s", (name,))
    return None if role is None else str(role)


def call_row(db: Conn, call_id: str) -> Any:
    return db.execute("SELECT * FROM calls WHERE call_id = %s", (call_id,)).fetchone()


def offer(db: Conn, contact_id: int, agent: str, now: int) -> None:
    db.execute(
        "UPDATE contacts SET assignee = %s, assigned_at = %s, updated_at = %s, "
        "version = version + 1 WHERE id = %s AND assignee IS DISTINCT FROM %s",
        (agent, now, now, contact_id, agent),
    )


def open_phone_contact(db: Conn, customer_id: int) -> Any:
    return db.execute(
        "SELECT id, status FROM contacts WHERE customer_id = %s AND channel = 'phone' "
        "AND status <> 'resolved' ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE",
        (customer_id,),
    ).fetchone()


def wake_contact(db: Conn, contact_id: int, status: str, at: int, now: int) -> None:
    db.execute(
        "UPDATE contacts SET status = %s, snoozed_until = NULL, "
        "last_inbound_at = greatest(coalesce(last_inbound_at, 0), %s), updated_at = %s, "
        "version = version + 1 WHERE id = %s",
        (status, at, now, contact_id),
    )


def add_phone_contact(db: Conn, customer_id: int, subject: str, at: int, now: int, due: int) -> int:
    return int(
        scalar(
            db,
            "INSERT INTO contacts(customer_id, channel, subject, intent, priority, status, "
            "created_at, updated_at, sla_due_at, last_inbound_at) "
            "VALUES (%s,'phone',%s,'',1,'new',%s,%s,%s,%s) RETURNING id",
            (customer_id, subject, at, now, due, at),
        )
    )


def add_call(
    db: Conn, event: CallEvent, contact_id: int, customer_id: int, new_caller: bool
) -> None:
    db.execute(
        f"INSERT INTO calls(state, {telephony.CALL_COLUMNS}) "
        "VALUES ('ringing',%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
        telephony.new_call(event, contact_id, customer_id, new_caller),
    )


def add_call_event(
    db: Conn, customer_id: int, contact_id: int, at: int, summary: str, payload: dict[str, object]
) -> None:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    db.execute(
        "INSERT INTO events(customer_id, at, kind, channel, source, summary, payload, "
        "contact_id) VALUES (%s,%s,'call','phone','telephony',%s,%s,%s)",
        (customer_id, at, summary, text, contact_id),
    )


def update_call(db: Conn, call_id: str, sets: dict[str, object]) -> None:
    db.execute(
        f"UPDATE calls SET {', '.join(f'{k} = %s' for k in sets)} WHERE call_id = %s",
        (*sets.values(), call_id),
    )


def answer_contact(db: Conn, contact_id: int, now: int) -> None:
    db.execute(
        "UPDATE contacts SET status = CASE WHEN status = 'new' THEN 'open' ELSE status "
        "END, updated_at = %s, version = version + 1 WHERE id = %s",
        (now, contact_id),
    )


def contact_calls(db: Conn, contact_id: int) -> list[Any]:
    rows.check_id(contact_id, "contact id")
    if scalar(db, "SELECT 1 FROM contacts WHERE id = %s", (contact_id,)) is None:
        raise NotFound(f"no contact with id {contact_id}")
    return db.execute(
        "SELECT * FROM calls WHERE contact_id = %s ORDER BY started_at DESC, call_id",
        (contact_id,),
    ).fetchall()


def caller_row(db: Conn, customer_id: int) -> Any:
    rows.check_id(customer_id, "customer id")
    return db.execute(
        "SELECT emails, first_name, last_name FROM customers WHERE id = %s FOR UPDATE",
        (customer_id,),
    ).fetchone()


def name_customer(db: Conn, customer_id: int, first: str, last: str, emails: str, now: int) -> None:
    db.execute(
        "UPDATE customers SET first_name = %s, last_name = %s, emails = %s, updated_at = %s, "
        "version = version + 1 WHERE id = %s",
        (first, last, emails, now, customer_id),
    )


def add_email(db: Conn, customer_id: int, address: str, raw: str) -> None:
    """The e-mail identity, on the customer's first record (an inbound one first)."""
    record = scalar(
        db,
        "SELECT id FROM source_records WHERE customer_id = %s "
        "ORDER BY source = 'inbound' DESC, id LIMIT 1",
        (customer_id,),
    )
    if record is not None:
        db.execute(
            "INSERT INTO identities(record_id, kind, value, raw) VALUES (%s,'email',%s,%s) "
            "ON CONFLICT DO NOTHING",
            (record, address, raw.strip()),
        )


def index_name(db: Conn, customer_id: int, name: str, emails: str) -> None:
    db.execute(
        "UPDATE customer_search SET name = %s, emails = %s WHERE customer_id = %s",
        (name, emails, customer_id),
    )
