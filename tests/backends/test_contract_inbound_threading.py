"""A reply threads by the message it answers (In-Reply-To / References), on every backend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from backends.base import Backend
from backends.models import Channel, ContactStatus, QueueQuery
from tests.conftest import NOW
from tests.postgres_server import edit_store

LATER = NOW + timedelta(minutes=5)


def _sent_with_message_id(backend: Backend, db: Path, message_id: str) -> int:
    """An e-mail contact answered by Vista, its reply stamped with `message_id` (as the
    outbox stamps what it sent)."""
    query = QueueQuery(unassigned=True, channels=(Channel.EMAIL,))
    contact_id = backend.queue(query, limit=1).contacts[0].id
    sent = backend.reply(contact_id, "Ci mandi il numero d'ordine, per favore.")
    edit_store(db, "UPDATE messages SET external_id = ? WHERE id = ?", message_id, sent.id)
    return contact_id


def test_a_reply_from_another_address_joins_the_thread_it_answers(
    backend: Backend, demo_db: Path
) -> None:
    contact_id = _sent_with_message_id(backend, demo_db, "<vista-42@vista.example>")
    customer_id = backend.get_contact(contact_id).contact.customer_id
    result = backend.deliver_inbound(
        Channel.EMAIL,
        "collega.di.lavoro@studio-rossi.it",
        "Rispondo io per lei: ordine 5531.",
        at=LATER,
        external_id="colleague-1@studio-rossi.it",
        in_reply_to="<vista-42@vista.example>",
    )
    assert result.contact.id == contact_id and result.customer_id == customer_id
    assert not result.created_customer and not result.created_contact
    assert result.contact.status is ContactStatus.OPEN  # the pending contact reopens
    assert backend.get_contact(contact_id).messages[-1].body.startswith("Rispondo io")


def test_references_thread_too_and_brackets_do_not_matter(backend: Backend, demo_db: Path) -> None:
    contact_id = _sent_with_message_id(backend, demo_db, "vista-43@vista.example")
    result = backend.deliver_inbound(
        Channel.EMAIL,
        "someone.else@studio-rossi.it",
        "Seguito.",
        at=LATER,
        references=("<first@studio-rossi.it>", "<vista-43@vista.example>"),
    )
    assert result.contact.id == contact_id


def test_an_unknown_or_resolved_thread_falls_back_to_the_sender(
    backend: Backend, demo_db: Path
) -> None:
    contact_id = _sent_with_message_id(backend, demo_db, "<vista-44@vista.example>")
    stranger = backend.deliver_inbound(
        Channel.EMAIL,
        "nuovo.cliente@studio-rossi.it",
        "Salve",
        at=LATER,
        in_reply_to="<nobody-sent-this@vista.example>",
    )
    assert stranger.created_customer and stranger.contact.id != contact_id
    backend.set_status(contact_id, ContactStatus.RESOLVED)
    late = backend.deliver_inbound(
        Channel.EMAIL,
        "nuovo.cliente@studio-rossi.it",
        "Ancora io",
        at=LATER,
        in_reply_to="<vista-44@vista.example>",
    )
    assert late.contact.id == stranger.contact.id  # a resolved thread is not reopened
