"""Source records kept as values against a shape (schema 16, `record_shapes`): every reader
sees each record exactly as it was received, a re-import tells changed records from
unchanged ones as before, and an erasure leaves nothing of the person behind."""

from __future__ import annotations

import json
from pathlib import Path

from backends import provenance, record_fields
from backends.identity.jsontext import dumps
from backends.identity.mapping import load_mapping
from backends.sqlite import record_shapes
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store

ROWS = [
    {
        "CustomerNo": 7,
        "Vorname": "Jürgen",
        "Nachname": "Müller",
        "contact": {"mail": "j.mueller@web.de", "tel": "030 1234567"},
        "tags": ["vip", {"since": 2020}],
    },
    {"CustomerNo": 8, "Vorname": "Eva", "Nachname": "Weiß", "contact": {"mail": "eva@gmx.de"}},
    {"CustomerNo": 9, "Vorname": "Otto", "Nachname": "Klein", "contact": {}, "note": None},
    # keys that are not field names (an e-mail, a number): kept as received
    {"CustomerNo": 10, "Vorname": "Ida", "Nachname": "Berg", "ida@berg.de": True, "2024": 1},
]
MAPPING = (
    'id_column = "CustomerNo"\ndefault_region = "DE"\n[fields]\nfirst_name = "Vorname"\n'
    'last_name = "Nachname"\nemail = "contact.mail"\nphone = ["contact.tel"]\n'
)


def _import(tmp_path: Path, rows: list[dict]) -> tuple[Path, object]:
    f = tmp_path / "erp.json"
    f.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    m = tmp_path / "erp.toml"
    m.write_text(MAPPING, "utf-8")
    db = tmp_path / "v.db"
    store = Store(db, create=True)
    try:
        report = run_import(store, f, ImportOptions("erp", mapping=load_mapping(m), workers=0))
        store.conn.execute(
            "INSERT OR IGNORE INTO agents(name, display_name, role, created_at) "
            "VALUES ('root', 'Root', 'admin', 0)"
        )
    finally:
        store.close()
    return db, report


def _sources(b: SQLiteBackend) -> dict[str, dict]:
    ids = [r[0] for r in b.store.conn.execute("SELECT id FROM customers ORDER BY id")]
    return {s.source_id: s.fields for c in ids for s in b.get_customer(c).sources}


def test_records_read_as_received_and_keys_are_kept_once(tmp_path: Path) -> None:
    db, report = _import(
        tmp_path, ROWS + [{**r, "CustomerNo": r["CustomerNo"] + 100} for r in ROWS]
    )
    assert report.created == 8
    with SQLiteBackend(db, agent="root") as b:
        seen = _sources(b)
        assert seen["7"] == ROWS[0] and list(seen["7"]) == list(ROWS[0])  # key order too
        assert seen["107"]["contact"] == ROWS[0]["contact"]
        assert seen["9"] == ROWS[2] and seen["10"] == ROWS[3]
        db_ = b.store.conn
        shapes = [json.loads(k) for (k,) in db_.execute("SELECT keys FROM record_shapes")]
        assert len(shapes) == 3  # one per distinct key list, whatever the number of records
        stored = dict(db_.execute("SELECT source_id, fields FROM source_records"))
        assert "Vorname" not in stored["7"] and json.loads(stored["7"])[1] == "Jürgen"
        assert json.loads(stored["10"]) == ROWS[3]  # an e-mail as a key: not in a shape
        # the export of a person holds the record as received
        cid = b.store.conn.execute(
            "SELECT customer_id FROM source_records WHERE source_id = '7'"
        ).fetchone()[0]
        exported = b.export_customer(cid).to_json()
        assert ROWS[0] in [s["fields"] for s in exported["data"]["source_records"]]


def test_a_file_of_text_keeps_its_values_as_text_without_the_id(tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"
    f.write_text(
        "id,first_name,last_name,email,note\n"
        'C1,Mario,"Rossi, jr.",m.rossi@libero.it,"say ""hi"" \\ ok"\n'
        "C2,Anna,Bianchi,,\n"
        "C3,Zoë,Ferrari,zoe@libero.it,C3\n",
        "utf-8",
    )
    db = tmp_path / "v.db"
    store = Store(db, create=True)
    run_import(store, f, ImportOptions("crm", workers=0))
    store.close()
    with SQLiteBackend(db) as b:
        seen = _sources(b)
        assert seen["C1"] == {
            "id": "C1",
            "first_name": "Mario",
            "last_name": "Rossi, jr.",
            "email": "m.rossi@libero.it",
            "note": 'say "hi" \\ ok',
        }
        assert seen["C2"]["email"] == "" and seen["C3"]["note"] == "C3"
        stored = dict(b.store.conn.execute("SELECT source_id, fields FROM source_records"))
        assert stored["C1"].startswith("\x1e") and "C1" not in stored["C1"]  # id: source_id
        assert stored["C2"] == "\x1eAnna\x1fBianchi\x1f\x1f"
        # the customer's search, view and provenance read as ever
        assert [h.id for h in b.search_customers("rossi")] == [
            b.store.conn.execute(
                "SELECT customer_id FROM source_records WHERE source_id = 'C1'"
            ).fetchone()[0]
        ]


def test_a_reimport_tells_changed_records_from_unchanged_ones(tmp_path: Path) -> None:
    db, _ = _import(tmp_path, ROWS)
    changed = [dict(r) for r in ROWS]
    changed[1]["contact"] = {"mail": "eva.weiss@gmx.de"}
    f = tmp_path / "erp.json"
    f.write_text(json.dumps(changed, ensure_ascii=False), "utf-8")
    store = Store(db)
    opts = ImportOptions("erp", mapping=load_mapping(tmp_path / "erp.toml"), workers=0)
    again = run_import(store, f, opts)
    store.close()
    assert (again.unchanged, again.updated, again.created) == (3, 1, 0)
    with SQLiteBackend(db) as b:
        assert _sources(b)["8"] == changed[1]
        (what,) = b.store.conn.execute("SELECT changed FROM record_changes").fetchone()
        assert json.loads(what) == {
            "contact": [{"mail": "eva@gmx.de"}, {"mail": "eva.weiss@gmx.de"}]
        }


def test_an_erasure_leaves_no_record_and_no_shape_only_the_person_had(tmp_path: Path) -> None:
    rows = ROWS[:2] + [{"CustomerNo": 11, "Vorname": "Pia", "Nachname": "Sommer", "Pia": 1}]
    db, _ = _import(tmp_path, rows)
    with SQLiteBackend(db, agent="root") as b:
        conn = b.store.conn
        own = conn.execute(
            "SELECT customer_id, shape FROM source_records WHERE source_id = '11'"
        ).fetchone()
        shared = conn.execute("SELECT shape FROM source_records WHERE source_id = '8'").fetchone()
        assert own[1] is not None and own[1] != shared[0]
        b.erase_customer(own[0])
        assert (
            conn.execute("SELECT 1 FROM source_records WHERE source_id = '11'").fetchone() is None
        )
        kept = [k for (k,) in conn.execute("SELECT keys FROM record_shapes")]
        assert not any("Pia" in k for k in kept)  # the shape only the person's record had
        assert len(kept) == 2  # the others' shapes stay
        assert _sources(b)["8"] == ROWS[1]


def test_provenance_of_schema_15_reads_the_same_and_packs_smaller() -> None:
    record = {"source": "crm", "source_id": "C1", "record_id": 1, "at": 100}
    full = {
        "first_name": {**record, "losers": []},
        "last_name": {**record, "losers": ["Rossi"]},
        "emails": {**record, "losers": [], "values": {"a@b.it": "crm"}},
        "tier": {"source": "agent:giulia", "at": 300, "losers": ["gold"]},
        "consent_email": {**record, "losers": []},
    }
    v15 = json.dumps(
        {
            "~": [["crm", "C1", 1, 100]],
            "first_name": [0, []],
            "last_name": [0, ["Rossi"]],
            "emails": [0, [], {"a@b.it": "crm"}],
            "tier": full["tier"],
            "consent_email": [0, []],
        }
    )
    assert provenance.loads(v15) == full
    text = provenance.dumps(full)
    assert provenance.loads(text) == full and len(text) < len(v15) * 0.8
    assert provenance.dumps(json.loads(v15)) == text  # a stored v15 text is packed again
    assert '"~f":0' in text and '"consent_email":0' in text


def test_every_record_reads_back_exactly_whatever_its_values() -> None:
    records = [
        ({}, "C1"),
        ({"id": "C1"}, "C1"),
        ({"id": "C1", "alt": "C1", "n": ""}, "C1"),  # the id twice, one empty value
        ({"only": ""}, "C9"),
        ({"id": 7, "x": None, "f": 1.5e-7, "b": True, "l": [1, {"a": "b"}]}, "7"),
        ({"a": "line\nbreak", "b": "tab\there", "c": "unit\x1fsep", "d": "rec\x1esep"}, "X"),
        ({"Città": "Zoë", "deep": {"e": {}, "f": {"g": "C5"}}, "q": '"\\'}, "C5"),
    ]
    as_text = []
    for fields, sid in records:
        text = dumps(fields)
        shape, values = record_fields.pack(text, sid) or ("", "")
        assert record_fields.unpack(values, shape, sid) == text, fields
        assert record_fields.loads(values, shape, sid) == fields
        as_text.append(values.startswith("\x1e"))
    # as text where every value is a string without a separator, else a JSON list
    assert as_text == [False, False, True, True, False, False, True]
    assert record_fields.pack("[1, 2]", "x") is None and record_fields.pack("nope", "x") is None
    assert record_fields.unpack('{"a":1}', None, "x") == '{"a":1}'  # no shape: as stored
    kept = record_shapes.packed([(dumps({"a@b.it": "x"}), "1"), (dumps({"Straße": "x"}), "1")])
    assert kept[0][1] is None and kept[1][1] is not None  # an e-mail is not a field name
