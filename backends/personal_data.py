"""Personal data rules both stores share: what an erasure keeps, when it is refused, and
what an export of one person holds (the stores keep only their SQL: backends/sqlite/gdpr.py,
backends/postgres/gdpr.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from backends.base import Conflict
from backends.models import (
    AuditEntry,
    ContactDetail,
    Customer,
    FieldProvenance,
    TimelineEvent,
)

ERASED = "[erased]"

#: Payload keys of a timeline event that are facts, not personal data: KPIs read them.
KEPT_PAYLOAD_KEYS = frozenset(
    {"csat", "nps", "status", "total", "currency", "delivery", "message_id", "step"}
)


def record_digest(source: str, source_id: str) -> str:
    """What stays of an erased source record: a digest of its source and id."""
    return hashlib.sha256(f"{source}\x00{source_id}".encode("utf-8", "surrogatepass")).hexdigest()


def kept_payload(text: str) -> str:
    """A timeline payload with only its facts (`KEPT_PAYLOAD_KEYS`) left."""
    try:
        value = json.loads(text)
    except ValueError:
        return "{}"
    if not isinstance(value, dict):
        return "{}"
    return json.dumps({k: v for k, v in value.items() if k in KEPT_PAYLOAD_KEYS})


def check_erasable(customer_id: int, held_by: str | None, erased: bool) -> None:
    """Refuse to erase a person under a legal hold (`held_by`: who set it) or erased already.

    Raises:
        Conflict: held, or erased already.
    """
    if held_by is not None:
        raise Conflict(
            f"customer {customer_id} is under a legal hold (set by {held_by}): "
            "lift it first (`vista customers hold ID off`)",
            "Legal hold",
        )
    if erased:
        raise Conflict(f"customer {customer_id} was erased already", "Erased")


def export_bundle(
    customer: Customer,
    provenance: Sequence[FieldProvenance],
    events: Sequence[TimelineEvent],
    contacts: Sequence[ContactDetail],
    entries: Sequence[AuditEntry],
    held_by: str | None,
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """A person's export: the summary for people and the data, section by section."""
    data: dict[str, Any] = {
        "profile": customer.to_json(),
        "provenance": [p.to_json() for p in provenance],
        "source_records": [r.to_json() for r in customer.sources],
        "identities": [i.to_json() for i in customer.identities],
        "consents": dict(customer.consents),
        "timeline": [e.to_json() for e in events],
        "contacts": [c.contact.to_json() for c in contacts],
        "messages": [m.to_json() for c in contacts for m in c.messages],
        "audit": [e.to_json() for e in entries],
        "legal_hold": {"held": held_by is not None, "by": held_by or ""},
    }
    name = f"{customer.first_name} {customer.last_name}".strip()
    consents = ", ".join(f"{k}={v}" for k, v in customer.consents.items()) or "none"
    summary = (
        f"Personal data held by Vista on customer {customer.id} ({name or 'no name'}).",
        f"Profile: {len(customer.emails)} e-mail address(es), {len(customer.phones)} phone "
        + f"number(s), {len(customer.addresses)} address(es); {len(provenance)} field(s) "
        + "with their provenance.",
        f"Source records: {len(customer.sources)}, with {len(customer.identities)} "
        + "identifier(s).",
        f"Consents: {consents}.",
        f"Timeline: {len(events)} event(s).",
        f"Contacts: {len(contacts)}, with {len(data['messages'])} message(s).",
        f"Audit trail: {len(entries)} entries about this person.",
        f"Legal hold: {'yes' if held_by is not None else 'no'}.",
    )
    return summary, data
