"""The audit trail of a local store: the dispatcher's outbox changes, imports with their
counts, and the read audit a local user switches on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import open_backend
from backends.base import Capability
from backends.channels.connector import ProviderReceipt
from backends.models import Channel, Delivery, Role
from backends.sqlite.backend import SQLiteBackend
from tests.conftest import NOW
from tests.unit.test_channels_smtp import email_contact


@pytest.fixture
def backend(demo_db: Path) -> Iterator[SQLiteBackend]:
    b = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
    yield b
    b.close()


def _admin(demo_db: Path) -> SQLiteBackend:
    return SQLiteBackend(demo_db, agent="admin", clock=lambda: NOW)


def test_the_dispatchers_outbox_changes_are_credited_to_the_dispatcher(
    backend: SQLiteBackend, demo_db: Path
) -> None:
    contact_id = email_contact(backend, demo_db)
    message = backend.reply(contact_id, "We are on it.")
    outbox = backend.outbox()
    assert [m.message_id for m in outbox.claim([Channel.EMAIL], lease_seconds=30, limit=5)] == [
        message.id
    ]
    outbox.sent(message.id, ProviderReceipt("<sent-1@vista>"))
    assert outbox.record_receipt("<sent-1@vista>", Delivery.DELIVERED)
    trail = _admin(demo_db).audit_log(limit=10).entries
    steps = [(e.action, e.agent, e.origin) for e in trail if e.object_type == "outbox"]
    assert steps == [
        ("delivery:delivered", "dispatcher", "dispatcher"),
        ("outbox:sent", "dispatcher", "dispatcher"),
        ("outbox:sending", "dispatcher", "dispatcher"),
    ]
    sent = next(e for e in trail if e.action == "outbox:sent")
    assert sent.changes["state"] == ("sending/queued", "sent/sent")
    reply = next(e for e in trail if e.action == "reply")
    assert reply.agent == "giulia" and reply.changes["body"] == (None, "We are on it.")
    assert reply.changes["recipient"][1]  # where it went


def test_an_import_is_one_entry_with_its_counts(demo_db: Path, tmp_path: Path) -> None:
    csv = tmp_path / "crm.csv"
    csv.write_text(
        "source_id,first_name,last_name,email\n"
        "N-1,Ada,Lovelace,ada@example.com\nN-2,Alan,Turing,alan@example.com\n"
    )
    admin = _admin(demo_db)
    result = admin.import_file(csv, source="crm", strict=True)
    trail = admin.audit_log(limit=5).entries
    assert [e.action for e in trail].count("import") == 1
    entry = trail[0]
    assert entry.action == "import" and entry.origin == "import" and entry.agent == "admin"
    assert entry.object_id == str(result.import_id)
    assert entry.detail["rows"] == 2 and entry.detail["created"] == 2
    assert entry.detail["source"] == "crm" and not entry.changes  # counts, never values


def test_read_audit_is_off_locally_unless_asked_for(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISTA_READ_AUDIT", raising=False)
    quiet = open_backend(f"sqlite:///{demo_db}", agent="giulia")
    quiet.get_customer(12)
    quiet.close()
    admin = _admin(demo_db)
    assert admin.audit_log(customer_id=12).entries == ()
    monkeypatch.setenv("VISTA_READ_AUDIT", "1")
    watched = open_backend(f"sqlite:///{demo_db}", agent="giulia")
    watched.customer_view(12)
    watched.close()
    entry = admin.audit_log(customer_id=12).entries[0]
    assert (entry.action, entry.agent, entry.origin, entry.detail) == (
        "read",
        "giulia",
        "console",
        {"what": "profile"},
    )
    assert len(admin.audit_log(customer_id=12).entries) == 1  # one read, one entry


def test_a_read_only_local_store_records_no_reads(demo_db: Path) -> None:
    ro = SQLiteBackend(demo_db, agent="giulia", read_only=True, read_audit=True)
    assert ro.get_customer(12).id == 12
    ro.close()
    assert _admin(demo_db).audit_log(customer_id=12).entries == ()


def test_capabilities_offer_audit_and_personal_data_to_admins_only(demo_db: Path) -> None:
    wanted = Capability.AUDIT | Capability.PERSONAL_DATA
    assert _admin(demo_db).capabilities & wanted == wanted
    for agent in ("giulia", "anna"):
        caps = SQLiteBackend(demo_db, agent=agent).capabilities
        assert not caps & (Capability.AUDIT | Capability.PERSONAL_DATA)
    assert SQLiteBackend(demo_db, agent="x", role=Role.ADMIN).capabilities & Capability.AUDIT
