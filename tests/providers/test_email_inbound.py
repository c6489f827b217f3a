"""E-mail in on a live server: messages, attachments, HTML, auto-replies, bounces, limits, roles."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import httpx
import pytest

from backends.models import Channel, ContactStatus, QueueQuery, Role
from backends.providers.delivery import DeliveryState
from tests.providers.conftest import (
    EMAIL_MAX_BYTES,
    EMAIL_PATH,
    ChannelServer,
    fixture_bytes,
)


def _plain(sender: str, body: str, *, message_id: str, extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@vista.example\r\nSubject: Domanda\r\n"
        f"Date: Fri, 20 Nov 2026 09:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n{extra}"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_a_message_with_an_attachment_becomes_a_queued_email_contact(
    channels: ChannelServer,
) -> None:
    answer = channels.post_email(fixture_bytes("email/with_attachment.eml"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == "message" and body["delivered"] and not body["duplicate"]
    backend = channels.live.backend_for("giulia")
    try:
        detail = backend.get_contact(body["contact_id"])
        customer = backend.get_customer(body["customer_id"])
    finally:
        backend.close()
    assert customer.emails == ("pia.verdi@posta-verdi.it",) and customer.display_name == "Pia Verdi"
    assert detail.contact.subject == "Fattura sbagliata"
    assert detail.messages[-1].body == (
        "Buongiorno,\nla fattura allegata è intestata male.\nGrazie, Pia\n\n"
        "[attachment: fattura-1234.pdf, application/pdf, 2,016 bytes]"
    )
    queued = channels.queued(body["contact_id"])
    assert queued is not None and queued.channel is Channel.EMAIL


def test_the_same_message_twice_is_stored_once(channels: ChannelServer) -> None:
    raw = fixture_bytes("email/with_attachment.eml")
    first = channels.post_email(raw).json()
    again = channels.post_email(raw).json()
    assert again["duplicate"] and again["message_id"] == first["message_id"]


def test_an_html_only_message_is_read_as_text(channels: ChannelServer) -> None:
    body = channels.post_email(fixture_bytes("email/html_only.eml")).json()
    backend = channels.live.backend_for("giulia")
    try:
        text = backend.get_contact(body["contact_id"]).messages[-1].body
    finally:
        backend.close()
    assert text == (
        "Richiesta di reso\n\nVorrei restituire l'ordine #4411.\n\nTaglia sbagliata\n\nColore diverso"
    )


def test_an_auto_reply_is_not_a_customer_message(channels: ChannelServer) -> None:
    before = channels.message_count()
    answer = channels.post_email(fixture_bytes("email/auto_reply.eml"))
    assert answer.status_code == 200
    assert answer.json()["kind"] == "auto_reply" and not answer.json()["delivered"]
    (update,) = channels.updates  # it answers one of ours: the outbox learns it arrived
    assert (update.provider, update.provider_message_id, update.state) == (
        "email",
        "vista-reply-42@vista.example",
        DeliveryState.DELIVERED,
    )
    assert update.reason == "auto-reply: Fuori ufficio: Re: Il suo ordine"
    channels.updates.clear()
    bulk = channels.post_email(fixture_bytes("email/bulk_out_of_office.eml")).json()
    assert bulk["kind"] == "auto_reply" and "not stored" in bulk["note"]
    assert channels.updates == [] and channels.message_count() == before


def test_an_auto_reply_does_not_reopen_a_pending_contact(channels: ChannelServer) -> None:
    backend = channels.live.backend_for("giulia")
    try:
        cid = backend.queue(QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1)
        contact_id = cid.contacts[0].id
        backend.reply(contact_id, "Le abbiamo spedito il pacco.")
        address = backend.get_customer(backend.get_contact(contact_id).contact.customer_id).emails[
            0
        ]
        raw = _plain(
            address, "Sono in ferie.", message_id="ooo-77@x.it", extra="X-Autoreply: yes\r\n"
        )
        assert channels.post_email(raw).json()["kind"] == "auto_reply"
        assert backend.get_contact(contact_id).contact.status is ContactStatus.PENDING
        human = _plain(address, "Grazie, ricevuto.", message_id="human-77@x.it")
        assert channels.post_email(human).json()["contact_id"] == contact_id
        assert backend.get_contact(contact_id).contact.status is ContactStatus.OPEN
    finally:
        backend.close()


def test_auto_submitted_no_is_a_person(channels: ChannelServer) -> None:
    raw = _plain(
        "luca.bianchi@bianchi-casa.it",
        "Scrivo io.",
        message_id="p-1@x.it",
        extra="Auto-Submitted: no\r\n",
    )
    assert channels.post_email(raw).json()["kind"] == "message"


def test_a_bounce_fails_the_original_message(channels: ChannelServer) -> None:
    before = channels.message_count()
    answer = channels.post_email(fixture_bytes("email/bounce.eml"))
    assert answer.status_code == 200 and answer.json()["kind"] == "bounce"
    (update,) = channels.updates
    assert update.provider_message_id == "vista-reply-43@vista.example"
    assert update.state is DeliveryState.FAILED
    assert update.reason.startswith("5.1.1; smtp; 550 5.1.1 <nessuno@studio-rossi.it>")
    assert "User unknown" in update.reason
    assert channels.message_count() == before


def test_a_reply_threads_to_the_contact_of_the_message_it_answers(
    channels: ChannelServer,
) -> None:
    backend = channels.live.backend_for("giulia")
    try:
        page = backend.queue(QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1)
        contact_id = page.contacts[0].id
        sent = backend.reply(contact_id, "Quale taglia desidera?")
    finally:
        backend.close()
    with closing(sqlite3.connect(channels.live.db)) as conn, conn:  # as the outbox stamps it
        conn.execute(
            "UPDATE messages SET external_id = ? WHERE id = ?", ("<vista-9@vista.example>", sent.id)
        )
    raw = _plain(
        "collega@studio-rossi.it",
        "La M, grazie.",
        message_id="re-9@studio-rossi.it",
        extra="In-Reply-To: <vista-9@vista.example>\r\nReferences: <vista-9@vista.example>\r\n",
    )
    assert channels.post_email(raw).json()["contact_id"] == contact_id


def test_size_limit_boundary(channels: ChannelServer) -> None:
    head = _plain("luca.bianchi@bianchi-casa.it", "", message_id="big@x.it")
    at_limit = head + b"x" * (EMAIL_MAX_BYTES - len(head))
    assert len(at_limit) == EMAIL_MAX_BYTES
    assert channels.post_email(at_limit).status_code == 200
    over = _plain("luca.bianchi@bianchi-casa.it", "", message_id="big2@x.it")
    over += b"x" * (EMAIL_MAX_BYTES - len(over) + 1)
    before = channels.message_count()
    refused = channels.post_email(over)
    assert refused.status_code == 413 and "64,000" in refused.json()["error"]["message"]
    assert channels.message_count() == before


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
def test_operators_and_admins_may_post_mail(channels: ChannelServer, role: Role) -> None:
    raw = _plain("luca.bianchi@bianchi-casa.it", "Ciao", message_id=f"r-{role.value}@x.it")
    assert channels.post_email(raw, role=role).status_code == 200


def test_supervisors_anonymous_and_other_types_are_refused(channels: ChannelServer) -> None:
    raw = _plain("luca.bianchi@bianchi-casa.it", "Ciao", message_id="refused@x.it")
    before = channels.message_count()
    assert channels.post_email(raw, role=Role.SUPERVISOR).status_code == 403
    anonymous = httpx.post(
        channels.url + EMAIL_PATH, content=raw, headers={"content-type": "message/rfc822"}
    )
    assert anonymous.status_code == 401
    token = channels.live.token("mail-gateway", Role.OPERATOR)
    wrong_type = httpx.post(
        channels.url + EMAIL_PATH,
        content=raw,
        headers={"authorization": f"Bearer {token}", "content-type": "text/plain"},
    )
    assert wrong_type.status_code == 400 and "message/rfc822" in wrong_type.text
    assert channels.message_count() == before


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"Subject: no sender\r\n\r\nhello\r\n",
        b"From: not-an-address\r\nSubject: x\r\n\r\nhello\r\n",
    ],
)
def test_a_message_without_a_usable_sender_is_refused(channels: ChannelServer, raw: bytes) -> None:
    before = channels.message_count()
    assert channels.post_email(raw).status_code == 400
    assert channels.message_count() == before
