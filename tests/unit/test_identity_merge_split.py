"""Merge and split round trips through the Backend contract: records, timeline, orders,
contacts and search move together; every step is journaled, reversible and read-only-guarded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.base import WRITE_METHODS, InvalidInput, NotFound, ReadOnly
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store

CUSTOMERS = [
    {
        "id": "C1",
        "first_name": "Mario",
        "last_name": "Rossi",
        "email": "mario@libero.it",
        "phone": "347 1234567",
    },
    {"id": "C2", "first_name": "Anna", "last_name": "Verdi", "email": "anna@libero.it"},
    {
        "id": "C3",
        "first_name": "Mario",
        "last_name": "Rossi",
        "email": "mario@libero.it",
        "phone": "+39 347 123 4567",
    },  # the same Mario: linked automatically
]
EVENTS = [
    {
        "id": "O1",
        "kind": "order",
        "at": "2026-01-02T10:00:00Z",
        "email": "anna@libero.it",
        "number": "VS-ANNA-1",
        "total": "10.5",
        "summary": "Order VS-ANNA-1",
    },
    {
        "id": "T1",
        "kind": "ticket",
        "at": "2026-01-03T10:00:00Z",
        "phone": "3471234567",
        "summary": "Where is my parcel?",
    },
]


def _jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "v.db"
    store = Store(path, create=True)
    run_import(store, _jsonl(tmp_path / "c.jsonl", CUSTOMERS), ImportOptions("crm"), now=1000)
    report = run_import(
        store, _jsonl(tmp_path / "e.jsonl", EVENTS), ImportOptions("shop", kind="events"), now=1000
    )
    assert report.created == 2 and not report.bad
    with store.write() as w:  # a conversation of Anna's, attached through her record
        w.execute(
            "INSERT INTO contacts(id, customer_id, channel, status, created_at, updated_at) "
            "VALUES (77, 2, 'email', 'open', 1000, 1000)"
        )
        w.execute(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, "
            "contact_id, record_id) VALUES (2, 1500, 99, 'email', 'email', 'desk', 'Hi', 77, 2)"
        )
    store.close()
    return path


def _state(b: SQLiteBackend, cid: int) -> tuple[list[str], list[int], int]:
    c = b.get_customer(cid)
    events = [e.id for e in b.timeline(cid).events]
    return (
        sorted(f"{s.source}:{s.source_id}" for s in c.sources),
        sorted(events),
        b.customer_facts(cid).open_contacts,
    )


def test_import_links_and_attaches_events(db: Path) -> None:
    with SQLiteBackend(db) as b:
        assert _state(b, 1)[0] == ["crm:C1", "crm:C3"]
        assert [h.id for h in b.search_customers("VS-ANNA-1")] == [2]
        explained = b.explain_customer(1)
        assert explained.links[0].kind == "auto" and "same e-mail" in explained.links[0].reason


def test_merge_then_split_restores_everything(db: Path) -> None:
    with SQLiteBackend(db, agent="giulia") as b:
        before_a, before_b = _state(b, 1), _state(b, 2)
        entry = b.merge_customers(1, 2)
        assert (entry.action, entry.customer_id, entry.other_id) == ("merge", 1, 2)
        with pytest.raises(NotFound):
            b.get_customer(2)
        merged = _state(b, 1)
        assert merged[0] == ["crm:C1", "crm:C2", "crm:C3"]
        assert set(merged[1]) == set(before_a[1]) | set(before_b[1])
        assert merged[2] == 1
        assert [h.id for h in b.search_customers("VS-ANNA-1")] == [1]
        assert "anna@libero.it" in b.get_customer(1).emails

        undo = b.split_customer(1, ("crm:C2",))
        assert (undo.action, undo.other_id) == ("split", 2)
        assert _state(b, 1) == before_a and _state(b, 2) == before_b
        assert [h.id for h in b.search_customers("VS-ANNA-1")] == [2]
        assert [h.id for h in b.search_customers("Anna")] == [2]
        journal = b.explain_customer(2).journal
        assert [j.action for j in journal] == ["merge", "split"]
        actions = [c.action for c in b.changes(0, 1000).changes]
        assert "identity:merge" in actions and "identity:split" in actions


def test_split_keeps_records_apart_on_reimport(db: Path, tmp_path: Path) -> None:
    with SQLiteBackend(db) as b:
        entry = b.split_customer(1, ("crm:C3",))
        new_id = entry.other_id
        assert _state(b, new_id)[0] == ["crm:C3"]
        assert any(x.kind == "apart" for x in b.explain_customer(1).links)
    store = Store(db)
    changed = [dict(CUSTOMERS[2], last_name="Rossi ")]  # a change: C3 is resolved again
    report = run_import(
        store, _jsonl(tmp_path / "c2.jsonl", changed), ImportOptions("crm"), now=2000
    )
    store.close()
    assert report.updated == 1
    with SQLiteBackend(db) as b:
        assert _state(b, new_id)[0] == ["crm:C3"]  # not merged back


def test_split_errors(db: Path) -> None:
    with SQLiteBackend(db) as b:
        with pytest.raises(InvalidInput):
            b.split_customer(1, ("crm:C1", "crm:C3"))  # nothing would be left
        with pytest.raises(InvalidInput):
            b.split_customer(1, ("crm:C2",))  # not this customer's
        with pytest.raises(InvalidInput):
            b.merge_customers(1, 1)
        with pytest.raises(NotFound):
            b.merge_customers(1, 999)


def test_merge_and_split_refused_read_only(db: Path) -> None:
    assert {"merge_customers", "split_customer", "reject_suggestion"} <= set(WRITE_METHODS)
    with SQLiteBackend(db, read_only=True) as b:
        with pytest.raises(ReadOnly):
            b.merge_customers(1, 2)
        with pytest.raises(ReadOnly):
            b.split_customer(1, ("crm:C3",))
        assert b.get_customer(2).first_name == "Anna"


def test_suggestion_merge_and_reject(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path, create=True)
    rows = [
        {"id": "A", "first_name": "Anna", "last_name": "Rossi", "phone": "02 1234567"},
        {"id": "B", "first_name": "Anna", "last_name": "Rossi", "phone": "+39021234567"},
    ]
    run_import(store, _jsonl(tmp_path / "s.jsonl", rows), ImportOptions("crm"), now=1000)
    store.close()
    with SQLiteBackend(path) as b:
        found = b.identity_suggestions()
        assert len(found) == 1 and "same landline" in found[0].reason
        b.reject_suggestion(found[0].id)
        assert b.identity_suggestions() == ()


def test_merge_with_a_record_written_by_another_path(db: Path) -> None:
    store = Store(db)
    with store.write() as w:  # e.g. an inbound message created this customer: no features stored
        w.execute(
            "INSERT INTO customers(id, first_name, created_at, updated_at) VALUES (50, '', 1, 1)"
        )
        w.execute(
            "INSERT INTO source_records(id, source, source_id, customer_id, fields, received_at, "
            "updated_at) VALUES (50, 'inbound', 'x1', 50, ?, 1, 1)",
            (json.dumps({"email": "mario.r@tiscali.it", "name": "Mario Rossi"}),),
        )
    store.close()
    with SQLiteBackend(db) as b:
        b.merge_customers(1, 50)
        c = b.get_customer(1)
        assert "mario.r@tiscali.it" in c.emails and c.first_name == "Mario"
