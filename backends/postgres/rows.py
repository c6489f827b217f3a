"""PostgreSQL rows to models, the change feed's entries, and the store's time and cursor encodings (the same as the
SQLite store's: unix seconds, and cursors of dot-separated integers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backends.base import InvalidInput
from backends.limits import INT_MAX, INT_MIN
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


def check_id(value: int, what: str = "id") -> int:
    """An id or version as the store holds them (64-bit), or InvalidInput."""
    if not INT_MIN <= value <= INT_MAX:
        raise InvalidInput(
            f"{what} is out of range: ids, versions and offsets are whole numbers "
            f"from {INT_MIN} to {INT_MAX}"
        )
    return value


def decode_cursor(cursor: str, arity: int) -> tuple[int, ...]:
    try:
        parts = tuple(int(p) for p in cursor.split("."))
    except ValueError:
        parts = ()
    if len(parts) != arity or not all(INT_MIN <= p <= INT_MAX for p in parts):
        raise InvalidInput(f"malformed cursor: {cursor!r}")
    return parts


CONTACT_COLUMNS = (
    "c.id, c.channel, c.customer_id, c.subject, c.intent, c.priority, c.status, c.created_at, "
    "c.updated_at, c.first_response_at, c.resolved_at, c.sla_due_at, c.assignee, "
    "c.snoozed_until, c.last_inbound_at, c.version, c.prio_sort, c.sla_sort, "
    "trim(cu.first_name || ' ' || cu.last_name) AS customer_name, c.language, c.intent_source"
)
CONTACT_FROM = "contacts c JOIN customers cu ON cu.id = c.customer_id"


def _at(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def contact(row: Any) -> Contact:
    """A row of `CONTACT_COLUMNS` as a model."""
    return Contact(
        row[0],
        Channel(row[1]),
        row[2],
        row[18] or f"customer {row[2]}",
        row[3],
        row[4],
        Priority.from_rank(row[5]),
        ContactStatus(row[6]),
        datetime.fromtimestamp(row[7], UTC),
        datetime.fromtimestamp(row[8], UTC),
        _at(row[9]),
        _at(row[10]),
        _at(row[11]),
        row[12],
        _at(row[13]),
        _at(row[14]),
        row[15],
        row[19],
        row[20],
    )


def queue_key(row: Any) -> tuple[int, int, int, int]:
    return (row[16], row[17], row[7], row[0])


MESSAGE_COLUMNS = (
    "id, contact_id, direction, channel, author, body, at, external_id, delivery, failure"
)


def message(row: Any) -> Message:
    """A row of `MESSAGE_COLUMNS` as a model."""
    return Message(
        id=row[0],
        contact_id=row[1],
        direction=Direction(row[2]),
        channel=Channel(row[3]),
        author=row[4],
        body=row[5],
        at=ts(row[6]),
        external_id=row[7],
        delivery=Delivery(row[8]) if row[8] else None,
        failure=row[9],
    )


def template(row: Any) -> Template:
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


#: The `events` columns `event` reads, in its order.
EVENT_COLUMNS = "id, customer_id, at, kind, channel, source, summary, payload, contact_id"


#: Event kinds by their stored value (a dict lookup: an Enum call costs more, 200 a page).
_KINDS = {kind.value: kind for kind in EventKind}


def event(row: Any) -> TimelineEvent:
    """A row of `EVENT_COLUMNS` as a model; the payload stays JSON text until read."""
    return TimelineEvent(
        row[0],
        row[1],
        datetime.fromtimestamp(row[2], UTC),
        _KINDS.get(row[3]) or EventKind(row[3]),
        row[4],
        row[5],
        row[6],
        Payload(row[7]),
        row[8],
    )


def log_change(db: Any, now: int, entity: str, entity_id: int, action: str, actor: str) -> None:
    """An entry of the change feed (consoles refresh what it names)."""
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (%s,%s,%s,%s,%s)",
        (now, entity, entity_id, action, actor),
    )
