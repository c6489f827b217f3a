"""Contract: opening a customer in one call is the same as its three separate reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Backend, InvalidInput, NotFound
from backends.models import EventKind


def test_customer_view_is_profile_facts_and_first_timeline_page(backend: Backend) -> None:
    for cid in (1, 5, 12):
        view = backend.customer_view(cid, limit=20)
        assert view.customer == backend.get_customer(cid)
        assert view.facts == backend.customer_facts(cid)
        assert view.timeline == backend.timeline(cid, limit=20)


def test_customer_view_applies_the_timeline_filters(backend: Backend) -> None:
    kinds = (EventKind.ORDER, EventKind.NOTE)
    view = backend.customer_view(5, kinds=kinds, limit=5)
    assert view.timeline == backend.timeline(5, kinds=kinds, limit=5)
    assert all(e.kind in kinds for e in view.timeline.events)


def test_customer_view_of_an_unknown_customer_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.customer_view(999_999)
    with pytest.raises(InvalidInput):
        backend.customer_view(1, limit=0)


def test_key_facts_are_the_embedded_stores_for_every_kind_of_customer(
    backend: Backend, demo_db: Path
) -> None:
    """Every store reads the same key facts from the same data as the SQLite store: the last
    order and their count, open contacts and CSAT, the last contact, open tickets, the
    newest NPS and the web journey (customers with and without each of them)."""
    from backends.sqlite.backend import SQLiteBackend

    sample = range(1, 121)
    with SQLiteBackend(demo_db, agent="giulia", read_only=True) as embedded:
        expected = [embedded.customer_facts(cid) for cid in sample]
    got = [backend.customer_facts(cid) for cid in sample]
    assert got == expected
    # the sample holds customers with and without each fact, so both branches are read
    for field in ("last_order_number", "nps_last", "last_visit_at", "checkout_abandoned_at"):
        assert {getattr(f, field) is None for f in expected} == {True, False}, field
    assert {f.open_tickets > 0 for f in expected} == {True, False}
