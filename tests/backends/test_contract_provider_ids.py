"""One provider message is one outbox row, on every backend: the id a provider gives a sent
message (a wamid, a Twilio MessageSid, a Message-ID) names one message, so its delivery
reports reach that one. A provider answering an id another message already has gets the
message marked sent all the same (never sent twice), without the id, with a note saying
why; the store itself refuses a second row with an id (a unique index)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from backends.base import Backend
from backends.channels.config import DispatchSettings
from backends.channels.connector import Outbound, ProviderReceipt
from backends.channels.dispatcher import Dispatcher
from backends.models import Channel, Delivery, QueueQuery, Role
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.outbox import SQLiteOutbox
from tests.postgres_server import read_store, store_backend


@dataclass
class _Provider:
    """A stand-in e-mail provider that answers the ids it is given, in turn."""

    ids: list[str]
    name: str = "stand-in"
    kind: str = "smtp"
    channels: frozenset[Channel] = frozenset({Channel.EMAIL})
    sent: list[int] = field(default_factory=list)

    def send(self, message: Outbound) -> ProviderReceipt:
        self.sent.append(message.message_id)
        return ProviderReceipt(self.ids[(len(self.sent) - 1) % len(self.ids)])

    def check(self) -> str:
        return "ok"

    def close(self) -> None:
        pass


@pytest.fixture
def store(demo_db: Path) -> Iterator[Callable[[], Backend]]:
    """The store the test's backend serves, as the dispatcher on its machine opens it (after
    the backend's first use: on PostgreSQL, the copy of the store is made then)."""
    opened: list[Backend] = []

    def open_store() -> Backend:
        if not opened:
            opened.append(store_backend(demo_db, "dispatcher", Role.ADMIN))
        return opened[0]

    yield open_store
    for found in opened:
        found.close()


def _dispatch(store: Backend, provider: _Provider) -> None:
    outbox = SQLiteOutbox(store.store) if isinstance(store, SQLiteBackend) else store.outbox()
    dispatcher = Dispatcher(outbox, [provider], DispatchSettings(backoff_seconds=0.0))
    try:
        dispatcher.drain()
        dispatcher.drain()  # nothing is left to send again
    finally:
        dispatcher.close()


def _two_replies(backend: Backend) -> tuple[list[int], list[int]]:
    """Replies on two unassigned e-mail contacts: (contact ids, message ids)."""
    query = QueueQuery(unassigned=True, channels=(Channel.EMAIL,))
    contacts = [c.id for c in backend.queue(query, limit=2).contacts]
    return contacts, [backend.reply(c, "Le rimandiamo la fattura.").id for c in contacts]


def _delivery(backend: Backend, contact_id: int, message_id: int) -> Delivery | None:
    return next(m for m in backend.get_contact(contact_id).messages if m.id == message_id).delivery


def _outbox_rows(demo_db: Path, ids: list[int]) -> list[tuple[str | None, str | None]]:
    return [
        read_store(demo_db, "SELECT provider_id, last_error FROM outbox WHERE message_id = ?", m)[0]
        for m in ids
    ]


def _record(store: Backend, provider_id: str, delivery: Delivery) -> bool:
    outbox = SQLiteOutbox(store.store) if isinstance(store, SQLiteBackend) else store.outbox()
    return outbox.record_receipt(provider_id, delivery)


def test_each_sent_message_keeps_its_own_provider_id(
    backend: Backend, store: Callable[[], Backend], demo_db: Path
) -> None:
    contacts, messages = _two_replies(backend)
    provider = _Provider(["<a-1@provider.example>", "<b-2@provider.example>"])
    _dispatch(store(), provider)
    assert provider.sent == messages
    assert _outbox_rows(demo_db, messages) == [
        ("<a-1@provider.example>", None),
        ("<b-2@provider.example>", None),
    ]
    assert _record(store(), "b-2@provider.example", Delivery.DELIVERED)
    assert _delivery(backend, contacts[0], messages[0]) is Delivery.SENT
    assert _delivery(backend, contacts[1], messages[1]) is Delivery.DELIVERED


def test_an_id_the_provider_gave_twice_stays_with_the_first_message(
    backend: Backend, store: Callable[[], Backend], demo_db: Path
) -> None:
    contacts, messages = _two_replies(backend)
    provider = _Provider(["SM-the-same-id"])
    _dispatch(store(), provider)
    assert provider.sent == messages  # each sent once, the second not sent again
    (first_id, first_note), (second_id, second_note) = _outbox_rows(demo_db, messages)
    assert (first_id, first_note) == ("SM-the-same-id", None)
    assert second_id is None and second_note is not None
    assert f"which message {messages[0]} already has" in second_note
    assert [_delivery(backend, c, m) for c, m in zip(contacts, messages, strict=True)] == [
        Delivery.SENT,
        Delivery.SENT,
    ]
    # the provider's report for that id reaches the first message only
    assert _record(store(), "SM-the-same-id", Delivery.READ)
    assert _delivery(backend, contacts[0], messages[0]) is Delivery.READ
    assert _delivery(backend, contacts[1], messages[1]) is Delivery.SENT
    # and the store refuses a second row with the id, whatever writes it
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)):
        read_store(
            demo_db,
            "UPDATE outbox SET provider_id = ? WHERE message_id = ?",
            "SM-the-same-id",
            messages[1],
        )
