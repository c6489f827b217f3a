"""Contract: opening a customer in one call is the same as its three separate reads."""

from __future__ import annotations

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
