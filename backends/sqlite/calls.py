"""Telephony events for the SQLite store: a ringing call opens or continues a phone contact.

The caller's number is resolved to a customer as an inbound message's sender is
(backends.sqlite.inbound); an unknown number gets a customer of its own and the call
is marked as a new caller. A call offered to an agent assigns the contact to them and
writes `ringing` to the change feed, which their console follows to open the customer.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from backends import records, telephony
from backends.base import InvalidInput, NotFound
from backends.models import Agent, Call, CallState, Channel, Role
from backends.sqlite import audit
from backends.sqlite.contacts import read_contact
from backends.sqlite.inbound import (
    DEFAULT_REGION,
    SLA_SECONDS,
    create_customer,
    find_customer,
)
from backends.sqlite.store import Store
from backends.text import plain

ACTIONS = telephony.ACTIONS
call_from_row = telephony.call


def _log(
    db: sqlite3.Connection, now: int, entity: str, entity_id: int, action: str, actor: str
) -> None:
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
        (now, entity, entity_id, action, actor),
    )


def _check_agent(db: sqlite3.Connection, agent: str) -> None:
    row = db.execute("SELECT role FROM agents WHERE name = ?", (agent,)).fetchone()
    if row is None:
        raise InvalidInput(f"the call is offered to {agent!r}, who is not an agent")
    if row["role"] == Role.SUPERVISOR.value:
        raise InvalidInput(f"{agent} is a supervisor and cannot take calls")


def _offer(db: sqlite3.Connection, contact_id: int, agent: str, now: int) -> None:
    db.execute(
        "UPDATE contacts SET assignee = ?, assigned_at = ?, updated_at = ?, version = version + 1 "
        "WHERE id = ? AND coalesce(assignee, '') <> ?",
        (agent, now, now, contact_id, agent),
    )


def _open_contact(
    db: sqlite3.Connection,
    customer_id: int,
    number: str,
    new_caller: bool,
    at: int,
    now: int,
    actor: str,
) -> int:
    """The caller's unresolved phone contact, woken up, or a new one."""
    row = db.execute(
        "SELECT id, status FROM contacts WHERE customer_id = ? AND channel = 'phone' "
        "AND status <> 'resolved' ORDER BY created_at DESC, id DESC LIMIT 1",
        (customer_id,),
    ).fetchone()
    if row is not None:
        status = "open" if row["status"] in ("pending", "snoozed") else row["status"]
        db.execute(
            "UPDATE contacts SET status = ?, snoozed_until = NULL, "
            "last_inbound_at = max(coalesce(last_inbound_at, 0), ?), updated_at = ?, "
            "version = version + 1 WHERE id = ?",
            (status, at, now, row["id"]),
        )
        return int(row["id"])
    subject = telephony.subject(number, new_caller)
    cur = db.execute(
        "INSERT INTO contacts(customer_id, channel, subject, intent, priority, status, "
        "created_at, updated_at, sla_due_at, last_inbound_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (customer_id, "phone", subject, "", 1, "new", at, now, at + SLA_SECONDS[Channel.PHONE], at),
    )
    contact_id = int(cur.lastrowid or 0)
    _log(db, now, "contact", contact_id, "created", actor)
    return contact_id


def _timeline(
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
        "contact_id) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            customer_id,
            at,
            event_id,
            "call",
            "phone",
            "telephony",
            summary,
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            contact_id,
        ),
    )


def record_call(
    store: Store,
    me: Agent,
    now_at: datetime,
    call_id: str,
    state: CallState | str,
    caller: str,
    *,
    dialled: str = "",
    queue: str = "",
    agent: str = "",
    extension: str = "",
    recording: str = "",
    at: datetime | None = None,
    actor: audit.Actor | None = None,
) -> Call:
    """The SQLite implementation of `Backend.record_call` (see there), as `me` at `now_at`."""
    event = telephony.check_event(
        call_id,
        state,
        caller,
        dialled=dialled,
        queue=queue,
        agent=agent,
        extension=extension,
        recording=recording,
        at=at,
        now_at=now_at,
        region=DEFAULT_REGION,
    )
    call_id, agent, number, now, when = (
        event.call_id,
        event.agent,
        event.number,
        event.now,
        event.when,
    )
    with store.write() as db:
        if agent:
            _check_agent(db, agent)
        row = db.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        if row is not None and row["caller"] != number:
            raise InvalidInput(f"call {call_id} was recorded for another number")
        if row is None:
            customer_id = find_customer(db, "phone", number, caller)
            new_caller = customer_id is None
            if customer_id is None:
                customer_id = create_customer(
                    db, Channel.PHONE, "phone", number, event.raw_caller, "", now
                )
                _log(db, now, "customer", customer_id, "created", me.name)
            contact_id = _open_contact(db, customer_id, number, new_caller, when, now, me.name)
            db.execute(
                "INSERT INTO calls(call_id, contact_id, customer_id, state, caller, dialled, queue, "
                "agent, extension, recording, new_caller, started_at, updated_at) "
                "VALUES (?,?,?,'ringing',?,?,?,?,?,?,?,?,?)",
                (
                    call_id,
                    contact_id,
                    customer_id,
                    number,
                    event.dialled,
                    event.queue,
                    agent,
                    event.extension,
                    event.recording,
                    int(new_caller),
                    when,
                    now,
                ),
            )
            _timeline(db, customer_id, contact_id, when, *telephony.ringing_entry(event))
            if agent:
                _offer(db, contact_id, agent, now)
            _log(db, now, "contact", contact_id, ACTIONS[CallState.RINGING], me.name)
            row = db.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        if event.state is not CallState.RINGING or agent and agent != row["agent"]:
            row = _advance(db, row, event, me.name)
        if actor is not None:
            audit.record(
                db,
                actor,
                now,
                f"call-{event.state.value}",
                "call",
                call_id,
                customer_id=row["customer_id"],
                detail={"contact_id": row["contact_id"], "state": row["state"]},
            )
        return call_from_row(row)


def _advance(
    db: sqlite3.Connection, row: sqlite3.Row, event: telephony.CallEvent, actor: str
) -> sqlite3.Row:
    """Move a stored call to the event's state (never back), offering it to its agent."""
    sets, moved = telephony.advance(row, event)
    if not sets:
        return row
    db.execute(
        f"UPDATE calls SET {', '.join(f'{k} = ?' for k in sets)} WHERE call_id = ?",
        (*sets.values(), row["call_id"]),
    )
    contact_id, now, state = row["contact_id"], event.now, event.state
    if "agent" in sets:  # offered to (or answered by) someone else: their console pops it
        _offer(db, contact_id, event.agent, now)
        _log(db, now, "contact", contact_id, ACTIONS[CallState.RINGING], actor)
    if moved:
        if state is CallState.ANSWERED:
            db.execute(
                "UPDATE contacts SET status = CASE WHEN status = 'new' THEN 'open' ELSE status END, "
                "updated_at = ?, version = version + 1 WHERE id = ?",
                (now, contact_id),
            )
        new = db.execute("SELECT * FROM calls WHERE call_id = ?", (row["call_id"],)).fetchone()
        if state is CallState.ENDED:
            summary, payload = telephony.ended_entry(call_from_row(new))
            _timeline(db, row["customer_id"], contact_id, event.when, summary, payload)
        _log(db, now, "contact", contact_id, ACTIONS[state], actor)
    elif "recording" in sets:
        _log(db, now, "contact", contact_id, "call-recording", actor)
    return db.execute("SELECT * FROM calls WHERE call_id = ?", (row["call_id"],)).fetchone()


def calls(store: Store, contact_id: int) -> tuple[Call, ...]:
    """The SQLite implementation of `Backend.calls`."""
    with store.read() as db:
        read_contact(db, contact_id)
        found = db.execute(
            "SELECT * FROM calls WHERE contact_id = ? ORDER BY started_at DESC, call_id",
            (contact_id,),
        ).fetchall()
    return tuple(call_from_row(r) for r in found)


def name_caller(
    store: Store,
    me: Agent,
    now_at: datetime,
    customer_id: int,
    name: str,
    email: str,
    actor: audit.Actor | None = None,
) -> None:
    """The SQLite implementation of `Backend.name_caller`, writing the name (and the
    e-mail identity) as `me`; the backend reads the customer back."""
    first, last, address = telephony.check_name(name, email)
    name = name.strip()
    now = records.to_ts(now_at)
    with store.write() as db:
        row = db.execute(
            "SELECT emails, first_name, last_name FROM customers WHERE id = ?", (customer_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no customer with id {customer_id}")
        emails = json.loads(row["emails"])
        if address and address not in emails:
            emails.append(address)
        db.execute(
            "UPDATE customers SET first_name = ?, last_name = ?, emails = ?, updated_at = ?, "
            "version = version + 1 WHERE id = ?",
            (first, last, json.dumps(emails), now, customer_id),
        )
        record = db.execute(
            "SELECT id FROM source_records WHERE customer_id = ? ORDER BY source = 'inbound' DESC, "
            "id LIMIT 1",
            (customer_id,),
        ).fetchone()
        if address and record is not None:
            db.execute(
                "INSERT OR IGNORE INTO identities(record_id, kind, value, raw) VALUES (?,?,?,?)",
                (record["id"], "email", address, email),
            )
        db.execute(
            "UPDATE customer_search SET name = ?, emails = ? WHERE rowid = ?",
            (plain(name), " ".join(emails), customer_id),
        )
        _log(db, now, "customer", customer_id, "named", me.name)
        if actor is not None:
            audit.record(
                db,
                actor,
                now,
                "name-caller",
                "customer",
                customer_id,
                customer_id=customer_id,
                changes=audit.diff(
                    {"first_name": row["first_name"], "last_name": row["last_name"]},
                    {"first_name": first, "last_name": last},
                )
                | ({"email": [None, address]} if address else {}),
            )
