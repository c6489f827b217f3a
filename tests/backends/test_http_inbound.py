"""Inbound customer messages (`deliver_inbound`, `POST /api/v1/inbound`), on every backend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from backends.base import Backend, InvalidInput
from backends.models import Channel, ContactStatus, Direction, EventKind, QueueQuery, Role
from tests.backends.live_server import LiveServer
from tests.conftest import NOW

LATER = NOW + timedelta(minutes=5)


def test_known_customer_is_found_by_normalised_email(backend: Backend) -> None:
    email = backend.get_customer(1).emails[0]
    start = backend.changes(-1).cursor
    result = backend.deliver_inbound(
        Channel.EMAIL,
        f"  {email.upper()} ",
        "Il pacco non è arrivato.\nGrazie",
        at=LATER,
        external_id="mail-1",
        subject="Pacco",
    )
    assert result.customer_id == 1 and not result.created_customer and not result.duplicate
    detail = backend.get_contact(result.contact.id)
    assert detail.contact.customer_id == 1 and detail.contact.status is not ContactStatus.RESOLVED
    assert detail.messages[-1].body == "Il pacco non è arrivato.\nGrazie"
    assert detail.messages[-1].direction is Direction.INBOUND and detail.messages[-1].at == LATER
    newest = backend.timeline(1, limit=1).events[0]
    assert newest.kind is EventKind.EMAIL and newest.at == LATER
    assert newest.payload["body"].startswith("Il pacco")
    assert result.contact.id in [c.id for c in backend.queue(limit=500).contacts]
    assert [c.entity_id for c in backend.changes(start).changes] == [result.contact.id]


def test_redelivered_external_id_changes_nothing(backend: Backend) -> None:
    email = backend.get_customer(2).emails[0]
    first = backend.deliver_inbound(Channel.EMAIL, email, "Ciao", at=LATER, external_id="dup-1")
    cursor = backend.changes(-1).cursor
    messages = len(backend.get_contact(first.contact.id).messages)
    again = backend.deliver_inbound(Channel.EMAIL, email, "Ciao", at=LATER, external_id="dup-1")
    assert again.duplicate and again.message.id == first.message.id
    assert len(backend.get_contact(first.contact.id).messages) == messages
    assert backend.changes(-1).cursor == cursor
    other = backend.deliver_inbound(Channel.EMAIL, email, "Ciao", at=LATER, external_id="dup-2")
    assert not other.duplicate and other.message.id != first.message.id


def test_unknown_phone_creates_a_customer_then_joins_the_open_contact(backend: Backend) -> None:
    first = backend.deliver_inbound(
        Channel.WHATSAPP,
        "+39 333 765 4321",
        "Buongiorno, info sull'ordine?",
        at=LATER,
        external_id="wa-1",
        name="Pia Verdi",
    )
    assert first.created_customer and first.created_contact
    customer = backend.get_customer(first.customer_id)
    assert customer.display_name == "Pia Verdi" and customer.phones == ("+393337654321",)
    assert {i.value for i in customer.identities} == {"+393337654321"}
    assert [s.source for s in customer.sources] == ["inbound"]
    assert backend.search_customers("333 765")[0].id == customer.id
    second = backend.deliver_inbound(
        Channel.WHATSAPP,
        "+393337654321",
        "Ci siete?",
        at=LATER + timedelta(minutes=1),
        external_id="wa-2",
    )
    assert second.customer_id == customer.id and not second.created_customer
    assert second.contact.id == first.contact.id and not second.created_contact
    assert second.contact.version == first.contact.version + 1
    assert [m.body for m in backend.get_contact(first.contact.id).messages] == [
        "Buongiorno, info sull'ordine?",
        "Ci siete?",
    ]
    assert second.contact.last_inbound_at == LATER + timedelta(minutes=1)


def test_a_customer_answering_reopens_the_pending_contact(backend: Backend) -> None:
    cid = (
        backend.queue(QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1)
        .contacts[0]
        .id
    )
    backend.reply(cid, "Può mandarci il numero d'ordine?")
    contact = backend.get_contact(cid).contact
    assert contact.status is ContactStatus.PENDING
    email = backend.get_customer(contact.customer_id).emails[0]
    result = backend.deliver_inbound(Channel.EMAIL, email, "Eccolo: 12345", at=LATER)
    assert result.contact.id == cid and result.contact.status is ContactStatus.OPEN


@pytest.mark.parametrize("sender", ["not an address", "a@b", "12"])
def test_inbound_rejects_a_sender_that_is_neither_email_nor_phone(
    backend: Backend, sender: str
) -> None:
    with pytest.raises(InvalidInput):
        backend.deliver_inbound(Channel.SMS, sender, "hi")
    with pytest.raises(InvalidInput):
        backend.deliver_inbound(Channel.SMS, "+393331112222", "   ")


def test_inbound_over_the_wire(live_server: LiveServer, demo_db: Path) -> None:
    live_server.serve(demo_db)
    token = live_server.token("crm-bridge", Role.OPERATOR)
    payload = {
        "channel": "sms",
        "sender": "0039 347 555 0101",
        "text": "Stop",
        "at": "2026-11-20T10:05:00+01:00",
        "external_id": "sms-77",
    }
    with httpx.Client(
        base_url=live_server.url, headers={"authorization": f"Bearer {token}"}
    ) as http:
        first = http.post("/api/v1/inbound", json=payload)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["created_customer"] and body["message"]["at"] == "2026-11-20T09:05:00Z"
        again = http.post("/api/v1/inbound", json=payload).json()
        assert again["duplicate"] and again["message"]["id"] == body["message"]["id"]
        bad = http.post("/api/v1/inbound", json={**payload, "channel": "pigeon"})
        assert bad.status_code == 400
        missing = http.post("/api/v1/inbound", json={"channel": "sms", "text": "x"})
        assert missing.status_code == 400 and "sender" in missing.json()["error"]["message"]
        # a JSON escape of a lone surrogate is not text: refused, nothing stored
        lone = http.post(
            "/api/v1/inbound",
            headers={"content-type": "application/json"},
            content=b'{"channel": "sms", "sender": "+393331112298", "text": "ciao \\udcff"}',
        )
        assert lone.status_code == 422, lone.text  # InvalidInput, as the backend raised it
        assert "lone UTF-16 surrogate" in lone.json()["error"]["message"]
        found = http.get("/api/v1/customers", params={"text": "+393331112298"})
        assert found.status_code == 200 and found.json() == []
