"""Contract: the queue's filters on both sides. Typed text is matched literally (`%`, `_`
and `\\` are not wildcards), several priorities or channels combine with OR, and the other
filters combine with AND."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.base import Backend
from backends.models import Channel, ContactStatus, Priority, QueueQuery
from tests.conftest import NOW

SUBJECTS = {
    "pct": "qf-probe sconto 100% garantito",
    "digits": "qf-probe sconto 1000 garantito",
    "under": "qf-probe codice a_b",
    "any": "qf-probe codice axb",
    "slash": "qf-probe file C:\\temp\\nota",
    "plain": "qf-probe file temp nota",
}


@pytest.fixture
def probes(backend: Backend) -> dict[str, int]:
    ids = {}
    for n, (key, subject) in enumerate(SUBJECTS.items()):
        result = backend.deliver_inbound(
            Channel.EMAIL,
            f"qf{n}@probe-shop.it",
            "Buongiorno",
            at=NOW - timedelta(minutes=n + 1),
            subject=subject,
        )
        ids[key] = result.contact.id
    return ids


def _found(backend: Backend, probes: dict[str, int], **query: object) -> set[str]:
    names = {v: k for k, v in probes.items()}
    page = backend.queue(QueueQuery(**query), limit=500)  # type: ignore[arg-type]
    return {names[c.id] for c in page.contacts if c.id in names}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("qf-probe", set(SUBJECTS)),
        ("100%", {"pct"}),
        ("a_b", {"under"}),
        ("\\temp", {"slash"}),
        ("C:\\temp\\nota", {"slash"}),
        ("temp nota", {"plain"}),
        ("  100% ", {"pct"}),  # surrounding spaces are not part of the text
        ("%", {"pct"}),
        ("_", {"under"}),
    ],
)
def test_typed_text_is_matched_literally(
    backend: Backend, probes: dict[str, int], text: str, expected: set[str]
) -> None:
    assert _found(backend, probes, text=text) == expected
    count = backend.queue_count(QueueQuery(text=text))
    assert count >= len(expected)


def test_text_matches_the_customer_name_too(backend: Backend) -> None:
    result = backend.deliver_inbound(
        Channel.CHAT, "qfname@probe-shop.it", "Ciao", name="Zelinda Quarantotto", subject="x"
    )
    found = backend.queue(QueueQuery(text="zelinda quarant"), limit=50).contacts
    assert [c.id for c in found] == [result.contact.id]
    assert backend.queue_count(QueueQuery(text="zelinda quarant")) == 1


def test_several_priorities_combine_with_or(backend: Backend) -> None:
    high = backend.queue(QueueQuery(priorities=(Priority.HIGH,)), limit=500).contacts
    urgent = backend.queue(QueueQuery(priorities=(Priority.URGENT,)), limit=500).contacts
    both = backend.queue(QueueQuery(priorities=(Priority.HIGH, Priority.URGENT)), limit=500)
    assert high and urgent
    assert {c.id for c in both.contacts} == {c.id for c in high} | {c.id for c in urgent}
    assert backend.queue_count(QueueQuery(priorities=(Priority.HIGH, Priority.URGENT))) == len(
        both.contacts
    )


def test_several_channels_combine_with_or(backend: Backend) -> None:
    query = QueueQuery(channels=(Channel.CHAT, Channel.SMS))
    found = backend.queue(query, limit=500).contacts
    assert {c.channel for c in found} == {Channel.CHAT, Channel.SMS}
    assert backend.queue_count(query) == len(found)


def test_filters_combine_with_and(backend: Backend) -> None:
    query = QueueQuery(channels=(Channel.EMAIL,), unassigned=True, priorities=(Priority.NORMAL,))
    found = backend.queue(query, limit=500).contacts
    assert found
    assert all(
        c.channel is Channel.EMAIL and c.assignee is None and c.priority is Priority.NORMAL
        for c in found
    )
    assert backend.queue_count(query) == len(found)


def test_resolved_contacts_only_when_asked(backend: Backend) -> None:
    default = backend.queue(limit=500).contacts
    assert all(c.status is not ContactStatus.RESOLVED for c in default)
    resolved = backend.queue(QueueQuery(statuses=(ContactStatus.RESOLVED,)), limit=500).contacts
    assert resolved and all(c.status is ContactStatus.RESOLVED for c in resolved)
    assert backend.queue_count(QueueQuery(statuses=(ContactStatus.RESOLVED,))) >= len(resolved)


def test_any_status_still_leaves_resolved_contacts_out(backend: Backend) -> None:
    anything = backend.queue(QueueQuery(statuses=()), limit=500).contacts
    assert anything and all(c.status is not ContactStatus.RESOLVED for c in anything)
    assert backend.queue_count(QueueQuery(statuses=())) == len(anything)
    every = tuple(ContactStatus)
    assert backend.queue_count(QueueQuery(statuses=every)) > len(anything)


def test_a_run_out_snooze_counts_as_open_only(make_backend) -> None:
    backend = make_backend()
    if not hasattr(backend, "clock"):
        pytest.skip("only the embedded store lets the test move time on")
    result = backend.deliver_inbound(Channel.EMAIL, "qfsnooze@probe-shop.it", "Ciao", at=NOW)
    cid = result.contact.id
    backend.snooze(cid, NOW + timedelta(hours=1))
    backend.clock = lambda: NOW + timedelta(hours=2)  # type: ignore[attr-defined]

    def ids(*statuses: ContactStatus) -> set[int]:
        page = backend.queue(QueueQuery(statuses=statuses), limit=500)
        return {c.id for c in page.contacts}

    assert cid in ids(ContactStatus.OPEN)
    assert cid in ids(ContactStatus.SNOOZED)
    assert cid not in ids(ContactStatus.NEW)
    assert cid not in ids(ContactStatus.PENDING)
