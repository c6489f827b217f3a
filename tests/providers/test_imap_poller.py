"""The IMAP poller against a real dovecot: unseen mail becomes contacts, each marked seen once
stored; refused mail is flagged and left for a person; a failing store leaves the rest unseen."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import Unavailable
from backends.models import Channel, Delivery, QueueQuery
from backends.providers.delivery import DeliveryState, DeliveryUpdate
from backends.providers.imap import REFUSED_FLAG, ImapSettings, MailboxPoller
from backends.providers.mail import parse_mail, route_mail
from backends.sqlite.backend import SQLiteBackend
from tests.conftest import NOW
from tests.providers.conftest import fixture_bytes
from tests.providers.dovecot import PASSWORD, USER, Dovecot

LIMIT = 1_000_000


def _mail(sender: str, text: str, message_id: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: support@vista.example\r\nSubject: {text[:20]}\r\n"
        f"Message-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ).encode()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Iterator[Dovecot]:
    dovecot.clear()
    yield dovecot
    dovecot.clear()


@pytest.fixture
def store(demo_db: Path) -> Iterator[SQLiteBackend]:
    """The store as the poller's own agent, registered as a deployment would."""
    with SQLiteBackend(demo_db, agent="admin") as admin:
        admin.add_agent("mailbox", "Mailbox poller", channels=(Channel.EMAIL,))
    backend = SQLiteBackend(demo_db, agent="mailbox", clock=lambda: NOW)
    yield backend
    backend.close()


def _settings(server: Dovecot, password: str = PASSWORD) -> ImapSettings:
    return ImapSettings("127.0.0.1", USER, password, port=server.port, security="plain")


def _poller(server: Dovecot, store: SQLiteBackend, updates: list[DeliveryUpdate]) -> MailboxPoller:
    def handle(raw: bytes) -> None:
        route_mail(parse_mail(raw, LIMIT), store, updates.append)

    return MailboxPoller(_settings(server), handle)


def _messages(store: SQLiteBackend) -> int:
    with store.store.read() as db:
        return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])


def test_unseen_mail_becomes_contacts_and_is_marked_seen(
    mailbox: Dovecot, store: SQLiteBackend
) -> None:
    mailbox.append(fixture_bytes("email/with_attachment.eml"))
    mailbox.append(_mail("luca.bianchi@bianchi-casa.it", "Già letto", "old@x.it"), seen=True)
    mailbox.append(fixture_bytes("email/html_only.eml"))
    updates: list[DeliveryUpdate] = []
    poller = _poller(mailbox, store, updates)
    before = _messages(store)
    report = poller.poll_once()
    assert (report.handled, report.refused, report.left) == (2, 0, 0)
    assert _messages(store) == before + 2  # the message already seen was left alone
    assert all("\\Seen" in flags for flags in mailbox.flags())
    queue = store.queue(limit=500).contacts
    subjects = {c.subject for c in queue if c.channel is Channel.EMAIL}
    assert {"Fattura sbagliata", "Reso"} <= subjects
    assert poller.poll_once().handled == 0 and _messages(store) == before + 2


def test_a_refused_message_is_flagged_left_unseen_and_not_retried(
    mailbox: Dovecot, store: SQLiteBackend
) -> None:
    mailbox.append(b"Subject: nobody sent this\r\n\r\nhello\r\n")
    mailbox.append(_mail("luca.bianchi@bianchi-casa.it", "Buongiorno", "ok-1@x.it"))
    poller = _poller(mailbox, store, [])
    report = poller.poll_once()
    assert (report.handled, report.refused) == (1, 1)
    refused, delivered = mailbox.flags()
    assert REFUSED_FLAG in refused and "\\Seen" not in refused
    assert "\\Seen" in delivered
    assert poller.poll_once().refused == 0  # not tried again


def test_a_failing_store_leaves_the_rest_unseen_for_the_next_poll(
    mailbox: Dovecot, store: SQLiteBackend
) -> None:
    for i in range(3):
        mailbox.append(_mail("luca.bianchi@bianchi-casa.it", f"Messaggio {i}", f"m-{i}@x.it"))
    calls = []

    def flaky(raw: bytes) -> None:
        calls.append(raw)
        if len(calls) == 2:
            raise Unavailable("database is locked")
        route_mail(parse_mail(raw, LIMIT), store, lambda u: None)

    before = _messages(store)
    with pytest.raises(Unavailable):
        MailboxPoller(_settings(mailbox), flaky).poll_once()
    assert [("\\Seen" in f) for f in mailbox.flags()] == [True, False, False]
    report = _poller(mailbox, store, []).poll_once()
    assert report.handled == 2 and _messages(store) == before + 3


def test_a_bounce_in_the_mailbox_reaches_the_hook(mailbox: Dovecot, store: SQLiteBackend) -> None:
    mailbox.append(fixture_bytes("email/bounce.eml"))
    updates: list[DeliveryUpdate] = []
    before = _messages(store)
    assert _poller(mailbox, store, updates).poll_once().handled == 1
    assert [(u.provider_message_id, u.state) for u in updates] == [
        ("vista-reply-43@vista.example", DeliveryState.FAILED)
    ]
    assert _messages(store) == before


def test_a_wrong_password_is_unavailable_without_echoing_it(mailbox: Dovecot) -> None:
    poller = MailboxPoller(_settings(mailbox, "wrong-password-xyz"), lambda raw: None)
    with pytest.raises(Unavailable) as caught:
        poller.poll_once()
    assert "wrong-password-xyz" not in str(caught.value)
    assert "wrong-password-xyz" not in repr(_settings(mailbox, "wrong-password-xyz"))


def test_settings_from_the_environment() -> None:
    env = {
        "VISTA_IMAP_HOST": "imap.vista.example",
        "VISTA_IMAP_USER": "u",
        "VISTA_IMAP_PASSWORD": "p",
    }
    settings = ImapSettings.from_env(env)
    assert (settings.port, settings.security, settings.mailbox) == (993, "tls", "INBOX")
    assert ImapSettings.from_env({**env, "VISTA_IMAP_SECURITY": "starttls"}).port == 143
    with pytest.raises(Exception, match="VISTA_IMAP_PASSWORD"):
        ImapSettings.from_env({"VISTA_IMAP_HOST": "h", "VISTA_IMAP_USER": "u"})
    with pytest.raises(Exception, match="VISTA_IMAP_SECURITY"):
        ImapSettings.from_env({**env, "VISTA_IMAP_SECURITY": "carrier-pigeon"})


def test_vista_mailbox_poll_once(mailbox: Dovecot, demo_db: Path) -> None:
    # the bounce names <vista-reply-43@vista.example>: a reply of this store's, sent under it
    with SQLiteBackend(demo_db, agent="giulia") as giulia:
        page = giulia.queue(QueueQuery(channels=(Channel.EMAIL,)), limit=50).contacts
        contact = next(c for c in page if c.assignee in (None, "giulia"))
        giulia.claim(contact.id)
        sent = giulia.reply(contact.id, "La sua giacca parte domani.")
    with sqlite3.connect(demo_db) as db:
        db.execute(
            "UPDATE outbox SET status = 'sent', provider_id = ? WHERE message_id = ?",
            ("<vista-reply-43@vista.example>", sent.id),
        )
    mailbox.append(fixture_bytes("email/with_attachment.eml"))
    mailbox.append(fixture_bytes("email/bounce.eml"))
    env = {
        **os.environ,
        "VISTA_IMAP_HOST": "127.0.0.1",
        "VISTA_IMAP_PORT": str(mailbox.port),
        "VISTA_IMAP_USER": USER,
        "VISTA_IMAP_PASSWORD": PASSWORD,
        "VISTA_IMAP_SECURITY": "plain",
    }
    args = ["--backend", f"sqlite:///{demo_db}", "mailbox", "poll", "--once"]
    out = _vista([*args, "--json"], env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["handled"], report["refused"], report["left"]) == (2, 0, 0)
    assert report["updates"][0]["state"] == "failed" and report["updates"][0]["recorded"]
    with SQLiteBackend(demo_db, agent="giulia", read_only=True) as giulia:
        bounced = [m for m in giulia.get_contact(contact.id).messages if m.id == sent.id]
    assert bounced[0].delivery is Delivery.FAILED and bounced[0].failure
    assert PASSWORD not in out.stdout + out.stderr
    again = _vista(args, env)
    assert again.returncode == 0 and "0 delivered, 0 refused (flagged), 0 left" in again.stdout
    unset = _vista(args, {**env, "VISTA_IMAP_HOST": ""})
    assert unset.returncode == 1 and "VISTA_IMAP_HOST" in unset.stderr


def _vista(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from console.cli.app import main; main()", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=60)
