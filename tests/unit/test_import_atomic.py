"""Import: bad rows reported and skipped, --strict writes nothing, a crash leaves the store
consistent, re-import updates in place and records what changed, the formats and mapping."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backends.base import InvalidInput
from backends.identity.mapping import load_mapping
from backends.sqlite.identity import resolver
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.record_shapes import FIELDS, SHAPE_JOIN
from backends.sqlite.store import Store

GOOD = "id,first_name,last_name,email\n" + "".join(
    f"C{i},Name{i},Surname{i},p{i}@libero.it\n" for i in range(1, 41)
)
BROKEN = GOOD + 'C99,"unterminated,x,y\n'


def counts(path: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(path)
    try:
        return tuple(
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
            for t in ("source_records", "customers", "customer_search")
        )
    finally:
        db.close()


def test_bad_rows_reported_with_line_and_reason_and_skipped(tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"
    f.write_text(
        "id,first_name,email\nC1,Mario,m@libero.it\nC2\n,Anna,a@libero.it\nC4,,n/a\n", "utf-8"
    )
    store = Store(tmp_path / "v.db", create=True)
    seen: list[tuple[int, str]] = []
    report = run_import(
        store, f, ImportOptions("crm"), on_bad=lambda line, why: seen.append((line, why))
    )
    store.close()
    assert report.created == 1 and report.skipped == 3
    assert [line for line, _ in seen] == [3, 4, 5]
    assert "expected 3 columns" in seen[0][1]
    assert "no record id" in seen[1][1]
    assert "nothing to identify" in seen[2][1]


def test_strict_aborts_with_nothing_written(tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"
    f.write_text(GOOD + "C50\n", "utf-8")
    path = tmp_path / "v.db"
    store = Store(path, create=True)
    with pytest.raises(InvalidInput, match="line 42"):
        run_import(store, f, ImportOptions("crm", strict=True, batch_size=10))
    store.close()
    assert counts(path) == (0, 0, 0)


def test_crash_mid_import_leaves_store_consistent_and_rerun_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "crm.csv"
    f.write_text(GOOD, "utf-8")
    path = tmp_path / "v.db"
    store = Store(path, create=True)
    real = resolver.Resolver.add_batch
    calls = {"n": 0}

    def crashing(self, items, import_id=None):
        calls["n"] += 1
        if calls["n"] == 3:
            real(self, items, import_id)  # the batch is written, then Ctrl-C before commit
            raise KeyboardInterrupt
        return real(self, items, import_id)

    monkeypatch.setattr(resolver.Resolver, "add_batch", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_import(store, f, ImportOptions("crm", batch_size=10))
    store.close()
    records, customers, search = counts(path)
    assert records == 20 and customers == 20 and search == 20  # two whole batches, no half one
    db = sqlite3.connect(path)
    assert (
        db.execute("SELECT count(*) FROM source_records WHERE customer_id IS NULL").fetchone()[0]
        == 0
    )
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()
    monkeypatch.setattr(resolver.Resolver, "add_batch", real)
    store = Store(path)
    report = run_import(store, f, ImportOptions("crm", batch_size=10))
    store.close()
    assert (report.created, report.unchanged) == (20, 20)
    assert counts(path) == (40, 40, 40)


def test_reimport_updates_in_place_and_records_the_change(tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"
    f.write_text("id,first_name,last_name,email\nC1,Mario,Rossi,m@libero.it\n", "utf-8")
    path = tmp_path / "v.db"
    store = Store(path, create=True)
    run_import(store, f, ImportOptions("crm"), now=1000)
    f.write_text("id,first_name,last_name,email\nC1,Mario,Bianchi,m@libero.it\n", "utf-8")
    report = run_import(store, f, ImportOptions("crm"), now=2000)
    again = run_import(store, f, ImportOptions("crm"), now=3000)
    db = store.conn
    changed = json.loads(db.execute("SELECT changed FROM record_changes").fetchone()[0])
    row = db.execute("SELECT last_name FROM customers").fetchone()[0]
    store.close()
    assert (report.created, report.updated, again.unchanged) == (0, 1, 1)
    assert changed == {"last_name": ["Rossi", "Bianchi"]}
    assert row == "Bianchi"
    assert counts(path) == (1, 1, 1)


def test_json_array_and_mapping_file(tmp_path: Path) -> None:
    data = [
        {
            "CustomerNo": 7,
            "Vorname": "Jürgen",
            "Nachname": "Müller",
            "contact": {"mail": "j.mueller@web.de", "tel": "030 1234567"},
        },
        {"CustomerNo": 8, "Vorname": "Eva"},
    ]
    f = tmp_path / "erp.json"
    f.write_text(json.dumps(data, indent=2), "utf-8")
    m = tmp_path / "erp.toml"
    m.write_text(
        'id_column = "CustomerNo"\ndefault_region = "DE"\n[fields]\n'
        'first_name = "Vorname"\nlast_name = "Nachname"\nemail = "contact.mail"\n'
        'phone = ["contact.tel"]\n',
        "utf-8",
    )
    store = Store(tmp_path / "v.db", create=True)
    report = run_import(store, f, ImportOptions("erp", mapping=load_mapping(m)))
    row = store.conn.execute(
        "SELECT first_name, emails, phones FROM customers ORDER BY id"
    ).fetchone()
    stored = json.loads(
        store.conn.execute(
            f"SELECT {FIELDS} FROM source_records r {SHAPE_JOIN} WHERE r.source_id = '7'"
        ).fetchone()[0]
    )
    store.close()
    assert report.created == 2
    assert tuple(row) == ("Jürgen", '["j.mueller@web.de"]', '["+49301234567"]')
    assert stored == data[0]  # the record as received


def test_bad_mapping_file_is_invalid_input(tmp_path: Path) -> None:
    m = tmp_path / "m.toml"
    m.write_text('[fields]\nshoe_size = "x"\n', "utf-8")
    with pytest.raises(InvalidInput, match="shoe_size"):
        load_mapping(m)
    m.write_text("[fields\n", "utf-8")
    with pytest.raises(InvalidInput):
        load_mapping(m)


def test_a_value_shared_by_implausibly_many_records_is_junk(tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"  # everyone left the shop's own number; two are the same person
    f.write_text(
        "id,first_name,last_name,phone,email\n"
        + "".join(
            f"C{i},Person{chr(65 + i)},Family{chr(65 + i)},02 7654321,p{i}@libero.it\n"
            for i in range(20)
        )
        + "C98,Mario,Rossi,02 7654321,mr@libero.it\n"
        "C99,Mario,Rossi,02 7654321,mr@libero.it\n",
        "utf-8",
    )
    store = Store(tmp_path / "v.db", create=True)
    run_import(store, f, ImportOptions("crm", batch_size=5))
    db = store.conn
    junk = db.execute("SELECT kind, value FROM identity_junk").fetchall()
    customers = db.execute("SELECT count(*) FROM customers").fetchone()[0]
    store.close()
    assert [tuple(r) for r in junk] == [("phone", "+39027654321")]
    assert customers == 21  # the shared phone linked nobody; the shared e-mail still did


def test_explain_shows_what_a_reimport_changed(tmp_path: Path) -> None:
    from backends.sqlite.backend import SQLiteBackend

    f = tmp_path / "crm.csv"
    path = tmp_path / "v.db"
    store = Store(path, create=True)
    f.write_text("id,first_name,last_name,email\nC1,Mario,Rossi,m@libero.it\n", "utf-8")
    run_import(store, f, ImportOptions("crm"), now=1000)
    f.write_text("id,first_name,last_name,email\nC1,Mario,Rossi,mario@libero.it\n", "utf-8")
    run_import(store, f, ImportOptions("crm"), now=2000)
    store.close()
    with SQLiteBackend(path) as b:
        change = b.explain_customer(1).changes[0]
        assert change.record == "crm:C1"
        assert change.changed == {"email": ["m@libero.it", "mario@libero.it"]}
        assert b.get_customer(1).emails[0] == "mario@libero.it"
