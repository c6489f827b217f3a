"""Screen pop and telephony for the PostgreSQL store: lookup, call events, new callers.

What a looked-up value is and a caller card are backends.lookup's; what a call event may
say and how a call moves are backends.telephony's. This module holds the SQL. A ringing
call from an unknown number creates its customer under the same per-sender advisory lock
as an inbound message (backends.postgres.inbound), and events of one call id are
serialised by one of their own, so servers taking the same provider's webhooks agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg

from backends import lookup as pure
from backends import records, telephony
from backends.audit_chain import Actor, diff
from backends.base import InvalidInput, NotFound
from backends.models import Agent, Call, CallState, Channel, CustomerHit, Lookup, LookupKind, Role
from backends.postgres import audit, facts, rows
from backends.postgres.identity import store as identity_store
from backends.postgres.inbound import DEFAULT_REGION, SLA_SECONDS, create_customer, find_customer
from backends.postgres.store import PgStore, scalar
from backends.text import plain

Conn = psycopg.Connection[Any]


def _by_identity(db: Conn, kinds: tuple[str, ...], values: tuple[str, ...]) -> list[int]:
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


def lookup(
    store: PgStore,
    value: str,
    limit: int,
    search: Callable[[str, int], tuple[CustomerHit, ...]],
    as_kind: LookupKind | None = None,
) -> Lookup:
    """The PostgreSQL implementation of `Backend.lookup`; `search` is the backend's
    type-ahead search (for a name or a partial number)."""
    text, kind, norm = pure.read_as(value, limit, as_kind, DEFAULT_REGION)
    ids: list[int] = []
    matched = kind.value
    with store.read() as db:
        kinds, values = pure.identity_keys(kind, text, norm)
        if kinds:
            ids = _by_identity(db, kinds, values)
        if pure.try_order(kind, ids, text):
            order = scalar(db, "SELECT customer_id FROM orders WHERE number = %s", (text.upper(),))
            if order is not None:
                kind, norm, matched, ids = LookupKind.ORDER, text.upper(), "order", [int(order)]
    hits = pure.matches(ids, matched, limit, as_kind, search, text)
    with store.read() as db:
        cards = tuple(card for cid, how in hits.items() if (card := _card(db, cid, how)))
    return Lookup(query=text, kind=kind, value=norm, matches=cards)


def _card(db: Conn, customer_id: int, matched: str) -> Any:
    row = db.execute(
        f"SELECT {pure.CARD_COLUMNS} FROM customers WHERE id = %s", (customer_id,)
    ).fetchone()
    if row is None:
        return None
    contacts = tuple(
        rows.contact(r)
        for r in db.execute(
            f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} "
            "WHERE c.customer_id = %s AND c.status <> 'resolved' "
            "ORDER BY c.created_at DESC, c.id DESC LIMIT %s",
            (customer_id, pure.OPEN_CONTACTS),
        )
    )
    return pure.card(row, matched, contacts, facts.customer_facts(db, customer_id))


# -- call events ---------------------------------------------------------------------------


def _log(db: Conn, now: int, entity: str, entity_id: int, action: str, actor: str) -> None:
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (%s,%s,%s,%s,%s)",
        (now, entity, entity_id, action, actor),
    )


def _check_agent(db: Conn, agent: str) -> None:
    role = scalar(db, "SELECT role FROM agents WHERE name = %s", (agent,))
    if role is None:
        raise InvalidInput(f"the call is offered to {agent!r}, who is not an agent")
    if role == Role.SUPERVISOR.value:
        raise InvalidInput(f"{agent} is a supervisor and cannot take calls")


def _offer(db: Conn, contact_id: int, agent: str, now: int) -> None:
    db.execute(
        "UPDATE contacts SET assignee = %s, assigned_at = %s, updated_at = %s, "
        "version = version + 1 WHERE id = %s AND assignee IS DISTINCT FROM %s",
        (agent, now, now, contact_id, agent),
    )


def _open_contact(
    db: Conn, customer_id: int, number: str, new_caller: bool, at: int, now: int, actor: str
) -> int:
    """The caller's unresolved phone contact, woken up, or a new one."""
    row = db.execute(
        "SELECT id, status FROM contacts WHERE customer_id = %s AND channel = 'phone' "
        "AND status <> 'resolved' ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE",
        (customer_id,),
    ).fetchone()
    if row is not None:
        status = "open" if row["status"] in ("pending", "snoozed") else row["status"]
        db.execute(
            "UPDATE contacts SET status = %s, snoozed_until = NULL, "
            "last_inbound_at = greatest(coalesce(last_inbound_at, 0), %s), updated_at = %s, "
            "version = version + 1 WHERE id = %s",
            (status, at, now, row["id"]),
        )
        return int(row["id"])
    contact_id = int(
        scalar(
            db,
            "INSERT INTO contacts(customer_id, channel, subject, intent, priority, status, "
            "created_at, updated_at, sla_due_at, last_inbound_at) "
            "VALUES (%s,'phone',%s,'',1,'new',%s,%s,%s,%s) RETURNING id",
            (
                customer_id,
                telephony.subject(number, new_caller),
                at,
                now,
                at + SLA_SECONDS[Channel.PHONE],
                at,
            ),
        )
    )
    _log(db, now, "contact", contact_id, "created", actor)
    return contact_id


def _timeline(
    db: Conn, customer_id: int, contact_id: int, at: int, summary: str, payload: dict[str, object]
) -> None:
    db.execute(
        "INSERT INTO events(customer_id, at, kind, channel, source, summary, payload, "
        "contact_id) VALUES (%s,%s,'call','phone','telephony',%s,%s,%s)",
        (
            customer_id,
            at,
            summary,
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            contact_id,
        ),
    )


def _call_row(db: Conn, call_id: str) -> Any:
    return db.execute("SELECT * FROM calls WHERE call_id = %s", (call_id,)).fetchone()


def record_call(
    store: PgStore,
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
    actor: Actor | None = None,
) -> Call:
    """The PostgreSQL implementation of `Backend.record_call` (see there), as `me`,
    audited as `actor`."""
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
    now, number = event.now, event.number
    with store.write() as db:
        db.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 9))", (f"call:{event.call_id}",)
        )
        if event.agent:
            _check_agent(db, event.agent)
        row = _call_row(db, event.call_id)
        if row is not None and row["caller"] != number:
            raise InvalidInput(f"call {event.call_id} was recorded for another number")
        if row is None:
            db.execute(  # the locks an inbound message from this number takes
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 3))",
                (f"sender:phone:{number}",),
            )
            identity_store.lock_keys(db, [f"phone\x00{number}"])
            customer_id = find_customer(db, "phone", number, event.raw_caller)
            new_caller = customer_id is None
            if customer_id is None:
                customer_id = create_customer(
                    db, Channel.PHONE, "phone", number, event.raw_caller, "", now
                )
                _log(db, now, "customer", customer_id, "created", me.name)
            contact_id = _open_contact(
                db, customer_id, number, new_caller, event.when, now, me.name
            )
            db.execute(
                "INSERT INTO calls(call_id, contact_id, customer_id, state, caller, dialled, "
                "queue, agent, extension, recording, new_caller, started_at, updated_at) "
                "VALUES (%s,%s,%s,'ringing',%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (
                    event.call_id,
                    contact_id,
                    customer_id,
                    number,
                    event.dialled,
                    event.queue,
                    event.agent,
                    event.extension,
                    event.recording,
                    int(new_caller),
                    event.when,
                    now,
                ),
            )
            _timeline(db, customer_id, contact_id, event.when, *telephony.ringing_entry(event))
            if event.agent:
                _offer(db, contact_id, event.agent, now)
            _log(db, now, "contact", contact_id, telephony.ACTIONS[CallState.RINGING], me.name)
            row = _call_row(db, event.call_id)
        if event.state is not CallState.RINGING or event.agent and event.agent != row["agent"]:
            row = _advance(db, row, event, me.name)
        if actor is not None:
            audit.record(
                db,
                actor,
                now,
                f"call-{event.state.value}",
                "call",
                event.call_id,
                customer_id=row["customer_id"],
                detail={"contact_id": row["contact_id"], "state": row["state"]},
            )
        return telephony.call(row)


def _advance(db: Conn, row: Any, event: telephony.CallEvent, actor: str) -> Any:
    """Move a stored call to the event's state (never back), offering it to its agent."""
    sets, moved = telephony.advance(row, event)
    if not sets:
        return row
    db.execute(
        f"UPDATE calls SET {', '.join(f'{k} = %s' for k in sets)} WHERE call_id = %s",
        (*sets.values(), row["call_id"]),
    )
    contact_id, now, state = row["contact_id"], event.now, event.state
    if "agent" in sets:  # offered to (or answered by) someone else: their console pops it
        _offer(db, contact_id, event.agent, now)
        _log(db, now, "contact", contact_id, telephony.ACTIONS[CallState.RINGING], actor)
    if moved:
        if state is CallState.ANSWERED:
            db.execute(
                "UPDATE contacts SET status = CASE WHEN status = 'new' THEN 'open' ELSE status "
                "END, updated_at = %s, version = version + 1 WHERE id = %s",
                (now, contact_id),
            )
        if state is CallState.ENDED:
            summary, payload = telephony.ended_entry(telephony.call(_call_row(db, row["call_id"])))
            _timeline(db, row["customer_id"], contact_id, event.when, summary, payload)
        _log(db, now, "contact", contact_id, telephony.ACTIONS[state], actor)
    elif "recording" in sets:
        _log(db, now, "contact", contact_id, "call-recording", actor)
    return _call_row(db, row["call_id"])


def calls(store: PgStore, contact_id: int) -> tuple[Call, ...]:
    """The PostgreSQL implementation of `Backend.calls`."""
    rows.check_id(contact_id, "contact id")
    with store.read() as db:
        if scalar(db, "SELECT 1 FROM contacts WHERE id = %s", (contact_id,)) is None:
            raise NotFound(f"no contact with id {contact_id}")
        found = db.execute(
            "SELECT * FROM calls WHERE contact_id = %s ORDER BY started_at DESC, call_id",
            (contact_id,),
        ).fetchall()
    return tuple(telephony.call(r) for r in found)


def name_caller(
    store: PgStore,
    me: Agent,
    now_at: datetime,
    customer_id: int,
    name: str,
    email: str,
    actor: Actor | None = None,
) -> None:
    """The PostgreSQL implementation of `Backend.name_caller`, writing the name (and the
    e-mail identity) as `me`; the backend reads the customer back."""
    first, last, address = telephony.check_name(name, email)
    rows.check_id(customer_id, "customer id")
    now = records.to_ts(now_at)
    with store.write() as db:
        row = db.execute(
            "SELECT emails, first_name, last_name FROM customers WHERE id = %s FOR UPDATE",
            (customer_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no customer with id {customer_id}")
        emails = json.loads(row["emails"])
        if address and address not in emails:
            emails.append(address)
        db.execute(
            "UPDATE customers SET first_name = %s, last_name = %s, emails = %s, updated_at = %s, "
            "version = version + 1 WHERE id = %s",
            (first, last, json.dumps(emails), now, customer_id),
        )
        record = scalar(
            db,
            "SELECT id FROM source_records WHERE customer_id = %s "
            "ORDER BY source = 'inbound' DESC, id LIMIT 1",
            (customer_id,),
        )
        if address and record is not None:
            db.execute(
                "INSERT INTO identities(record_id, kind, value, raw) VALUES (%s,'email',%s,%s) "
                "ON CONFLICT DO NOTHING",
                (record, address, email.strip()),
            )
        db.execute(
            "UPDATE customer_search SET name = %s, emails = %s WHERE customer_id = %s",
            (plain(name.strip()), " ".join(emails), customer_id),
        )
        _log(db, now, "customer", customer_id, "named", me.name)
        if actor is not None:
            changes = diff(
                {"first_name": row["first_name"], "last_name": row["last_name"]},
                {"first_name": first, "last_name": last},
            )
            if address:
                changes["email"] = [None, address]
            audit.record(
                db,
                actor,
                now,
                "name-caller",
                "customer",
                customer_id,
                customer_id=customer_id,
                changes=changes,
            )
