"""Contract: the channel rules of a reply hold on every path (the same cases for every backend).

The WhatsApp 24-hour window, approved templates sent as they are, known template
variables left unfilled, and the SLA clock that stops at the first reply.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from backends.base import Backend, InvalidInput
from backends.models import (
    Channel,
    Contact,
    ContactStatus,
    Delivery,
    Direction,
    QueueQuery,
    SlaState,
)
from tests.backends.conftest import BackendFactory
from tests.conftest import NOW


def _ts(hours_ago: float) -> int:
    return int((NOW - timedelta(hours=hours_ago)).timestamp())


def _contact_on(demo_db: Path, channel: Channel, *, skip: int = 0) -> tuple[int, int]:
    """An unresolved contact on `channel` (id, customer id), straight from the file."""
    with sqlite3.connect(demo_db) as db:
        row = db.execute(
            "SELECT c.id, c.customer_id FROM contacts c WHERE c.channel = ? "
            "AND c.status <> 'resolved' ORDER BY c.id LIMIT 1 OFFSET ?",
            (channel.value, skip),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _set(demo_db: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(demo_db) as db:
        db.execute(sql, params)


def _whatsapp_contact(demo_db: Path, last_wrote_hours_ago: float, skip: int = 0) -> int:
    """A WhatsApp contact whose customer last wrote `last_wrote_hours_ago` (only there)."""
    cid, customer = _contact_on(demo_db, Channel.WHATSAPP, skip=skip)
    _set(demo_db, "UPDATE contacts SET last_inbound_at = NULL WHERE customer_id = ?", customer)
    _set(
        demo_db,
        "UPDATE contacts SET last_inbound_at = ?, assignee = NULL WHERE id = ?",
        _ts(last_wrote_hours_ago),
        cid,
    )
    return cid


def _approved(backend: Backend) -> str:
    return next(t.name for t in backend.templates() if t.whatsapp_approved)


def test_whatsapp_free_text_at_23_hours_goes_out_and_at_25_is_refused(
    make_backend: BackendFactory, demo_db: Path
) -> None:
    inside = _whatsapp_contact(demo_db, 23)
    backend = make_backend()
    sent = backend.reply(inside, "Certo, le rispondo subito.")
    assert sent.channel is Channel.WHATSAPP
    outside = _whatsapp_contact(demo_db, 25, skip=1)
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(outside, "Certo, le rispondo subito.")
    assert not [
        m for m in backend.get_contact(outside).messages if m.direction is Direction.OUTBOUND
    ]


def test_an_approved_template_name_does_not_carry_free_text_outside_the_window(
    make_backend: BackendFactory, demo_db: Path
) -> None:
    cid = _whatsapp_contact(demo_db, 72)
    backend = make_backend()
    name = _approved(backend)
    with pytest.raises(InvalidInput, match="differs"):
        backend.reply(cid, "Ciao! Qualsiasi testo libero.", template=name)
    unapproved = next(t.name for t in backend.templates() if not t.whatsapp_approved)
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(cid, "Ciao!", template=unapproved)
    # the template itself, its variables filled by the server from the profile
    sent = backend.reply(cid, "", template=name)
    template = next(t for t in backend.templates() if t.name == name)
    customer = backend.get_customer(backend.get_contact(cid).contact.customer_id)
    assert sent.body.startswith(template.body.split("{")[0])
    assert customer.first_name in sent.body and "{" not in sent.body
    # or filled by the caller: the template's fixed words, its variables as parameters
    again = backend.reply(cid, template.body.replace("{first_name}", "Anna"), template=name)
    assert again.channel is Channel.WHATSAPP


def test_a_recent_sms_does_not_open_the_whatsapp_window_but_a_whatsapp_message_does(
    make_backend: BackendFactory, demo_db: Path
) -> None:
    cid, customer = _contact_on(demo_db, Channel.SMS)
    _set(demo_db, "UPDATE contacts SET last_inbound_at = NULL WHERE customer_id = ?", customer)
    _set(demo_db, "UPDATE contacts SET last_inbound_at = ? WHERE id = ?", _ts(1), cid)
    backend = make_backend()
    assert backend.get_customer(customer).phones
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(cid, "Le scrivo su WhatsApp.", channel="whatsapp")
    # the same customer wrote on WhatsApp an hour ago (another contact): the window is open
    _set(
        demo_db,
        "UPDATE contacts SET channel = 'whatsapp', last_inbound_at = ? "
        "WHERE customer_id = ? AND id <> ? AND id = (SELECT min(id) FROM contacts "
        "WHERE customer_id = ? AND id <> ?)",
        _ts(1),
        customer,
        cid,
        customer,
        cid,
    )
    with sqlite3.connect(demo_db) as db:
        others = db.execute(
            "SELECT count(*) FROM contacts WHERE customer_id = ? AND channel = 'whatsapp'",
            (customer,),
        ).fetchone()[0]
    if not others:  # the customer has one contact: open a WhatsApp one for them
        _set(
            demo_db,
            "INSERT INTO contacts(customer_id, channel, subject, status, created_at, updated_at, "
            "last_inbound_at) VALUES (?, 'whatsapp', 'ciao', 'resolved', ?, ?, ?)",
            customer,
            _ts(2),
            _ts(1),
            _ts(1),
        )
    # a message on another channel than the contact's is proactive: it needs the consent
    backend.set_consent(customer, "whatsapp", True)
    sent = backend.reply(cid, "Le scrivo su WhatsApp.", channel="whatsapp")
    assert sent.channel is Channel.WHATSAPP


def test_a_known_template_variable_left_unfilled_is_refused(
    make_backend: BackendFactory, demo_db: Path
) -> None:
    _set(
        demo_db,
        "INSERT INTO templates(name, body, language) VALUES ('points_it', ?, 'it')",
        "Ha {loyalty.points} punti, {first_name}.",
    )
    backend = make_backend()
    cid = (
        backend.queue(QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1)
        .contacts[0]
        .id
    )
    with pytest.raises(InvalidInput, match=r"\{first_name\}"):
        backend.reply(cid, "Gentile {first_name}, eccomi.")
    with pytest.raises(InvalidInput, match=r"\{last_order.number\}"):
        backend.reply(cid, "Il suo ordine {last_order.number} e' partito.")
    # a variable a stored template uses is a variable, even one Vista cannot fill
    assert any("{loyalty.points}" in t.body for t in backend.templates())
    with pytest.raises(InvalidInput, match=r"\{loyalty.points\}"):
        backend.reply(cid, "Ha {loyalty.points} punti.")
    assert backend.get_contact(cid).contact.first_response_at is None
    # braces that are not a Vista variable are text: a code snippet goes out as written
    snippet = 'Nel file scriva {word} e poi {"a": 1}.'
    sent = backend.reply(cid, snippet)
    assert sent.body == snippet


def test_a_customer_literally_named_like_a_variable_can_be_greeted(backend: Backend) -> None:
    contact = backend.queue(
        QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1
    ).contacts[0]
    backend.edit_profile(contact.customer_id, "first_name", "{first_name}")
    sent = backend.reply(contact.id, "Gentile {first_name}, eccomi.")
    assert sent.body == "Gentile {first_name}, eccomi."


def test_the_sla_clock_stops_at_the_first_reply(
    make_backend: BackendFactory, demo_db: Path
) -> None:
    with sqlite3.connect(demo_db) as db:
        open_ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM contacts WHERE status IN ('open', 'pending') ORDER BY id LIMIT 3"
            )
        ]
    met, late, waiting = open_ids
    # answered an hour before the due time, which passed an hour ago: met, for good
    _set(
        demo_db,
        "UPDATE contacts SET sla_due_at = ?, first_response_at = ?, resolved_at = NULL "
        "WHERE id = ?",
        _ts(1),
        _ts(2),
        met,
    )
    # answered half an hour after the due time: breached, for good
    _set(
        demo_db,
        "UPDATE contacts SET sla_due_at = ?, first_response_at = ?, resolved_at = NULL "
        "WHERE id = ?",
        _ts(1),
        _ts(0.5),
        late,
    )
    # not answered, due an hour ago: breached
    _set(
        demo_db,
        "UPDATE contacts SET sla_due_at = ?, first_response_at = NULL, resolved_at = NULL "
        "WHERE id = ?",
        _ts(1),
        waiting,
    )
    backend = make_backend()
    unresolved = tuple(s for s in ContactStatus if s is not ContactStatus.RESOLVED)

    def ids(sla: SlaState | None) -> set[int]:
        return {c.id for c in _all(backend, QueueQuery(statuses=unresolved, sla=sla))}

    breached, at_risk, ok = ids(SlaState.BREACHED), ids(SlaState.AT_RISK), ids(SlaState.OK)
    assert met not in breached and met not in at_risk and met in ok
    assert late in breached and waiting in breached
    assert backend.get_contact(met).contact.sla_state(NOW) is SlaState.OK
    assert backend.get_contact(late).contact.sla_state(NOW) is SlaState.BREACHED
    # the queue's state and its filters agree on every contact
    for contact in _all(backend, QueueQuery(statuses=unresolved)):
        state = contact.sla_state(NOW)
        assert (contact.id in breached) == (state is SlaState.BREACHED), contact
        assert (contact.id in ok) == (state is SlaState.OK), contact
        assert (contact.id in at_risk) == (state in (SlaState.AT_RISK, SlaState.BREACHED)), contact


def _all(backend: Backend, query: QueueQuery) -> list[Contact]:
    found: list[Contact] = []
    cursor = None
    while True:
        page = backend.queue(query, cursor=cursor, limit=500)
        found.extend(page.contacts)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_a_reply_is_queued_with_its_delivery_state_and_a_note_has_none(backend: Backend) -> None:
    cid = (
        backend.queue(QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1)
        .contacts[0]
        .id
    )
    sent = backend.reply(cid, "Buongiorno, eccomi.")
    assert sent.delivery is Delivery.QUEUED and sent.failure is None
    note = backend.add_note(cid, "interno")
    assert note.delivery is None
    stored = {m.id: m for m in backend.get_contact(cid).messages}
    assert stored[sent.id].delivery is Delivery.QUEUED and stored[note.id].delivery is None
    customer = backend.get_contact(cid).contact.customer_id
    event = next(
        e
        for e in backend.timeline(customer, limit=10).events
        if e.payload.get("message_id") == sent.id
    )
    assert event.payload["delivery"] == "queued"
