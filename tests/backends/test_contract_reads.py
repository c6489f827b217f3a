"""Contract: the reading half of the Backend, the same cases for every backend."""

from __future__ import annotations

import pytest

from backends.base import Backend, InvalidInput, NotFound
from backends.models import (
    Channel,
    ContactStatus,
    EventKind,
    Priority,
    QueueQuery,
    SlaState,
)
from tests.conftest import NOW


def _some_customer_with_orders(backend: Backend) -> tuple[int, str]:
    for cid in range(1, 200):
        facts = backend.customer_facts(cid)
        if facts.last_order_number:
            return cid, facts.last_order_number
    raise AssertionError("demo data has no orders")


def test_search_by_surname_finds_only_matching_people(backend: Backend) -> None:
    target = backend.get_customer(5)
    hits = backend.search_customers(target.last_name, limit=50)
    assert hits, "a surname of the demo data must match"
    assert any(h.id == 5 for h in hits) or len(hits) == 50
    assert all(target.last_name.lower() in h.name.lower() for h in hits)


def test_search_by_phone_in_any_format(backend: Backend) -> None:
    customer = backend.get_customer(12)
    e164 = customer.phones[0]  # +39XXXXXXXXXX
    national = e164[3:]
    for typed in (
        e164,
        national,
        f"{national[:3]} {national[3:6]} {national[6:]}",
        "0039 " + national,
        national[:6],
    ):
        ids = [h.id for h in backend.search_customers(typed, limit=50)]
        assert 12 in ids, f"{typed!r} should find customer 12"


def test_search_by_email_and_order_number(backend: Backend) -> None:
    cid, order = _some_customer_with_orders(backend)
    email = backend.get_customer(cid).emails[0]
    assert backend.search_customers(email)[0].id == cid
    hit = backend.search_customers(order)[0]
    assert (hit.id, hit.matched) == (cid, "order")


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "AND OR NOT",
        "*",
        "name:foo",
        'a" OR "b',
        "NEAR(x y)",
        "'; DROP TABLE customers; --",
        "\x00",
        "   ",
    ],
)
def test_search_treats_query_syntax_as_text(backend: Backend, text: str) -> None:
    backend.search_customers(text)  # no error, whatever it finds
    assert backend.get_customer(1).id == 1  # and nothing was harmed


def test_search_limit_is_validated(backend: Backend) -> None:
    with pytest.raises(InvalidInput):
        backend.search_customers("rossi", limit=0)


def test_unknown_ids_raise_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound, match="999999"):
        backend.get_customer(999999)
    with pytest.raises(NotFound):
        backend.customer_facts(999999)
    with pytest.raises(NotFound):
        backend.timeline(999999)
    with pytest.raises(NotFound):
        backend.get_contact(999999)
    with pytest.raises(NotFound):
        backend.get_event(999999999)


def test_customer_profile_carries_its_sources_and_identities(backend: Backend) -> None:
    customer = backend.get_customer(1)
    assert customer.sources, "every demo customer comes from at least one source"
    assert {s.source for s in customer.sources} <= {"crm", "webshop", "helpdesk"}
    assert any(i.kind.value == "email" for i in customer.identities)
    assert customer.emails and customer.emails[0] == customer.emails[0].lower()


def test_changed_email_shows_as_a_source_conflict(backend: Backend) -> None:
    conflicted = [
        c
        for c in (backend.get_customer(i) for i in range(1, 120))
        if any(f.field == "email" for f in c.conflicts())
    ]
    assert conflicted, "the demo has e-mails changed in one system only"
    c = conflicted[0]
    assert len(c.emails) >= 2


def test_timeline_pages_are_newest_first_and_seamless(backend: Backend) -> None:
    cid = max(range(1, 60), key=lambda i: len(backend.timeline(i, limit=500).events))
    everything = backend.timeline(cid, limit=500).events
    assert len(everything) >= 10
    seen = []
    cursor = None
    while True:
        page = backend.timeline(cid, cursor=cursor, limit=3)
        seen.extend(page.events)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [e.id for e in seen] == [e.id for e in everything]
    times = [e.at for e in seen]
    assert times == sorted(times, reverse=True)


def test_timeline_filters_by_kind_and_channel(backend: Backend) -> None:
    cid, _ = _some_customer_with_orders(backend)
    orders = backend.timeline(cid, kinds=(EventKind.ORDER,), limit=100).events
    assert orders and all(e.kind is EventKind.ORDER for e in orders)
    web = backend.timeline(cid, channels=("web",), limit=100).events
    assert all(e.channel == "web" for e in web)
    assert backend.get_event(orders[0].id).payload["items"]


def test_timeline_rejects_a_forged_cursor(backend: Backend) -> None:
    with pytest.raises(InvalidInput):
        backend.timeline(1, cursor="not-a-cursor")


def _key(c):
    due = c.sla_due_at.timestamp() if c.sla_due_at else float("inf")
    return (-c.priority.rank, due, c.created_at, c.id)


def test_queue_is_in_working_order_and_pages_both_ways(backend: Backend) -> None:
    total = backend.queue_count()
    assert total > 10
    pages = []
    cursor = None
    while True:
        page = backend.queue(cursor=cursor, limit=7)
        pages.append(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    rows = [c for p in pages for c in p.contacts]
    assert len(rows) == total == len({c.id for c in rows})
    assert rows == sorted(rows, key=_key)
    assert all(c.status is not ContactStatus.RESOLVED for c in rows)
    # walk back from the last page to the first
    back = pages[-1]
    collected = list(back.contacts)
    while back.prev_cursor is not None:
        back = backend.queue(cursor=back.prev_cursor, limit=7, backwards=True)
        collected = list(back.contacts) + collected
    assert [c.id for c in collected] == [c.id for c in rows]


def test_queue_filters(backend: Backend) -> None:
    mine = backend.queue(QueueQuery(assignee="giulia"), limit=500).contacts
    assert all(c.assignee == "giulia" for c in mine)
    unassigned = backend.queue(QueueQuery(unassigned=True), limit=500).contacts
    assert unassigned and all(c.assignee is None for c in unassigned)
    chats = backend.queue(QueueQuery(channels=(Channel.CHAT,)), limit=500).contacts
    assert chats and all(c.channel is Channel.CHAT for c in chats)
    urgent = backend.queue(QueueQuery(priorities=(Priority.URGENT,)), limit=500).contacts
    assert all(c.priority is Priority.URGENT for c in urgent)
    risky = backend.queue(QueueQuery(sla=SlaState.AT_RISK), limit=500).contacts
    assert risky and all(c.sla_state(NOW) in (SlaState.AT_RISK, SlaState.BREACHED) for c in risky)
    assert backend.queue_count(QueueQuery(channels=(Channel.CHAT,))) == len(chats)
    subject = chats[0].subject
    found = backend.queue(QueueQuery(text=subject[:8]), limit=500).contacts
    assert chats[0].id in [c.id for c in found]
    assert backend.queue(QueueQuery(text="%_%zzz"), limit=5).contacts == ()


def test_contact_detail_has_messages_oldest_first(backend: Backend) -> None:
    first = backend.queue(limit=1).contacts[0]
    detail = backend.get_contact(first.id)
    assert detail.contact.id == first.id
    assert detail.messages and detail.messages[0].direction.value == "inbound"
    assert [m.at for m in detail.messages] == sorted(m.at for m in detail.messages)


def test_templates_and_agents(backend: Backend) -> None:
    templates = backend.templates()
    assert [t.name for t in templates] == sorted(t.name for t in templates)
    assert any("{first_name}" in t.body for t in templates)
    assert any(t.whatsapp_approved for t in templates)
    roles = {a.name: a.role.value for a in backend.agents()}
    assert roles["giulia"] == "operator" and roles["anna"] == "supervisor"


def test_changes_start_at_the_current_end(backend: Backend) -> None:
    start = backend.changes(-1)
    assert start.changes == ()
    assert backend.changes(start.cursor).changes == ()


def _checkout_customers(demo_db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(a customer whose newest checkout step came after their last order or with none,
    one whose every checkout step came before an order), from the demo file itself."""
    import sqlite3

    conn = sqlite3.connect(demo_db)
    try:
        pairs = conn.execute(
            "SELECT e.customer_id, max(e.at), (SELECT max(at) FROM orders o "
            "WHERE o.customer_id = e.customer_id) FROM events e WHERE kind = 'checkout_step' "
            "GROUP BY e.customer_id ORDER BY e.customer_id"
        ).fetchall()
    finally:
        conn.close()
    left = next(c for c, step, order in pairs if order is None or step > order)
    done = next(c for c, step, order in pairs if order is not None and step < order)
    return left, done


def test_facts_show_the_web_journey_and_a_checkout_left_unfinished(
    backend: Backend, demo_db
) -> None:  # type: ignore[no-untyped-def]
    left, done = _checkout_customers(demo_db)
    facts = backend.customer_facts(left)
    step = backend.timeline(left, kinds=(EventKind.CHECKOUT_STEP,), limit=1).events[0]
    assert facts.checkout_abandoned_at is not None
    assert facts.checkout_abandoned_at >= step.at
    assert facts.checkout_abandoned_step and facts.checkout_abandoned_step in step.summary
    assert facts.checkout_cart and all(name in step.summary for name in facts.checkout_cart[:1])
    # an order after the checkout: nothing was abandoned
    assert backend.customer_facts(done).checkout_abandoned_at is None
    visit = backend.timeline(left, kinds=(EventKind.WEB_SESSION,), limit=1).events
    if visit:
        assert (facts.last_visit_at, facts.last_visit) == (visit[0].at, visit[0].summary)
    viewed = backend.timeline(left, kinds=(EventKind.PRODUCT_VIEW,), limit=1).events
    if viewed:
        assert facts.last_viewed and facts.last_viewed in viewed[0].summary
