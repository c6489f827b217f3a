"""Storing a consent given or withdrawn in Vista (as the SQLite store): the customer's
`consents` (channel -> yes or no) and its provenance (`consent_<channel>`: source
`agent:NAME`, time, the value it replaced)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from backends import provenance as provenance_text
from backends.base import NotFound
from backends.models import Channel


def set_consent(
    db: psycopg.Connection[Any],
    customer_id: int,
    channel: Channel,
    granted: bool,
    actor: str,
    now: int,
) -> bool | None:
    """Write the consent (inside the caller's transaction); the value it replaced (None:
    there was none)."""
    row = db.execute(
        "SELECT consents, provenance FROM customers WHERE id = %s FOR UPDATE", (customer_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no customer {customer_id}")
    consents = json.loads(row[0] or "{}")
    provenance = provenance_text.loads(row[1])
    old = consents.get(channel.value)
    consents[channel.value] = granted
    provenance[f"consent_{channel.value}"] = {
        "source": f"agent:{actor}",
        "at": now,
        "losers": [] if old is None else [old],
    }
    db.execute(
        "UPDATE customers SET consents = %s, provenance = %s, updated_at = %s, "
        "version = version + 1 WHERE id = %s",
        (json.dumps(consents), json.dumps(provenance), now, customer_id),
    )
    return old if isinstance(old, bool) else None
