"""The audit trail, over every backend: each write appears with who, what and its before
and after values; the chain verifies, and names the entry a manual tamper broke."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backends.base import Backend, Capability, Forbidden, InvalidInput
from backends.models import AuditEntry, Channel, ContactStatus, Priority, QueueQuery, Role
from tests.backends.conftest import BackendFactory
from tests.postgres_server import COPIES

pytestmark = pytest.mark.needs(Capability.AUDIT)


def _unassigned(backend: Backend) -> int:
    return backend.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id


def _trail(admin: Backend, **filters: object) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    cursor = None
    while True:
        page = admin.audit_log(cursor=cursor, limit=7, **filters)  # small pages: paging too
        entries.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return entries


def _one(entries: list[AuditEntry], action: str, object_id: object) -> AuditEntry:
    found = [e for e in entries if e.action == action and e.object_id == str(object_id)]
    assert len(found) == 1, (action, object_id, [(e.action, e.object_id) for e in entries])
    return found[0]


def test_every_write_is_in_the_trail_with_its_before_and_after(
    make_backend: BackendFactory, backend_kind: str
) -> None:
    op, admin = make_backend("giulia"), make_backend("admin")
    start = admin.audit_log(limit=1).entries
    first_seq = start[0].seq if start else 0
    cid = _unassigned(op)
    customer_id = op.get_contact(cid).contact.customer_id
    old_name = op.get_customer(3).first_name
    op.claim(cid)
    op.set_priority(cid, Priority.URGENT)
    note = op.add_note(cid, "called back")
    op.set_status(cid, ContactStatus.RESOLVED)
    event = op.add_customer_note(3, "prefers mornings")
    op.edit_profile(3, "first_name", "Annalisa")
    inbound = op.deliver_inbound(Channel.SMS, "+393331112299", "is my order late?")
    admin.create_token("desk-audit", Role.OPERATOR)
    admin.revoke_token("desk-audit")
    admin.set_legal_hold(3, True)

    entries = [e for e in _trail(admin) if e.seq > first_seq]
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)
    claim = _one(entries, "claimed", cid)
    assert claim.agent == "giulia" and claim.role == "operator"
    assert claim.object_type == "contact" and claim.customer_id == customer_id
    assert claim.changes["assignee"] == (None, "giulia")
    assert _one(entries, "priority:urgent", cid).changes["priority"][1] == 3
    assert _one(entries, "note", note.id).changes["body"] == (None, "called back")
    resolved = _one(entries, "status:resolved", cid)
    assert resolved.changes["status"][1] == "resolved"
    assert _one(entries, "customer-note", event.id).changes["body"] == (None, "prefers mornings")
    assert _one(entries, "edit", 3).changes == {"first_name": (old_name, "Annalisa")}
    # an inbound message is credited to its channel, not to the agent whose token carried it
    arrived = _one(entries, "inbound", inbound.message.id)
    assert arrived.agent == "channel:sms" and arrived.role == ""
    assert arrived.changes["body"] == (None, "is my order late?")
    assert _one(entries, "token-create", "desk-audit").changes["role"] == (None, "operator")
    assert _one(entries, "token-revoke", "desk-audit").agent == "admin"
    assert _one(entries, "legal-hold", 3).changes == {"legal_hold": (False, True)}
    if backend_kind.startswith("http"):  # the server records the caller's token and origin
        assert {e.origin for e in entries if e.action != "inbound"} == {"api"}
        assert claim.token.startswith("giulia-") and arrived.token.startswith("giulia-")
    elif backend_kind == "postgres":  # opened as a server opens it, without a token
        assert claim.origin == "api" and claim.token == ""
    else:
        assert claim.origin == "console" and claim.token == ""
    # filters: by customer, by agent
    assert {e.customer_id for e in _trail(admin, customer_id=3)} == {3}
    assert {e.agent for e in _trail(admin, agent="channel:sms")} == {"channel:sms"}
    assert admin.verify_audit().ok


@pytest.mark.needs(Capability.IDENTITY)
def test_a_merge_and_a_split_are_in_the_trail_of_both_customers(
    make_backend: BackendFactory,
) -> None:
    op, admin = make_backend("giulia"), make_backend("admin")
    gone = op.get_customer(2)
    merged = op.merge_customers(1, 2, reason="same person")
    into = _one(_trail(admin, customer_id=1), "merge", 1)
    assert into.detail["absorbed"] == 2 and into.agent == "giulia"
    away = _one(_trail(admin, customer_id=2), "merged-into", 2)
    assert away.changes["first_name"] == (gone.first_name, None)
    split = op.split_customer(1, merged.records)
    new_id = split.other_id
    assert _one(_trail(admin, customer_id=1), "split", 1).detail["new_customer"] == new_id
    assert _one(_trail(admin, customer_id=new_id), "split-from", new_id)
    assert admin.verify_audit().ok


def _refused(db: Path, sql: str, *params: object) -> None:
    """A change of the trail that the store itself refuses (its append-only triggers)."""
    url = COPIES.get(db)
    if url is None:
        conn = sqlite3.connect(db)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql, params)
        conn.close()
        return
    import psycopg

    with (
        psycopg.connect(url, autocommit=True) as pg,
        pytest.raises(psycopg.Error, match="append-only"),
    ):
        pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]


def _behind_the_back(db: Path, sql: str, *params: object) -> None:
    """A change of the trail by someone who can switch the store's triggers off."""
    url = COPIES.get(db)
    if url is None:
        conn = sqlite3.connect(db)
        for name in ("audit_no_update", "audit_values_no_update"):
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute(sql, params)
        conn.commit()
        conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("SET session_replication_role = replica")  # no triggers fire
        pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]


def test_verify_names_the_first_entry_a_manual_tamper_broke(
    make_backend: BackendFactory, demo_db: Path
) -> None:
    op, admin = make_backend("giulia"), make_backend("admin")
    for text in ("one", "two", "three"):
        op.add_customer_note(5, text)
    entries = _trail(admin)
    assert admin.verify_audit().ok and admin.verify_audit().checked == len(entries)
    middle = entries[1]  # the second newest
    _refused(demo_db, "UPDATE audit SET agent = 'mallory' WHERE seq = ?", middle.seq)
    _refused(demo_db, "DELETE FROM audit WHERE seq = ?", middle.seq)
    _behind_the_back(demo_db, "UPDATE audit SET agent = 'mallory' WHERE seq = ?", middle.seq)
    check = admin.verify_audit()
    assert not check.ok and check.broken_seq == middle.seq
    assert "hash" in check.problem and check.checked == middle.seq - 1


def test_verify_notices_changed_before_and_after_values(
    make_backend: BackendFactory, demo_db: Path
) -> None:
    op, admin = make_backend("giulia"), make_backend("admin")
    op.edit_profile(4, "last_name", "Verdi")
    edit = _one(_trail(admin, customer_id=4), "edit", 4)
    _refused(demo_db, "UPDATE audit_values SET body = '{}' WHERE seq = ?", edit.seq)
    _behind_the_back(
        demo_db,
        "UPDATE audit_values SET body = replace(body, 'Verdi', 'Neri') WHERE seq = ?",
        edit.seq,
    )
    check = admin.verify_audit()
    assert not check.ok and check.broken_seq == edit.seq and "values" in check.problem


@pytest.mark.parametrize("agent", ["giulia", "anna"], ids=["operator", "supervisor"])
def test_only_admins_read_or_verify_the_trail(make_backend: BackendFactory, agent: str) -> None:
    backend = make_backend(agent)
    with pytest.raises(Forbidden):
        backend.audit_log()
    with pytest.raises(Forbidden):
        backend.verify_audit()


def test_audit_paging_bounds(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    with pytest.raises(InvalidInput):
        admin.audit_log(limit=0)
    with pytest.raises(InvalidInput):
        admin.audit_log(limit=1001)
    with pytest.raises(InvalidInput):
        admin.audit_log(cursor="not-a-cursor")
    assert admin.audit_log(limit=1000).entries is not None
