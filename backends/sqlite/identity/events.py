"""Storing imported events: attach each to the customer one of its identifiers names, and
insert or replace it (with its order row) in one batch."""

from __future__ import annotations

import sqlite3

from backends.identity.events import IncomingEvent
from backends.identity.jsontext import dumps
from backends.sqlite import values as computed


def attach(
    db: sqlite3.Connection, source: str, probes: list[tuple[str, str]]
) -> tuple[int, int] | None:
    """(customer id, record id) of the first identifier that names a resolved record."""
    for kind, value in probes:
        if kind == "external_id":
            other, _, sid = value[1:].partition(":")
            row = db.execute(
                "SELECT r.customer_id, r.id FROM source_records r WHERE r.source = ? "
                "AND r.source_id = ? AND r.customer_id IS NOT NULL",
                (other or source, sid),
            ).fetchone()
        else:
            row = db.execute(
                "SELECT r.customer_id, r.id FROM identities i JOIN source_records r ON r.id = "
                "i.record_id WHERE i.kind = ? AND i.value = ? AND r.customer_id IS NOT NULL "
                "ORDER BY r.updated_at DESC LIMIT 1",
                (kind, value),
            ).fetchone()
        if row is not None:
            return int(row[0]), int(row[1])
    return None


def write_events(
    db: sqlite3.Connection, source: str, items: list[IncomingEvent], now: int
) -> tuple[int, int, list[tuple[int, str]]]:
    """Insert or replace a batch of events: (created, updated, [(line, reason) unattached])."""
    created = updated = 0
    unattached: list[tuple[int, str]] = []
    next_id = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
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
            "SELECT id FROM events WHERE source = ? AND external_id = ?", (source, item.external_id)
        ).fetchone()
        if old is not None:
            event_id = old[0]
            db.execute("DELETE FROM events WHERE id = ?", (event_id,))
            updated += 1
        else:
            next_id += 1
            event_id = next_id
            created += 1
        db.execute(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
            "record_id, external_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                cid,
                item.at,
                event_id,
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
            db.execute(
                "INSERT OR REPLACE INTO orders(number, customer_id, at, status, total, "
                "event_id) VALUES (?,?,?,?,?,?)",
                (item.number, cid, item.at, item.status or "placed", item.total, event_id),
            )
            touched.setdefault(cid, []).append(item.number)
    for cid, numbers in touched.items():
        row = db.execute("SELECT orders FROM customer_search WHERE rowid = ?", (cid,)).fetchone()
        if row is not None and numbers:
            merged = " ".join(dict.fromkeys((row[0] or "").split() + numbers))
            db.execute("UPDATE customer_search SET orders = ? WHERE rowid = ?", (merged, cid))
        db.execute(
            "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
            (now, "customer", cid, "events", "import"),
        )
    computed.refresh(db, touched, computed.config_of(db), now)
    return created, updated, unattached
