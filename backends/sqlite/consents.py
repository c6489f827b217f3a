"""Storing a consent given or withdrawn in Vista: the customer's `consents` (channel -> yes
or no) and its provenance (`consent_<channel>`: source `agent:NAME`, time, the value it
replaced), which identity resolution keeps against older imported values."""

from __future__ import annotations

import json
import sqlite3

from backends import provenance as provenance_text
from backends.base import NotFound
from backends.models import Channel


def set_consent(
    db: sqlite3.Connection, customer_id: int, channel: Channel, granted: bool, actor: str, now: int
) -> bool | None:
    """Write the consent; the value it replaced (None: there was none)."""
    row = db.execute(
        "SELECT consents, provenance FROM customers WHERE id = ?", (customer_id,)
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
        "UPDATE customers SET consents = ?, provenance = ?, updated_at = ?, "
        "version = version + 1 WHERE id = ?",
        (json.dumps(consents), provenance_text.dumps(provenance), now, customer_id),
    )
    return old if isinstance(old, bool) else None
