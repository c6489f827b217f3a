"""Sending a failed reply again (`retry_message`), on every backend: a real dispatcher sends
through a real SMTP server (aiosmtpd on loopback) from the store the backend serves.

A refused reply goes out again under a fresh Message-ID (no provider takes it for the one
it refused); one given up after unanswered attempts keeps its Message-ID (a provider that
took it after all sees the same message); one accepted and then bounced goes out under a
fresh one. Only a failed reply is sent again, only by a writer who may answer the contact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from backends.base import Backend, Conflict, InvalidInput, NotFound, ReadOnly
from backends.channels.config import DispatchSettings, SmtpSettings
from backends.channels.dispatcher import Dispatcher
from backends.channels.smtp import SmtpConnector
from backends.models import Channel, Delivery, Direction, EventKind, QueueQuery
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.outbox import SQLiteOutbox
from tests.backends.conftest import BackendFactory
from tests.conftest import NOW
from tests.smtp_server import SmtpServer, free_port


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as s:
        yield s


def _dispatcher(demo_db: Path, port: int, **policy: float) -> Iterator[Dispatcher]:
    store = SQLiteBackend(demo_db, agent="dispatcher")
    settings = SmtpSettings(
        name="mail",
        channels=frozenset({Channel.EMAIL}),
        host="127.0.0.1",
        port=port,
        security="none",
        sender="Care <care@shop.example>",
        timeout=5.0,
    )
    values = {"backoff_seconds": 0.0, **policy}
    d = Dispatcher(
        SQLiteOutbox(store.store),
        [SmtpConnector(settings)],
        DispatchSettings(**values),  # type: ignore[arg-type]
    )
    yield d
    d.close()
    store.close()


def _send(demo_db: Path, port: int, **policy: float) -> None:
    for d in _dispatcher(demo_db, port, **policy):
        d.drain()


def _email_reply(backend: Backend) -> tuple[int, int]:
    """A reply on an unassigned e-mail contact: (contact id, message id)."""
    query = QueueQuery(unassigned=True, channels=(Channel.EMAIL,))
    contact_id = backend.queue(query, limit=1).contacts[0].id
    return contact_id, backend.reply(contact_id, "Le rimandiamo la fattura.").id


def _key(demo_db: Path, message_id: int) -> str:
    with sqlite3.connect(demo_db) as db:
        found = db.execute("SELECT message_key FROM outbox WHERE message_id = ?", (message_id,))
        key = str(found.fetchone()[0])
    db.close()
    return key


def _delivery(backend: Backend, contact_id: int, message_id: int) -> Delivery | None:
    found = [m for m in backend.get_contact(contact_id).messages if m.id == message_id]
    return found[0].delivery


def test_a_refused_reply_goes_back_to_queued_and_out_under_a_fresh_message_id(
    backend: Backend, demo_db: Path, server: SmtpServer
) -> None:
    contact_id, message_id = _email_reply(backend)
    refused_key = _key(demo_db, message_id)
    server.inbox.answers = ["550 5.1.1 mailbox full"]
    _send(demo_db, server.port)
    assert _delivery(backend, contact_id, message_id) is Delivery.FAILED
    cursor = backend.changes(-1).cursor

    again = backend.retry_message(message_id)

    assert again.id == message_id and again.delivery is Delivery.QUEUED and again.failure is None
    assert _delivery(backend, contact_id, message_id) is Delivery.QUEUED
    customer_id = backend.get_contact(contact_id).contact.customer_id
    event = next(
        e
        for e in backend.timeline(customer_id, kinds=(EventKind.REPLY,), limit=50).events
        if e.payload.get("message_id") == message_id
    )
    assert event.payload["delivery"] == "queued" and event.payload.get("failure") is None
    assert contact_id in [c.entity_id for c in backend.changes(cursor).changes]  # consoles see it
    _send(demo_db, server.port)
    assert _delivery(backend, contact_id, message_id) is Delivery.SENT
    assert len(server.inbox.messages) == 1
    assert refused_key not in server.inbox.message_ids()[0]
    assert _key(demo_db, message_id) in server.inbox.message_ids()[0]


def test_a_reply_given_up_unanswered_keeps_its_message_id(
    backend: Backend, demo_db: Path, server: SmtpServer
) -> None:
    contact_id, message_id = _email_reply(backend)
    key = _key(demo_db, message_id)
    _send(demo_db, free_port(), max_attempts=1)  # nobody answers on that port
    assert _delivery(backend, contact_id, message_id) is Delivery.FAILED

    backend.retry_message(message_id)
    _send(demo_db, server.port)

    assert _delivery(backend, contact_id, message_id) is Delivery.SENT
    assert server.inbox.message_ids() == [f"<{key}@shop.example>"]


def test_a_bounced_reply_goes_out_again_as_a_new_message(
    backend: Backend, demo_db: Path, server: SmtpServer
) -> None:
    contact_id, message_id = _email_reply(backend)
    _send(demo_db, server.port)
    first = server.inbox.message_ids()[0]
    bounces = SQLiteBackend(demo_db, agent="dispatcher")
    assert bounces.outbox().record_failure(first, "550 5.1.1 user unknown (bounce)")
    bounces.close()
    assert _delivery(backend, contact_id, message_id) is Delivery.FAILED

    backend.retry_message(message_id)
    _send(demo_db, server.port)

    ids = server.inbox.message_ids()
    assert len(ids) == 2 and ids[0] != ids[1]
    assert _delivery(backend, contact_id, message_id) is Delivery.SENT


def test_only_a_failed_reply_is_sent_again(
    backend: Backend, demo_db: Path, server: SmtpServer
) -> None:
    contact_id, message_id = _email_reply(backend)
    with pytest.raises(Conflict, match="is queued, not failed"):
        backend.retry_message(message_id)
    _send(demo_db, server.port)
    with sqlite3.connect(demo_db) as db:  # the provider's receipt: delivered
        db.execute("UPDATE messages SET delivery = 'delivered' WHERE id = ?", (message_id,))
    db.close()
    with pytest.raises(Conflict, match="is delivered, not failed"):
        backend.retry_message(message_id)
    assert _delivery(backend, contact_id, message_id) is Delivery.DELIVERED
    assert len(server.inbox.messages) == 1  # nothing sent twice
    _send(demo_db, server.port)
    assert len(server.inbox.messages) == 1


def test_unknown_ids_and_messages_that_are_not_replies_are_refused(backend: Backend) -> None:
    with pytest.raises(NotFound, match="message 987654 not found"):
        backend.retry_message(987654)
    contact_id = backend.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
    inbound = next(
        m for m in backend.get_contact(contact_id).messages if m.direction is Direction.INBOUND
    )
    with pytest.raises(InvalidInput, match="not a reply Vista sent"):
        backend.retry_message(inbound.id)
    note = backend.add_note(contact_id, "richiamare domani")
    with pytest.raises(InvalidInput, match="not a reply Vista sent"):
        backend.retry_message(note.id)


def test_a_supervisor_and_another_operator_may_not_send_it_again(
    make_backend: BackendFactory, demo_db: Path, server: SmtpServer
) -> None:
    giulia = make_backend("giulia")
    contact_id, message_id = _email_reply(giulia)
    server.inbox.answers = ["554 5.7.1 rejected"]
    _send(demo_db, server.port)
    with pytest.raises(ReadOnly):
        make_backend("anna").retry_message(message_id)
    with pytest.raises(Conflict, match="held by giulia"):
        make_backend("marco").retry_message(message_id)
    assert _delivery(giulia, contact_id, message_id) is Delivery.FAILED
    assert giulia.retry_message(message_id).delivery is Delivery.QUEUED


def _failed_whatsapp_reply(
    backend: Backend, demo_db: Path, phone: str, body: str, **kw: str
) -> int:
    """A WhatsApp reply to a customer who wrote 23 hours ago, refused by the provider (as
    the dispatcher records a 4xx); its message id."""
    wrote = backend.deliver_inbound(
        Channel.WHATSAPP, phone, "Ciao, una domanda", at=NOW - timedelta(hours=23)
    )
    message = backend.reply(wrote.contact.id, body, **kw)
    outbox = SQLiteBackend(demo_db, agent="dispatcher").outbox()
    assert [m.message_id for m in outbox.claim({Channel.WHATSAPP}, lease_seconds=60, limit=9)]
    outbox.failed(message.id, "HTTP 400: (#131026) Message undeliverable")
    outbox.store.close()
    return message.id


def _window_closes(demo_db: Path, phone_digits: str) -> None:
    """Two hours on: the customer's last WhatsApp message is now 25 hours old."""
    with sqlite3.connect(demo_db) as db:
        db.execute(
            "UPDATE contacts SET last_inbound_at = last_inbound_at - 7200 WHERE id IN "
            "(SELECT contact_id FROM messages WHERE author LIKE ?)",
            (f"%{phone_digits}%",),
        )
    db.close()


def test_free_text_on_whatsapp_is_not_sent_again_once_the_window_has_closed(
    backend: Backend, demo_db: Path
) -> None:
    inside = _failed_whatsapp_reply(backend, demo_db, "+39 347 555 0301", "Eccomi, mi dica")
    assert backend.retry_message(inside).delivery is Delivery.QUEUED  # 23 h: still open
    closed = _failed_whatsapp_reply(backend, demo_db, "+39 347 555 0302", "Eccomi, mi dica")
    _window_closes(demo_db, "5550302")
    with pytest.raises(InvalidInput, match="24-hour window has closed"):
        backend.retry_message(closed)


def test_an_approved_template_on_whatsapp_is_sent_again_after_the_window(
    backend: Backend, demo_db: Path
) -> None:
    template = next(t for t in backend.templates() if t.whatsapp_approved)
    body = template.body.replace("{first_name}", "Anna")
    message_id = _failed_whatsapp_reply(
        backend, demo_db, "+39 347 555 0303", body, template=template.name
    )
    _window_closes(demo_db, "5550303")
    assert backend.retry_message(message_id).delivery is Delivery.QUEUED
