"""Importing events (orders, tickets, web events, messages) and attaching them to customers
by any identifier they carry: the customer's source id, e-mail, phone or visitor id.

Each event keeps the source record it was attached through (`record_id`), so a
split can move it with that record. Re-importing an event (same source and id)
replaces it in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backends.identity import normalise as n
from backends.limits import import_problem
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
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # a time without zone is UTC
    return int(value.timestamp())


def to_event(
    line: int, sid: str, c: dict[str, Any], row: dict[str, Any], region: str
) -> tuple[IncomingEvent | None, str]:
    """An event from one canonical row, or (None, reason)."""
    if not sid:
        return None, "no event id (column id)"
    too_long = import_problem(sid, c)
    if too_long is not None:
        return None, too_long
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
    return IncomingEvent(
        line,
        sid,
        at,
        kind,
        n.text(c.get("channel")).lower(),
        summary,
        payload,
        probes,
        n.text(c.get("number")),
        n.text(c.get("status")),
        total,
    ), ""
