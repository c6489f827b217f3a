"""Rows to models, the change feed's entries, and the store's time and cursor encodings."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from backends.base import InvalidInput
from backends.models import (
    Channel,
    Contact,
    ContactStatus,
    Delivery,
    Direction,
    EventKind,
    Message,
    Priority,
    Template,
    TimelineEvent,
)
from backends.payload import Payload
from backends.records import ts


def decode_cursor(cursor: str, arity: int) -> tuple[int, ...]:
    try:
        parts = tuple(int(p) for p in cursor.split("."))
    except ValueError:
        parts = ()
    if len(parts) != arity:
        raise InvalidInput(f"malformed cursor: {cursor!r}")
    return parts


CONTACT_COLUMNS = (
    "c.id, c.channel, c.customer_id, c.subject, c.intent, c.priority, c.status, c.created_at, "
    "c.updated_at, c.first_response_at, c.resolved_at, c.sla_due_at, c.assignee, "
    "c.snoozed_until, c.last_inbound_at, c.version, c.prio_sort, c.sla_sort, "
    "trim(cu.first_name || ' ' || cu.last_name) AS customer_name, c.language, c.intent_source"
)
CONTACT_FROM = "contacts c JOIN customers cu ON cu.id = c.customer_id"


_CHANNELS = {c.value: c for c in Channel}
_STATUSES = {s.value: s for s in ContactStatus}


def contact(row: sqlite3.Row) -> Contact:
    """A row of `CONTACT_COLUMNS` as a model (by position: a queue page builds 50 of them
    per request, and an index is read faster than a name)."""
    stamp = datetime.fromtimestamp
    return Contact(
        row[0],
        _CHANNELS.get(row[1]) or Channel(row[1]),
        row[2],
        row[18] or f"customer {row[2]}",
        row[3],
        row[4],
        Priority.from_rank(row[5]),
        _STATUSES.get(row[6]) or ContactStatus(row[6]),
        stamp(row[7], UTC),
        stamp(row[8], UTC),
        None if row[9] is None else stamp(row[9], UTC),
        None if row[10] is None else stamp(row[10], UTC),
        None if row[11] is None else stamp(row[11], UTC),
        row[12],
        None if row[13] is None else stamp(row[13], UTC),
        None if row[14] is None else stamp(row[14], UTC),
        row[15],
        row[19],
        row[20],
    )


def queue_key(row: sqlite3.Row) -> tuple[int, int, int, int]:
    return (row["prio_sort"], row["sla_sort"], row["created_at"], row["id"])


def message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        contact_id=row["contact_id"],
        direction=Direction(row["direction"]),
        channel=Channel(row["channel"]),
        author=row["author"],
        body=row["body"],
        at=ts(row["at"]),
        external_id=row["external_id"],
        delivery=Delivery(row["delivery"]) if row["delivery"] else None,
        failure=row["failure"],
    )


def template(row: sqlite3.Row) -> Template:
    return Template(
        id=row["id"],
        name=row["name"],
        body=row["body"],
        channel=Channel(row["channel"]) if row["channel"] else None,
        language=row["language"],
        whatsapp_approved=bool(row["whatsapp_approved"]),
        html=row["html"],
        provider_name=row["provider_name"],
        retired=bool(row["retired"]),
    )


_KINDS = {k.value: k for k in EventKind}

#: The `events` columns `event` reads, in its order (select these into a plain tuple row).
EVENT_COLUMNS = "id, customer_id, at, kind, channel, source, summary, payload, contact_id"


def event(row: tuple[Any, ...]) -> TimelineEvent:
    """A row of `EVENT_COLUMNS` as a model (positional, from a tuple: this runs 200 times
    per customer opened, and a tuple row is read about twice as fast as `sqlite3.Row`).
    The payload stays JSON text until something reads it (`backends.payload`)."""
    kind = row[3]
    return TimelineEvent(
        row[0],
        row[1],
        datetime.fromtimestamp(row[2], UTC),
        _KINDS.get(kind) or EventKind(kind),
        row[4],
        row[5],
        row[6],
        Payload(row[7]),
        row[8],
    )


def tuples(db: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """All rows of a query as plain tuples (whatever the connection's row factory)."""
    cur = db.cursor()
    cur.row_factory = None
    return cur.execute(sql, params).fetchall()


def log_change(
    db: sqlite3.Connection, now: int, entity: str, entity_id: int, action: str, actor: str
) -> None:
    """An entry of the change feed (consoles refresh what it names)."""
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
        (now, entity, entity_id, action, actor),
    )
