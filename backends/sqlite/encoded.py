"""Timeline pages and customer views written as their JSON straight from the stored rows.

Opening a customer sends 200 events; building 200 `TimelineEvent` models only to
encode them again is most of what a server spends on that answer. These write the
rows through the wire format's mirrors of the models (`backends.http.bodies`):
the same bytes as encoding the models (tests/backends/test_http_wire.py checks).
"""

from __future__ import annotations

from backends.http import bodies
from backends.models import EventKind
from backends.sqlite.backend import SQLiteBackend


def timeline(
    backend: SQLiteBackend,
    customer_id: int,
    *,
    kinds: tuple[EventKind, ...] = (),
    channels: tuple[str, ...] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> bytes | None:
    """See `Backend.encoded_timeline`."""
    found = backend.timeline_rows(
        customer_id, kinds=kinds, channels=channels, cursor=cursor, limit=limit
    )
    page = bodies.timeline_page(*found)
    return None if page is None else bodies.encode_page(page)


def customer_view(
    backend: SQLiteBackend,
    customer_id: int,
    *,
    kinds: tuple[EventKind, ...] = (),
    channels: tuple[str, ...] = (),
    limit: int = 50,
) -> bytes | None:
    """See `Backend.encoded_customer_view` (read in the order `customer_view` reads)."""
    customer = backend.get_customer(customer_id)
    facts = backend.customer_facts(customer_id)
    found = backend.timeline_rows(customer_id, kinds=kinds, channels=channels, limit=limit)
    page = bodies.timeline_page(*found)
    return None if page is None else bodies.encode_view(customer, facts, page)
