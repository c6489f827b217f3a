"""Contract: opening a customer in one call is the same as its three separate reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Backend, Capability, InvalidInput, NotFound
from backends.models import EventKind
from tests.backends.conftest import BackendFactory


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


#: The kinds whose store records reads (`vista serve`'s, and a PostgreSQL factory's);
#: the embedded store records none unless asked to (README: "The audit trail").
READS_RECORDED = ("http", "postgres", "http-postgres")


@pytest.mark.needs(Capability.AUDIT)
def test_a_customer_view_is_one_read_in_the_trail_and_a_refused_one_none(
    make_backend: BackendFactory, backend_kind: str
) -> None:
    admin, giulia = make_backend("admin"), make_backend("giulia")
    head = admin.audit_log(limit=1).entries[0].seq

    def reads() -> list[tuple[str, str, int | None, object]]:
        return [
            (e.action, e.agent, e.customer_id, e.detail)
            for e in admin.audit_log(limit=20).entries
            if e.seq > head and e.action == "read"  # (a server's test tokens are made lazily)
        ]

    with pytest.raises(NotFound):
        giulia.customer_view(999_999)
    with pytest.raises(InvalidInput):
        giulia.customer_view(12, limit=0)
    assert reads() == []  # nothing was shown: nothing recorded
    view = giulia.customer_view(12, limit=5)
    assert view.customer.id == 12
    expected = [("read", "giulia", 12, {"what": "profile"})]
    assert reads() == (expected if backend_kind in READS_RECORDED else [])
