"""Importing events (orders, tickets, web events, messages) and attaching them to customers
by any identifier they carry: the customer's source id, e-mail, phone or visitor id.

Each event keeps the source record it was attached through (`record_id`), so a
split can move it with that record. Re-importing an event (same source and id)
replaces it in place.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backends.identity import normalise as n
from backends.identity.store import dumps
from backends.models import EventKind

_KINDS = {k.value for k in EventKind}


@dataclass
class IncomingEvent:
    line: int
    external_id: str
    at: int
    kind: str
    channel: str
    summary: str
    payload: dict[str, Any]
    probes: list[tuple[str, str]] = field(default_factory=list)  # (kind, value), best first
    number: str = ""
    status: str = ""
    total: float = 0.0


def parse_time(raw: Any) -> int | None:
    """Unix seconds from an ISO 8601 time or date, or from a number of seconds."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return int(raw)
    text = str(raw).strip()
    if text.isdigit():
        return int(text)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # a time without zone is UTC
    return int(value.timestamp())


def to_event(line: int, sid: str, c: dict[str, Any], row: dict[str, Any],
             region: str) -> tuple[IncomingEvent | None, str]:
    """An event from one canonical row, or (None, reason)."""
    if not sid:
        return None, "no event id (column id)"
    kind = str(c.get("kind", "")).strip().lower()
    if kind not in _KINDS:
        return None, f"unknown event kind {kind!r}" if kind else "no event kind"
    at = parse_time(c.get("at"))
    if at is None:
        return None, f"bad or missing time {c.get('at')!r} (use ISO 8601 or unix seconds)"
    probes: list[tuple[str, str]] = []
    if c.get("customer_id"):
        probes.append(("external_id", f"@{c.get('customer_source') or ''}:{c['customer_id']}"))
    email = n.email(c.get("email"))
    if email:
        probes.append(("email", email))
    phone, _kind = n.phone(c.get("phone"), region)
    if phone:
        probes.append(("phone", phone))
    if c.get("visitor_id"):
        probes.append(("visitor_id", str(c["visitor_id"]).strip()))
    if not probes:
        return None, "no customer identifier (customer_id, email, phone or visitor_id)"
    payload = c.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload) if payload.strip() else {}
        except json.JSONDecodeError:
            payload = {"text": payload}
    if not isinstance(payload, dict):
        payload = {k: v for k, v in row.items() if k not in ("id", "at", "kind")}
    total = 0.0
    try:
        total = float(c.get("total") or 0)
    except (TypeError, ValueError):
        return None, f"bad total {c.get('total')!r}"
    summary = n.text(c.get("summary")) or f"{kind.replace('_', ' ').capitalize()} {sid}"
    return IncomingEvent(line, sid, at, kind, n.text(c.get("channel")).lower(), summary, payload,
                         probes, n.text(c.get("number")), n.text(c.get("status")), total), ""


def _attach(db: sqlite3.Connection, source: str, probes: list[tuple[str, str]]) -> tuple[int, int] | None:
    """(customer id, record id) of the first identifier that names a resolved record."""
    for kind, value in probes:
        if kind == "external_id":
            other, _, sid = value[1:].partition(":")
            row = db.execute(
                "SELECT r.customer_id, r.id FROM source_records r WHERE r.source = ? "
                "AND r.source_id = ? AND r.customer_id IS NOT NULL", (other or source, sid)
            ).fetchone()
        else:
            row = db.execute(
                "SELECT r.customer_id, r.id FROM identities i JOIN source_records r ON r.id = "
                "i.record_id WHERE i.kind = ? AND i.value = ? AND r.customer_id IS NOT NULL "
                "ORDER BY r.updated_at DESC LIMIT 1", (kind, value)
            ).fetchone()
        if row is not None:
            return int(row[0]), int(row[1])
    return None


def write_events(db: sqlite3.Connection, source: str, items: list[IncomingEvent],
                 now: int) -> tuple[int, int, list[tuple[int, str]]]:
    """Insert or replace a batch of events: (created, updated, [(line, reason) unattached])."""
    created = updated = 0
    unattached: list[tuple[int, str]] = []
    next_id = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    touched: dict[int, list[str]] = {}
    for item in items:
        found = _attach(db, source, item.probes)
        if found is None:
            unattached.append((item.line, "no customer has any of its identifiers"))
            continue
        cid, rid = found
        old = db.execute("SELECT id FROM events WHERE source = ? AND external_id = ?",
                         (source, item.external_id)).fetchone()
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
            (cid, item.at, event_id, item.kind, item.channel, source, item.summary,
             dumps(item.payload), rid, item.external_id),
        )
        touched.setdefault(cid, [])
        if item.kind == "order" and item.number:
            db.execute("INSERT OR REPLACE INTO orders(number, customer_id, at, status, total, "
                       "event_id) VALUES (?,?,?,?,?,?)",
                       (item.number, cid, item.at, item.status or "placed", item.total, event_id))
            touched.setdefault(cid, []).append(item.number)
    for cid, numbers in touched.items():
        row = db.execute("SELECT orders FROM customer_search WHERE rowid = ?", (cid,)).fetchone()
        if row is not None and numbers:
            merged = " ".join(dict.fromkeys((row[0] or "").split() + numbers))
            db.execute("UPDATE customer_search SET orders = ? WHERE rowid = ?", (merged, cid))
        db.execute("INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
                   (now, "customer", cid, "events", "import"))
    return created, updated, unattached
