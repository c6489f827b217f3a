"""A customer's key facts (`CustomerFacts`) from the PostgreSQL store. Payloads are read
in Python: a source system's payload may not be JSON, and then it says nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backends import records
from backends.models import CustomerFacts

_CLOSED_TICKETS = ("closed", "solved")


def _object(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


_COUNTS = (
    "SELECT o.number, o.status, o.at, o.total, oc.n, c.open, c.csat, "
    "l.created_at, l.channel, l.status, o.found, l.found FROM (SELECT 1) one "
    "LEFT JOIN LATERAL (SELECT true AS found, number, status, at, total FROM orders "
    "WHERE customer_id = %(c)s ORDER BY at DESC LIMIT 1) o ON true "
    "CROSS JOIN LATERAL (SELECT count(*) AS n FROM orders WHERE customer_id = %(c)s) oc "
    "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE status <> 'resolved') AS open, "
    "avg(csat) AS csat FROM contacts WHERE customer_id = %(c)s) c "
    "LEFT JOIN LATERAL (SELECT true AS found, created_at, channel, status FROM contacts "
    "WHERE customer_id = %(c)s ORDER BY created_at DESC LIMIT 1) l ON true"
)
#: Tickets and surveys (newest first), and the newest event of each web-journey kind.
_EVENTS = (
    "SELECT kind, at, id, summary, payload FROM events WHERE customer_id = %(c)s "
    "AND kind IN ('ticket', 'survey') "
    "UNION ALL (SELECT DISTINCT ON (kind) kind, at, id, summary, payload FROM events "
    "WHERE customer_id = %(c)s AND kind IN ('web_session', 'product_view', 'checkout_step') "
    "ORDER BY kind, at DESC, id DESC)"
)


def customer_facts(db: Any, customer_id: int) -> CustomerFacts:
    """The facts of an existing customer (inside the caller's transaction): two statements,
    each a round trip to the server unless `db` is in pipeline mode."""
    return queue(db, customer_id)(None)


def queue(db: Any, customer_id: int) -> Callable[[Any], CustomerFacts]:
    """Send the statements of a customer's facts (in pipeline mode they wait to be sent
    with the others); the function returned reads their results (its argument is ignored)."""
    ids = {"c": customer_id}
    counts = db.execute(_COUNTS, ids)
    events = db.execute(_EVENTS, ids)
    return lambda _row: _facts(customer_id, counts.fetchone(), events.fetchall())


def _facts(customer_id: int, row: Any, events: list[Any]) -> CustomerFacts:
    """The facts from the rows of `_COUNTS` and `_EVENTS`."""
    order = row[0:4] if row[10] else None
    orders_count = row[4]
    contacts = row[5:7]
    last = row[7:10] if row[11] else None
    tickets = 0
    surveys: list[tuple[int, int, Any]] = []
    newest: dict[str, tuple[int, str, Any]] = {}
    for kind, at, event_id, summary, payload in events:
        if kind == "ticket":
            tickets += _object(payload).get("status") not in _CLOSED_TICKETS
        elif kind == "survey":
            surveys.append((at, event_id, payload))
        else:
            newest[kind] = (at, summary, payload)
    nps = None
    for _at, _id, payload in sorted(surveys, key=lambda s: (s[0], s[1]), reverse=True):
        value = _object(payload).get("nps")
        if value is not None:
            nps = value
            break
    web = _web_journey(newest, order[2] if order else None)
    return CustomerFacts(
        customer_id=customer_id,
        last_order_number=order[0] if order else None,
        last_order_status=order[1] if order else None,
        last_order_at=records.from_ts(order[2]) if order else None,
        last_order_total=order[3] if order else None,
        open_tickets=tickets,
        open_contacts=contacts[0] or 0,
        last_contact_at=records.from_ts(last[0]) if last else None,
        last_contact_channel=last[1] if last else None,
        last_contact_outcome=last[2] if last else None,
        orders_count=orders_count,
        csat_average=round(float(contacts[1]), 2) if contacts[1] is not None else None,
        nps_last=nps,
        **web,
    )


def _web_journey(
    rows: dict[str, tuple[int, str, Any]], last_order_at: int | None
) -> dict[str, Any]:
    """The newest visit and product view, and the newest checkout left unfinished if no
    order came after it (as the SQLite store reads them), from the newest event of each
    kind (`rows`: kind -> (at, summary, payload))."""
    newest: dict[str, tuple[int, str, list[Any]]] = {}
    for kind, field, extra in (
        ("web_session", "abandoned_at", "abandoned_at"),
        ("product_view", "name", "name"),
        ("checkout_step", "step", "cart"),
    ):
        row = rows.get(kind)
        if row is not None:
            payload = _object(row[2])
            newest[kind] = (row[0], row[1], [payload.get(field), payload.get(extra)])
    out: dict[str, Any] = {}
    visit, viewed, step = (newest.get(k) for k in ("web_session", "product_view", "checkout_step"))
    if visit is not None:
        out["last_visit_at"] = records.from_ts(visit[0])
        out["last_visit"] = visit[1] or None
    if viewed is not None:
        name = viewed[2][0]
        out["last_viewed"] = str(name) if name not in (None, "") else (viewed[1] or None)
    left: tuple[int, str, Any] | None = None
    if step is not None:
        left = (step[0], str(step[2][0] or "?"), step[2][1])
    if visit is not None and visit[2][0] and (left is None or visit[0] > left[0]):
        left = (visit[0], str(visit[2][0]), None)
    if left is not None and (last_order_at is None or left[0] > last_order_at):
        out["checkout_abandoned_at"] = records.from_ts(left[0])
        out["checkout_abandoned_step"] = left[1]
        cart = left[2] if isinstance(left[2], list) else []
        out["checkout_cart"] = tuple(
            str(item.get("name") or item.get("sku") or "?")
            for item in cart
            if isinstance(item, dict)
        )
    return out
