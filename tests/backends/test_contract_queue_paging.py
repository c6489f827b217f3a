"""Contract: queue paging with ties. Contacts equal on priority, SLA due and creation time
are told apart by their id, so paging either way shows every contact exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.base import Backend, InvalidInput
from backends.models import Channel, Contact, ContactStatus, QueueQuery
from tests.conftest import NOW

PROBE = QueueQuery(text="paging-probe")


def _contact(backend: Backend, n: int, ago: timedelta) -> Contact:
    result = backend.deliver_inbound(
        Channel.EMAIL,
        f"paging{n}@probe-shop.it",
        "Dove è il mio ordine?",
        at=NOW - ago,
        subject=f"paging-probe {n}",
    )
    assert result.created_contact
    return result.contact


@pytest.fixture
def tied(backend: Backend) -> list[int]:
    """Nine probe contacts in queue order: one older, six tied, two newer."""
    older = _contact(backend, 0, timedelta(hours=3))
    ties = [_contact(backend, n, timedelta(hours=2)).id for n in range(1, 7)]
    newer = [_contact(backend, n, timedelta(hours=1)).id for n in (7, 8)]
    return [older.id, *sorted(ties), *newer]


def _forward(backend: Backend, limit: int) -> list[list[int]]:
    pages, cursor = [], None
    for _ in range(20):
        page = backend.queue(PROBE, cursor=cursor, limit=limit)
        pages.append([c.id for c in page.contacts])
        assert (page.prev_cursor is None) == (cursor is None)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
    raise AssertionError("paging never ended")


def test_the_tied_contacts_really_tie(backend: Backend, tied: list[int]) -> None:
    contacts = {c.id: c for c in backend.queue(PROBE, limit=50).contacts}
    assert sorted(contacts) == sorted(tied)
    keys = {(c.priority, c.sla_due_at, c.created_at) for c in map(contacts.get, tied[1:7])}
    assert len(keys) == 1


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_paging_forward_shows_each_contact_once_in_order(
    backend: Backend, tied: list[int], limit: int
) -> None:
    pages = _forward(backend, limit)
    assert [cid for page in pages for cid in page] == tied
    assert all(len(page) == limit for page in pages[:-1])
    assert backend.queue_count(PROBE) == len(tied)


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_paging_backward_from_the_end_shows_each_contact_once(
    backend: Backend, tied: list[int], limit: int
) -> None:
    last = _forward(backend, limit)[-1]
    page = backend.queue(PROBE, cursor=None, limit=limit)
    while page.next_cursor is not None:
        page = backend.queue(PROBE, cursor=page.next_cursor, limit=limit)
    assert [c.id for c in page.contacts] == last
    collected = [c.id for c in page.contacts]
    for _ in range(20):
        if page.prev_cursor is None:
            break
        page = backend.queue(PROBE, cursor=page.prev_cursor, limit=limit, backwards=True)
        assert len(page.contacts) == limit
        collected = [c.id for c in page.contacts] + collected
    assert collected == tied


def test_a_page_boundary_inside_the_ties_goes_both_ways(backend: Backend, tied: list[int]) -> None:
    first = backend.queue(PROBE, limit=3)  # the older contact and two of the six
    assert [c.id for c in first.contacts] == tied[:3] and first.prev_cursor is None
    second = backend.queue(PROBE, cursor=first.next_cursor, limit=3)
    assert [c.id for c in second.contacts] == tied[3:6]
    back = backend.queue(PROBE, cursor=second.prev_cursor, limit=3, backwards=True)
    assert [c.id for c in back.contacts] == tied[:3]
    assert back.prev_cursor is None  # nothing before the first page
    assert back.next_cursor is not None


def test_a_short_last_page_has_no_next_and_a_backward_page_before_the_start_is_empty(
    backend: Backend, tied: list[int]
) -> None:
    page = backend.queue(PROBE, limit=len(tied))
    assert [c.id for c in page.contacts] == tied
    assert page.next_cursor is None and page.prev_cursor is None
    more = backend.queue(PROBE, limit=len(tied) - 1)
    assert more.next_cursor is not None
    rest = backend.queue(PROBE, cursor=more.next_cursor, limit=len(tied))
    assert [c.id for c in rest.contacts] == tied[-1:] and rest.next_cursor is None
    # nothing comes before the first contact
    one = backend.queue(PROBE, limit=1)
    before = backend.queue(PROBE, cursor=one.next_cursor, limit=2, backwards=True)
    assert before.contacts == () and before.next_cursor is None and before.prev_cursor is None


@pytest.mark.parametrize("cursor", ["", "1.2.3", "1.2.3.x", "a.b.c.d", "1.2.3.4.5"])
def test_a_forged_queue_cursor_is_refused(backend: Backend, cursor: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        backend.queue(PROBE, cursor=cursor, limit=2)


def test_a_page_holds_50_contacts_unless_asked_otherwise(backend: Backend) -> None:
    every = QueueQuery(statuses=tuple(ContactStatus))
    assert backend.queue_count(every) > 51
    page = backend.queue(every)
    assert len(page.contacts) == 50 and page.next_cursor is not None
