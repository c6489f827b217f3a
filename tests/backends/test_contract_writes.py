"""Contract: the writing half of the Backend, the same cases for every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.base import WRITE_METHODS, Backend, Conflict, InvalidInput, NotFound, ReadOnly
from backends.models import (
    Article,
    CallState,
    Channel,
    ContactStatus,
    Direction,
    EventKind,
    Presence,
    Priority,
    QueueQuery,
    Role,
)
from tests.backends.conftest import BackendFactory
from tests.conftest import NOW
from tests.race import at_once


def _unassigned(backend: Backend, channel: Channel | None = None) -> int:
    query = QueueQuery(unassigned=True, channels=(channel,) if channel else ())
    contacts = backend.queue(query, limit=1).contacts
    assert contacts, "the demo queue has unassigned contacts"
    return contacts[0].id


def test_claim_then_another_operator_is_told_who_has_it(make_backend: BackendFactory) -> None:
    giulia, marco = make_backend("giulia"), make_backend("marco")
    cid = _unassigned(giulia)
    start = giulia.changes(-1).cursor
    claimed = giulia.claim(cid)
    assert claimed.assignee == "giulia" and claimed.status is ContactStatus.OPEN
    assert giulia.claim(cid).assignee == "giulia"  # claiming twice is harmless
    with pytest.raises(Conflict, match="taken by giulia"):
        marco.claim(cid)
    changes = marco.changes(start).changes
    assert [(c.entity_id, c.action, c.actor) for c in changes][:1] == [(cid, "claimed", "giulia")]
    assert cid in [c.id for c in giulia.queue(QueueQuery(assignee="giulia"), limit=500).contacts]


def test_simultaneous_claims_have_exactly_one_winner(make_backend: BackendFactory) -> None:
    names = ["giulia", "marco", "sara", "luca", "elena"]
    backends = [make_backend(n) for n in names]
    cid = _unassigned(backends[0])
    outcomes = at_once([lambda b=b: b.claim(cid) for b in backends], expected=(Conflict,))
    winners = [n for n, o in zip(names, outcomes) if not isinstance(o, Conflict)]
    losers = [n for n, o in zip(names, outcomes) if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == len(names) - 1
    assert backends[0].get_contact(cid).contact.assignee == winners[0]


def test_release_and_transfer(make_backend: BackendFactory) -> None:
    giulia, marco = make_backend("giulia"), make_backend("marco")
    cid = _unassigned(giulia)
    giulia.claim(cid)
    with pytest.raises(Conflict, match="held by giulia"):
        marco.release(cid)
    moved = giulia.transfer(cid, "marco")
    assert moved.assignee == "marco"
    assert marco.release(cid).assignee is None
    with pytest.raises(NotFound, match="nobody"):
        giulia.assign(cid, "nobody")
    with pytest.raises(InvalidInput, match="supervisor"):
        giulia.assign(cid, "anna")


def test_assigning_to_a_misspelt_agent_names_the_known_ones(backend: Backend) -> None:
    cid = _unassigned(backend)
    with pytest.raises(NotFound, match="no agent named 'giula'.*giulia") as refused:
        backend.assign(cid, "giula")
    assert refused.value.title == "Unknown agent"
    assert backend.get_contact(cid).contact.assignee is None
    assert "giula" not in {a.name for a in backend.agents()}


def test_stale_version_is_a_conflict(backend: Backend) -> None:
    cid = _unassigned(backend)
    version = backend.get_contact(cid).contact.version
    backend.set_priority(cid, Priority.HIGH, expected_version=version)
    with pytest.raises(Conflict, match="changed meanwhile"):
        backend.set_priority(cid, Priority.LOW, expected_version=version)
    assert backend.get_contact(cid).contact.priority is Priority.HIGH


def test_resolve_takes_it_out_of_the_queue_and_reopen_brings_it_back(backend: Backend) -> None:
    cid = _unassigned(backend)
    before = backend.queue_count()
    resolved = backend.set_status(cid, ContactStatus.RESOLVED)
    assert resolved.status is ContactStatus.RESOLVED and resolved.resolved_at == NOW
    assert backend.queue_count() == before - 1
    reopened = backend.set_status(cid, ContactStatus.OPEN)
    assert reopened.resolved_at is None and backend.queue_count() == before
    with pytest.raises(InvalidInput):
        backend.set_status(cid, ContactStatus.SNOOZED)


def test_snooze_hides_until_the_time_comes(make_backend: BackendFactory, demo_db) -> None:
    backend = make_backend()
    cid = _unassigned(backend)
    with pytest.raises(InvalidInput, match="past"):
        backend.snooze(cid, NOW - timedelta(minutes=1))
    snoozed = backend.snooze(cid, NOW + timedelta(hours=1))
    assert snoozed.status is ContactStatus.SNOOZED
    assert cid not in [c.id for c in backend.queue(limit=500).contacts]
    if hasattr(backend, "clock"):  # the embedded store lets the test move time on
        backend.clock = lambda: NOW + timedelta(hours=2)  # type: ignore[attr-defined]
        assert cid in [c.id for c in backend.queue(limit=500).contacts]


def test_reply_is_stored_once_and_starts_the_response_clock(backend: Backend) -> None:
    cid = _unassigned(backend, Channel.EMAIL)
    contact = backend.get_contact(cid).contact
    message = backend.reply(cid, "Buongiorno, ci penso io.", idempotency_key="k-1")
    again = backend.reply(cid, "Buongiorno, ci penso io.", idempotency_key="k-1")
    assert again.id == message.id
    detail = backend.get_contact(cid)
    outbound = [m for m in detail.messages if m.direction is Direction.OUTBOUND]
    assert len(outbound) == 1 and outbound[0].author == "giulia"
    assert detail.contact.first_response_at == NOW
    assert detail.contact.assignee == "giulia"  # replying takes the contact
    newest = backend.timeline(contact.customer_id, limit=1).events[0]
    assert newest.kind is EventKind.REPLY and "ci penso io" in newest.payload["body"]


def test_reply_rules(backend: Backend) -> None:
    cid = _unassigned(backend, Channel.EMAIL)
    with pytest.raises(InvalidInput):
        backend.reply(cid, "   ")
    with pytest.raises(InvalidInput, match="sms"):
        backend.reply(cid, "x" * 1601, channel="sms")
    with pytest.raises(InvalidInput, match="channel"):
        backend.reply(cid, "hi", channel="pigeon")


def test_whatsapp_outside_24h_accepts_only_an_approved_template(backend: Backend) -> None:
    # an old WhatsApp conversation, reopened: the customer last wrote days ago
    old = backend.queue(
        QueueQuery(statuses=(ContactStatus.RESOLVED,), channels=(Channel.WHATSAPP,)), limit=1
    ).contacts[0]
    assert NOW - old.last_inbound_at > timedelta(hours=24)
    cid = old.id
    backend.set_status(cid, ContactStatus.OPEN)
    backend.assign(cid, "giulia")
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(cid, "Ciao!")
    template = next(t for t in backend.templates() if t.whatsapp_approved)
    sent = backend.reply(cid, template.body.replace("{first_name}", "Anna"), template=template.name)
    assert sent.channel is Channel.WHATSAPP


def test_private_note_does_not_count_as_a_response(backend: Backend) -> None:
    cid = _unassigned(backend)
    note = backend.add_note(cid, "customer called twice")
    assert note.direction is Direction.NOTE
    assert backend.get_contact(cid).contact.first_response_at is None


def test_customer_note_and_profile_edit_go_on_the_timeline(backend: Backend) -> None:
    event = backend.add_customer_note(3, "prefers calls after 18:00")
    assert event.kind is EventKind.NOTE and event.customer_id == 3
    customer = backend.get_customer(3)
    edited = backend.edit_profile(3, "last_name", "Zanzibarini", expected_version=customer.version)
    assert edited.last_name == "Zanzibarini" and edited.version == customer.version + 1
    assert backend.search_customers("zanzibar")[0].id == 3
    assert backend.timeline(3, limit=1).events[0].kind is EventKind.PROFILE_CHANGE
    with pytest.raises(Conflict):
        backend.edit_profile(3, "first_name", "X", expected_version=customer.version)
    with pytest.raises(InvalidInput):
        backend.edit_profile(3, "lifetime_value", "1000000")
    with pytest.raises(InvalidInput):
        backend.edit_profile(3, "birth_date", "31/02/1990")


def _write_calls(cid: int) -> dict[str, tuple[tuple, dict]]:
    return {
        "claim": ((cid,), {}),
        "release": ((cid,), {}),
        "assign": ((cid, "marco"), {}),
        "transfer": ((cid, "marco"), {}),
        "set_status": ((cid, ContactStatus.RESOLVED), {}),
        "set_priority": ((cid, Priority.URGENT), {}),
        "snooze": ((cid, NOW + timedelta(hours=1)), {}),
        "reply": ((cid, "hello"), {}),
        "retry_message": ((1,), {}),
        "add_note": ((cid, "note"), {}),
        "add_customer_note": ((1, "note"), {}),
        "edit_profile": ((1, "first_name", "Hacked"), {}),
        "deliver_inbound": (
            (Channel.EMAIL, "someone.new@example.com", "hello"),
            {"external_id": "x-1"},
        ),
        "merge_customers": ((1, 2), {}),
        "split_customer": ((1, ("crm:CRM-00000001",)), {}),
        "reject_suggestion": ((1,), {}),
        "train_identity_model": ((), {}),
        "import_file": (("customers.csv",), {"source": "crm"}),
        "create_token": (("desk-9", Role.OPERATOR), {}),
        "revoke_token": (("desk-9",), {}),
        "erase_customer": ((1,), {}),
        "set_legal_hold": ((1, True), {}),
        "set_consent": ((1, "sms", True), {}),
        "add_template": (("new_one", "Ciao"), {}),
        "edit_template": (("greeting_it",), {"body": "Ciao"}),
        "approve_template": (("greeting_it", "greeting_it"), {}),
        "retire_template": (("greeting_it",), {}),
        "add_agent": (("paola",), {}),
        "edit_agent": (("marco",), {"intents": ("refund_status",)}),
        "disable_agent": (("marco",), {}),
        "set_presence": ((Presence.ONLINE,), {}),
        "route_waiting": ((), {}),
        "set_intent": ((cid, "complaint"), {}),
        "train_intents": ((), {}),
        "set_routing_rules": (("away_after_minutes = 5",), {}),
        "record_call": (("CA-ro", CallState.RINGING, "+393470000420"), {"agent": "giulia"}),
        "name_caller": ((1, "Hacked Name", "hacked@libero.it"), {}),
        "kb_import": (((Article(id=0, slug="x", language="en", title="T", body="b"),),), {}),
        "kb_use": ((1, cid), {}),
    }


@pytest.mark.parametrize("who", ["read-only operator", "supervisor"])
def test_every_write_is_refused_when_read_only(make_backend: BackendFactory, who: str) -> None:
    if who == "supervisor":
        backend = make_backend("anna")
    else:
        backend = make_backend("giulia", read_only=True)
    assert backend.read_only
    cid = _unassigned(backend)
    before = (backend.changes(-1).cursor, backend.get_contact(cid), backend.get_customer(1))
    calls = _write_calls(cid)
    assert set(WRITE_METHODS) <= set(calls), "a write method has no read-only case"
    for name in WRITE_METHODS:
        args, kwargs = calls[name]
        with pytest.raises(ReadOnly):
            getattr(backend, name)(*args, **kwargs)
    after = (backend.changes(-1).cursor, backend.get_contact(cid), backend.get_customer(1))
    assert after == before


def test_text_with_a_lone_surrogate_is_refused_and_nothing_is_written(backend: Backend) -> None:
    """A lone UTF-16 surrogate (from bytes that were not UTF-8, or a JSON escape such as
    \\udcff) is not text: every backend refuses it as bad input, and writes nothing."""
    start = backend.changes(-1).cursor
    before = backend.timeline(1, limit=1).events[0].id
    for write in (
        lambda: backend.add_customer_note(1, "bad \udcff byte"),
        lambda: backend.edit_profile(1, "first_name", "Ann\udcffa"),
        lambda: backend.deliver_inbound(Channel.SMS, "+393331112299", "ciao \ud800"),
    ):
        with pytest.raises(InvalidInput, match="lone UTF-16 surrogate"):
            write()
    assert backend.changes(start).changes == ()
    assert backend.timeline(1, limit=1).events[0].id == before
    assert "\udcff" not in backend.get_customer(1).first_name
