"""The store keeps identity rows compactly (migration 0015): blocking keys as codes, raw forms
of identifiers only where they differ, provenance packed. A store written before reads the
same after the migration, and what is written now reads back in full.

`data/store_v14.json` is a store of schema 14 made by the code before migration 0015 (40
generated records imported with `bench/identity/run.py --records 40 --locales it`): its
identity tables' rows, and what the backend read from it then (customers, provenance,
explanations, record links, suggestions).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from backends import link_reasons, provenance
from backends.identity.features import Features, extract
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.identity import store as st
from backends.sqlite.identity.encoding import key_code
from backends.sqlite.store import MIGRATIONS, migration_sql, statements

FIXTURE = Path(__file__).parent / "data" / "store_v14.json"


def _store_v14(path: Path) -> dict:
    """A schema-14 store holding the fixture's rows; returns the fixture."""
    data = json.loads(FIXTURE.read_text("utf-8"))
    db = sqlite3.connect(path, isolation_level=None)
    for name in MIGRATIONS[: data["schema"]]:
        db.execute("BEGIN")
        for statement in statements(migration_sql(name)):
            db.execute(statement)
        db.execute("COMMIT")
    db.execute(f"PRAGMA user_version = {data['schema']}")
    for table, content in data["tables"].items():
        cols = content["columns"]
        db.executemany(
            f"INSERT OR REPLACE INTO {table}({', '.join(cols)}) VALUES "
            f"({', '.join('?' * len(cols))})",
            [tuple(r) for r in content["rows"]],
        )
    db.close()
    return data


def _reads(b: SQLiteBackend, data: dict) -> list:
    out: list = []
    for read in data["reads"]:
        kind = read[0]
        if kind == "customer":
            out.append([kind, read[1], b.get_customer(read[1]).to_json()])
        elif kind == "provenance":
            out.append([kind, read[1], [p.to_json() for p in b.provenance(read[1])]])
        elif kind == "explain":
            out.append([kind, read[1], b.explain_customer(read[1]).to_json()])
        elif kind == "links":
            out.append([kind, [x.to_json() for x in b.record_links(0, 1000)]])
        else:
            out.append([kind, [s.to_json() for s in b.identity_suggestions(limit=500)]])
    return json.loads(json.dumps(out, default=str))


def test_a_store_of_schema_14_migrates_and_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    data = _store_v14(path)
    with SQLiteBackend(path) as b:
        db = b.store.conn
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert _reads(b, data) == data["reads"]
        # the rows are the compact ones now
        kinds = dict(db.execute("SELECT typeof(key), count(*) FROM match_keys GROUP BY 1"))
        assert kinds["integer"] > 0 and kinds["text"] > 0  # name keys stay text
        assert sum(kinds.values()) == len(data["tables"]["match_keys"]["rows"])
        raws = [r for (r,) in db.execute("SELECT raw FROM identities")]
        assert raws.count("") > len(raws) / 2
        for (text,) in db.execute("SELECT provenance FROM customers"):
            assert text.startswith('{"~":') and '"~f":' in text  # packed as schema 16 packs
        # records as values against a few shapes (schema 16); read above as received
        assert db.execute("SELECT count(*) FROM record_shapes").fetchone()[0] <= 12
        for (text,) in db.execute("SELECT fields FROM source_records WHERE shape IS NOT NULL"):
            assert text.startswith("\x1e") and '"' not in text  # the values as text
        old = {r[0]: r[1] for r in data["tables"]["record_features"]["rows"]}
        new = dict(db.execute("SELECT record_id, features FROM record_features"))
        assert sum(map(len, new.values())) < sum(map(len, old.values())) * 0.8
        for rid, text in new.items():
            assert len(text) < len(old[rid])
            assert Features.from_json(json.loads(text)) == Features.from_json(json.loads(old[rid]))
        # every record is found again through its own blocking keys
        feats = {rid: f for rid, (_c, f) in st.load_features(db, range(1, 1000)).items()}
        for rid, f in feats.items():
            small = [("key", k) for k in f.block_keys() if k.startswith(("nd:", "np:", "fd:"))]
            holders, _counts = st.key_holders(db, small, 100, 100, 100)
            assert all(rid in holders[k] for k in small)


def test_blocking_keys_are_codes_except_names() -> None:
    f = Features(fk="mario", lk="rossi", dob="1980-02-03", postal="20121", sk="via roma 1")
    codes = [key_code(k) for k in f.block_keys()]
    assert codes[0] == "n:rossi|mario"
    assert all(isinstance(c, int) and -(2**63) <= c < 2**63 for c in codes[1:])
    assert len(set(codes)) == len(codes)
    assert key_code("a:20121|via roma 1") == key_code("a:20121|via roma 1")


def test_provenance_packs_and_reads_back_in_full() -> None:
    record = {"source": "crm", "source_id": "C1", "record_id": 1, "at": 100}
    other = {"source": "web", "source_id": "W9", "record_id": 9, "at": 200}
    full = {
        "first_name": {**record, "losers": ["Maria"]},
        "last_name": {**record, "losers": []},
        "emails": {**other, "losers": [], "values": {"a@b.it": "crm", "c@d.it": "web"}},
        "tier": {"source": "agent:giulia", "at": 300, "losers": ["gold"]},
        "consent_email": {**other, "losers": [False]},
    }
    text = provenance.dumps(full)
    assert len(text) < len(json.dumps(full, separators=(",", ":"))) * 0.8
    assert provenance.loads(text) == full
    assert provenance.loads(json.dumps(full)) == full  # the full form reads as it is
    assert json.loads(provenance.expand(text)) == full
    assert provenance.loads(None) == {} and provenance.loads("") == {}
    assert provenance.dumps({}) == "{}"
    # a writer that adds an agent's correction to a stored (packed) text keeps it readable
    stored = provenance.loads(text)
    stored["last_name"] = {"source": "agent:luca", "at": 400, "losers": ["Rossi"]}
    assert provenance.loads(provenance.dumps(stored))["last_name"]["source"] == "agent:luca"


def _keys_of(db: sqlite3.Connection, rid: int) -> set:
    return {k for (k,) in db.execute("SELECT key FROM match_keys WHERE record_id = ?", (rid,))}


def test_a_changed_record_keeps_only_its_new_keys(tmp_path: Path) -> None:
    from tests.unit.test_import_cli import vista

    url = f"sqlite:///{tmp_path / 'v.db'}"
    assert vista("db", "init", "--db", str(tmp_path / "v.db")).returncode == 0
    crm = tmp_path / "crm.csv"
    head = "id,first_name,last_name,birth_date,postal_code,street,email\n"
    crm.write_text(
        head + "C1,Mario,Rossi,1980-02-03,20121,Via Roma 1,m@libero.it\n"
        "C2,Anna,Verdi,1975-05-06,00184,Via Po 2,a@libero.it\n",
        "utf-8",
    )
    assert vista("--backend", url, "import", str(crm), "--source", "crm").returncode == 0
    db = sqlite3.connect(tmp_path / "v.db")
    before = _keys_of(db, 1)
    assert key_code("nd:ross|m|1980-02-03") in before and "n:rossi|mario" in before
    other = _keys_of(db, 2)
    crm.write_text(
        head + "C1,Mario,Bianchi,1981-02-03,20121,Via Roma 1,m@libero.it\n"
        "C2,Anna,Verdi,1975-05-06,00184,Via Po 2,a@libero.it\n",
        "utf-8",
    )
    done = vista("--backend", url, "import", str(crm), "--source", "crm")
    assert done.returncode == 0, done.stderr
    (text,) = db.execute("SELECT features FROM record_features WHERE record_id = 1").fetchone()
    expected = {key_code(k) for k in Features.from_json(json.loads(text)).block_keys()}
    assert _keys_of(db, 1) == expected
    assert key_code("nd:bian|m|1981-02-03") in expected
    assert key_code("nd:ross|m|1980-02-03") not in _keys_of(db, 1)  # the old ones are gone
    assert _keys_of(db, 2) == other  # the unchanged record's are not touched


def test_features_read_back_the_same_in_their_compact_form() -> None:
    plain = extract(
        {"first_name": "Mario", "last_name": "Rossi", "email": "Mario.Rossi@libero.it",
         "street": "Via Roma 1", "city": "Milano", "phone": "3471234567"},
        "IT",
    )  # fmt: skip
    typed = extract(
        {"first_name": "Niccolò", "last_name": "D'Amico", "email": "mario.rossi@gmail.com",
         "street": "V. Roma 1", "city": "Reggio nell'Emilia", "consent_email": "yes"},
        "IT",
    )  # fmt: skip
    for f in (plain, typed, Features(), Features(first="A", fk="a", source="crm")):
        f.problems = []
        data = json.loads(json.dumps(f.to_json()))
        assert Features.from_json(data) == f
    compact = plain.to_json()
    assert compact[2:4] == [0, 0] and compact[6] == 0  # keys and e-mails as typed
    assert typed.fk != typed.first.lower() and typed.to_json()[2] == typed.fk
    assert typed.shown != typed.emails and typed.to_json()[6] == typed.shown
    assert Features().to_json() == []


def test_link_reasons_pack_to_phrase_numbers_and_read_back() -> None:
    model = (
        "similar first name (+3.9), same last name (+7.8), same address (+12.9), "
        "same postcode (+0.0), same city (+0.0)"
    )
    assert link_reasons.pack(model) == "~1+3.9,6+7.8,20+12.9,23+0.0,25+0.0"
    for reason in (
        model,
        (
            "same e-mail user, other domain (+3.0), guard: household (-4.0), "
            "guard: namesakes at this address (at best one of two)"
        ),
        "same first name (+5.3), same last name (+4.7), guard: namesakes at this address (-3.9)",
        "same address (typed apart) (+4.1), same address (+2.0)",
        "merged by giulia",  # a person's words stay as written
        "~7+1.0",  # even when they look packed
        "~=x",
        "",
        "same e-mail (+22.7), a phrase it does not know (+1.0)",
        "same e-mail (+1.25)",
        "same e-mail (+1.2), ",
    ):
        assert link_reasons.unpack(link_reasons.pack(reason)) == reason
    assert link_reasons.pack("merged by giulia") == "merged by giulia"
    assert link_reasons.unpack(None) == ""
