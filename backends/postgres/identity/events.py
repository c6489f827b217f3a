"""Storing imported events in PostgreSQL: attach each to the customer one of its
identifiers names, and insert or replace it (with its order row) in one batch."""

from __future__ import annotations

from typing import Any

from backends.identity.events import IncomingEvent
from backends.identity.jsontext import dumps
from backends.postgres import values as computed


def attach(db: Any, source: str, probes: list[tuple[str, str]]) -> tuple[int, int] | None:
    """(customer id, record id) of the first identifier that names a resolved record."""
    for kind, value in probes:
        if kind == "external_id":
            other, _, sid = value[1:].partition(":")
            row = db.execute(
                "SELECT customer_id, id FROM source_records WHERE source = %s "
                "AND source_id = %s AND customer_id IS NOT NULL",
                (other or source, sid),
            ).fetchone()
        else:
            row = db.execute(
                "SELECT r.customer_id, r.id FROM identities i JOIN source_records r ON r.id = "
                "i.record_id WHERE i.kind = %s AND i.value = %s AND r.customer_id IS NOT NULL "
                "ORDER BY r.updated_at DESC, r.id LIMIT 1",
                (kind, value),
            ).fetchone()
        if row is not None:
            return int(row[0]), int(row[1])
    return None


def write_events(
    db: Any, source: str, items: list[IncomingEvent], now: int
) -> tuple[int, int, list[tuple[int, str]]]:
    """Insert or replace a batch of events: (created, updated, [(line, reason) unattached])."""
    created = updated = 0
    unattached: list[tuple[int, str]] = []
    touched: dict[int, list[str]] = {}
    for item in items:
        found = attach(db, source, item.probes)
        if found is None:
            unattached.append((item.line, "no customer has any of its identifiers"))
            continue
        cid, rid = found
        if item.kind in ("refund", "return") and item.total and "amount" not in item.payload:
            item.payload["amount"] = item.total
        old = db.execute(
            "DELETE FROM events WHERE source = %s AND external_id = %s RETURNING id",
            (source, item.external_id),
        ).fetchone()
        if old is not None:
            updated += 1
        else:
            created += 1
        db.execute(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
            "record_id, external_id) VALUES (%s,%s,coalesce(%s, nextval('events_id_seq')),"
            "%s,%s,%s,%s,%s,%s,%s)",
            (
                cid,
                item.at,
                None if old is None else old[0],
                item.kind,
                item.channel,
                source,
                item.summary,
                dumps(item.payload),
                rid,
                item.external_id,
            ),
        )
        touched.setdefault(cid, [])
        if item.kind == "order" and item.number:
            db.execute("DELETE FROM orders WHERE number = %s", (item.number,))
            db.execute(
                "INSERT INTO orders(number, customer_id, at, status, total, event_id) "
                "SELECT %s, %s, %s, %s, %s, id FROM events WHERE source = %s "
                "AND external_id = %s",
                (
                    item.number,
                    cid,
                    item.at,
                    item.status or "placed",
                    item.total,
                    source,
                    item.external_id,
                ),
            )
            touched[cid].append(item.number)
    for cid, numbers in touched.items():
        if numbers:
            row = db.execute(
                "SELECT orders FROM customer_search WHERE customer_id = %s", (cid,)
            ).fetchone()
            if row is not None:
                merged = " ".join(dict.fromkeys((row[0] or "").split() + numbers))
                db.execute(
                    "UPDATE customer_search SET orders = %s WHERE customer_id = %s",
                    (merged, cid),
                )
    if touched:
        with db.cursor() as cur:
            cur.executemany(
                "INSERT INTO changes(at, entity, entity_id, action, actor) "
                "VALUES (%s,'customer',%s,'events','import')",
                [(now, cid) for cid in touched],
            )
    computed.refresh(db, touched, now)
    return created, updated, unattached
