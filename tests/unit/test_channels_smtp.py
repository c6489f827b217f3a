"""Replies leave Vista by e-mail: the outbox, the dispatcher and the SMTP connector,
against a real SMTP server on loopback (aiosmtpd) and a real SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.channels.config import DispatchSettings, Secret, SmtpSettings
from backends.channels.connector import Outbound, PermanentFailure, TemporaryFailure
from backends.channels.dispatcher import Dispatcher, backoff
from backends.channels.smtp import SmtpConnector
from backends.models import Channel, Delivery, Direction, EventKind, QueueQuery
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.outbox import SQLiteOutbox
from tests.conftest import NOW
from tests.smtp_server import SmtpServer, free_port, self_signed

FROM = "Customer care <care@shop.example>"


def smtp_settings(port: int, **extra: object) -> SmtpSettings:
    values: dict[str, object] = {
        "name": "mail",
        "channels": frozenset({Channel.EMAIL}),
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": FROM,
        "timeout": 5.0,
    }
    values.update(extra)
    return SmtpSettings(**values)  # type: ignore[arg-type]


class Clock:
    """The dispatcher's and the outbox's time, moved by the test."""

    def __init__(self) -> None:
        self.now = 2_000_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as s:
        yield s


@pytest.fixture
def backend(demo_db: Path) -> Iterator[SQLiteBackend]:
    b = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
    yield b
    b.close()


def email_contact(backend: SQLiteBackend, demo_db: Path, skip: int = 0) -> int:
    """An unassigned e-mail contact whose customer wrote from an address (its Message-ID set)."""
    contact = backend.queue(
        QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=skip + 1
    ).contacts[skip]
    with sqlite3.connect(demo_db) as db:
        db.execute(
            "INSERT INTO messages(contact_id, direction, channel, author, body, at, external_id) "
            "VALUES (?, 'inbound', 'email', ?, 'Dov''è il mio ordine?', ?, ?)",
            (
                contact.id,
                f"cliente{contact.id}@example.net",
                int(NOW.timestamp()) - 600,
                f"<inbound-{contact.id}@example.net>",
            ),
        )
    return contact.id


def dispatcher(
    backend: SQLiteBackend, port: int, clock: Clock | None = None, **policy: float
) -> Dispatcher:
    outbox = SQLiteOutbox(backend.store, clock=clock) if clock else SQLiteOutbox(backend.store)
    settings = DispatchSettings(**{"backoff_seconds": 30.0, **policy})  # type: ignore[arg-type]
    return Dispatcher(
        outbox,
        [SmtpConnector(smtp_settings(port))],
        settings,
        **({"clock": clock} if clock else {}),
    )


def outbox_row(demo_db: Path, message_id: int) -> sqlite3.Row:
    with sqlite3.connect(demo_db) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM outbox WHERE message_id = ?", (message_id,)).fetchone()


def test_a_reply_is_queued_until_a_provider_accepts_it_then_threads_in_the_customers_mailbox(
    backend: SQLiteBackend, demo_db: Path, server: SmtpServer
) -> None:
    cid = email_contact(backend, demo_db)
    first = backend.reply(cid, "Buongiorno, il suo ordine è già partito. — Giulia")
    assert first.delivery is Delivery.QUEUED and first.external_id is None
    assert outbox_row(demo_db, first.id)["status"] == "queued"
    assert server.inbox.messages == []  # nothing leaves without a dispatcher

    report = dispatcher(backend, server.port).drain()
    assert report.sent == 1
    mail = server.inbox.messages[0]
    assert server.inbox.recipients[0] == [f"cliente{cid}@example.net"]
    assert mail["From"] == FROM
    assert str(mail["Subject"]).startswith("Re: ")
    assert mail["In-Reply-To"] == f"<inbound-{cid}@example.net>"
    assert mail["References"] == f"<inbound-{cid}@example.net>"
    key = outbox_row(demo_db, first.id)["message_key"]
    assert mail["Message-ID"] == f"<{key}@shop.example>"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert "è già partito" in mail.get_content()

    stored = next(m for m in backend.get_contact(cid).messages if m.id == first.id)
    assert stored.delivery is Delivery.SENT and stored.failure is None
    assert stored.external_id == mail["Message-ID"]
    reply_event = next(
        e
        for e in backend.timeline(backend.get_contact(cid).contact.customer_id, limit=20).events
        if e.kind is EventKind.REPLY and e.payload.get("message_id") == first.id
    )
    assert reply_event.payload["delivery"] == "sent"

    # the next reply answers the same customer message and carries the whole thread
    second = backend.reply(cid, "P.S. ecco il tracking.")
    dispatcher(backend, server.port).drain()
    again = server.inbox.messages[1]
    assert again["In-Reply-To"] == f"<inbound-{cid}@example.net>"
    assert str(again["References"]).split() == [f"<inbound-{cid}@example.net>", stored.external_id]
    assert again["Message-ID"] != mail["Message-ID"]
    assert second.delivery is Delivery.QUEUED


def test_a_template_with_html_goes_out_as_text_with_an_html_alternative(
    backend: SQLiteBackend, demo_db: Path, server: SmtpServer
) -> None:
    cid = email_contact(backend, demo_db)
    customer = backend.get_contact(cid).contact.customer_id
    backend.edit_profile(customer, "first_name", "Ann<a>")
    with sqlite3.connect(demo_db) as db:
        db.execute(
            "INSERT INTO templates(name, body, channel, html) VALUES (?, ?, 'email', ?)",
            ("html_hello", "Gentile {first_name}, grazie.", "<p>Gentile <b>{first_name}</b></p>"),
        )
    sent = backend.reply(cid, "", template="html_hello")
    assert sent.body == "Gentile Ann<a>, grazie."
    dispatcher(backend, server.port).drain()
    mail = server.inbox.messages[0]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().strip() == "Gentile Ann<a>, grazie."
    assert "<b>Ann&lt;a&gt;</b>" in html.get_content()  # the customer's text is escaped
    # an edited text is no longer the template: no HTML that says something else
    backend.reply(cid, "Gentile Ann<a>, grazie. Aggiungo una cosa.", template="html_hello")
    dispatcher(backend, server.port).drain()
    assert server.inbox.messages[1].get_content_type() == "text/plain"


def test_non_ascii_names_and_subjects_are_encoded_headers_and_line_breaks_cannot_inject(
    backend: SQLiteBackend, demo_db: Path, server: SmtpServer
) -> None:
    cid = email_contact(backend, demo_db)
    customer = backend.get_contact(cid).contact.customer_id
    backend.edit_profile(customer, "last_name", "Çelik\r\nBcc: victim@example.org")
    with sqlite3.connect(demo_db) as db:
        db.execute("UPDATE contacts SET subject = 'Résumé\nBcc: x@y.z' WHERE id = ?", (cid,))
    backend.reply(cid, "Ciao")
    dispatcher(backend, server.port).drain()
    mail = server.inbox.messages[0]
    assert "Bcc" not in mail or mail["Bcc"] is None
    assert server.inbox.recipients[0] == [f"cliente{cid}@example.net"]
    assert "Çelik" in str(mail["To"]) and str(mail["Subject"]).startswith("Re: Résumé")


def test_a_temporary_failure_is_retried_with_exponential_backoff(
    backend: SQLiteBackend, demo_db: Path, server: SmtpServer
) -> None:
    clock = Clock()
    cid = email_contact(backend, demo_db)
    message = backend.reply(cid, "Arriva domani.")
    server.inbox.answers = ["451 4.3.0 mailbox busy, try later", "421 4.7.0 too many"]
    d = dispatcher(backend, server.port, clock)
    assert d.run_once().retried == 1
    row = outbox_row(demo_db, message.id)
    assert row["status"] == "queued" and row["attempts"] == 1
    assert row["due_at"] == clock.now + 30 and "451" in row["last_error"]
    assert d.run_once().claimed == 0  # not due yet: nothing is hammered
    clock.now += 30
    assert d.run_once().retried == 1
    assert outbox_row(demo_db, message.id)["due_at"] == clock.now + 60  # doubled
    clock.now += 59
    assert d.run_once().claimed == 0
    clock.now += 1
    assert d.run_once().sent == 1
    assert len(server.inbox.messages) == 1
    stored = next(m for m in backend.get_contact(cid).messages if m.id == message.id)
    assert stored.delivery is Delivery.SENT


def test_a_refused_connection_is_retried_and_sent_when_the_relay_is_back(
    backend: SQLiteBackend, demo_db: Path
) -> None:
    clock = Clock()
    port = free_port()
    cid = email_contact(backend, demo_db)
    message = backend.reply(cid, "Eccomi.")
    d = dispatcher(backend, port, clock)
    assert d.run_once().retried == 1
    row = outbox_row(demo_db, message.id)
    assert "connection refused" in row["last_error"] and row["status"] == "queued"
    assert next(m for m in backend.get_contact(cid).messages if m.id == message.id).delivery is (
        Delivery.QUEUED
    )
    with SmtpServer(port=port) as server:  # the relay is back, on the port the connector knows
        clock.now += 30
        assert d.run_once().sent == 1
        assert len(server.inbox.messages) == 1


def test_a_permanent_refusal_fails_the_message_with_the_providers_reason(
    backend: SQLiteBackend, demo_db: Path, server: SmtpServer
) -> None:
    cid = email_contact(backend, demo_db)
    message = backend.reply(cid, "Eccomi.")
    server.inbox.answers = ["550 5.1.1 no such mailbox here"]
    report = dispatcher(backend, server.port).run_once()
    assert report.failed == 1
    stored = next(m for m in backend.get_contact(cid).messages if m.id == message.id)
    assert stored.delivery is Delivery.FAILED
    assert stored.failure is not None and "550 5.1.1 no such mailbox here" in stored.failure
    assert outbox_row(demo_db, message.id)["status"] == "failed"
    assert dispatcher(backend, server.port).run_once().claimed == 0  # never again


def test_temporary_failures_give_up_after_max_attempts(
    backend: SQLiteBackend, demo_db: Path
) -> None:
    clock = Clock()
    cid = email_contact(backend, demo_db)
    message = backend.reply(cid, "Eccomi.")
    d = dispatcher(backend, free_port(), clock, max_attempts=3, backoff_seconds=1.0)
    outcomes = []
    for _ in range(3):
        outcomes.append(d.run_once())
        clock.now += 10
    assert [r.retried for r in outcomes] == [1, 1, 0] and outcomes[2].failed == 1
    stored = next(m for m in backend.get_contact(cid).messages if m.id == message.id)
    assert stored.delivery is Delivery.FAILED
    assert stored.failure and stored.failure.startswith("gave up after 3 attempts")


def test_backoff_doubles_up_to_its_ceiling() -> None:
    policy = DispatchSettings(backoff_seconds=30, backoff_max_seconds=100)
    assert [backoff(n, policy) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_starttls_and_implicit_tls_with_login(tmp_path: Path, monkeypatch) -> None:
    cert = self_signed(tmp_path)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    message = _outbound()
    for security, implicit in (("starttls", False), ("tls", True)):
        with SmtpServer(cert=cert, implicit_tls=implicit, login=("care", "s3cret")) as server:
            connector = SmtpConnector(
                smtp_settings(
                    server.port,
                    security=security,
                    username="care",
                    password=Secret(env="TEST_SMTP_PASSWORD"),
                    ca_file=cert[0],
                )
            )
            assert "logged in as care" in connector.check()
            connector.send(message)
            connector.close()
            assert server.inbox.logins[-1] == "care" and len(server.inbox.messages) == 1
            # a wrong password: the relay says no, and the password is nowhere in the reason
            monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-pass")
            bad = SmtpConnector(
                smtp_settings(
                    server.port,
                    security=security,
                    username="care",
                    password=Secret(env="TEST_SMTP_PASSWORD"),
                    ca_file=cert[0],
                )
            )
            with pytest.raises(PermanentFailure, match="authentication refused") as refused:
                bad.check()
            assert "wrong-pass" not in refused.value.reason
            with pytest.raises(TemporaryFailure, match="authentication refused"):
                bad.send(message)
            monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    # an untrusted certificate is refused (no silent downgrade)
    with SmtpServer(cert=cert) as server:
        untrusted = SmtpConnector(smtp_settings(server.port, security="starttls"))
        with pytest.raises(TemporaryFailure, match="TLS"):
            untrusted.send(message)
        assert server.inbox.messages == []


def _outbound() -> Outbound:
    return Outbound(
        message_id=1,
        channel=Channel.EMAIL,
        key="vista.1.abc",
        recipient="anna@example.net",
        recipient_name="Anna",
        subject="Re: ordine",
        body="Ciao Anna",
    )


def test_notes_and_inbound_messages_never_enter_the_outbox(
    backend: SQLiteBackend, demo_db: Path
) -> None:
    cid = email_contact(backend, demo_db)
    note = backend.add_note(cid, "private")
    assert note.delivery is None
    with sqlite3.connect(demo_db) as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    detail = backend.get_contact(cid)
    assert all(m.delivery is None for m in detail.messages if m.direction is not Direction.OUTBOUND)


def test_an_address_beyond_ascii_goes_out_with_smtputf8(server: SmtpServer) -> None:
    connector = SmtpConnector(smtp_settings(server.port))
    message = Outbound(
        message_id=2,
        channel=Channel.EMAIL,
        key="vista.2.abc",
        recipient="józef@example.net",
        recipient_name="Józef Ñandú",
        subject="Re: zamówienie",
        body="Dzień dobry",
    )
    receipt = connector.send(message)
    connector.close()
    assert receipt.provider_id == "<vista.2.abc@shop.example>"
    assert server.inbox.recipients == [["józef@example.net"]]
    assert "Józef Ñandú" in str(server.inbox.messages[0]["To"])
