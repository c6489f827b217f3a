"""Survivorship per field, and provenance for every profile value."""

from __future__ import annotations

import json
from pathlib import Path

from backends.identity.config import MatchConfig, apply_config
from backends.identity.features import extract
from backends.identity.survivorship import Member, golden
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store


def member(rid: int, source: str, at: int, **fields: str) -> Member:
    return Member(rid, source, f"{source}-{rid}", at, extract(fields, "IT"))


def test_policies_most_frequent_source_priority_most_recent_and_all() -> None:
    members = [
        member(
            1,
            "crm",
            100,
            first_name="Mario",
            last_name="Rossi",
            email="m@libero.it",
            birth_date="1980-03-07",
            street="Via Roma 5",
            city="Milano",
            postal_code="20100",
        ),
        member(
            2,
            "webshop",
            300,
            first_name="Maroi",
            last_name="ROSSI",
            email="mario@gmail.com",
            birth_date="1981-03-07",
            street="Via Po 1",
            city="Torino",
            postal_code="10100",
        ),
        member(3, "helpdesk", 200, first_name="mario", last_name="rossi", phone="3471234567"),
    ]
    values, prov = golden(members, MatchConfig())
    assert values["first_name"] == "Mario"  # most frequent (Mario twice, loosely)
    assert prov["first_name"]["losers"] == ["Maroi"]
    assert values["birth_date"] == "1980-03-07"  # source priority: crm first
    assert prov["birth_date"]["source"] == "crm" and prov["birth_date"]["losers"] == ["1981-03-07"]
    assert values["addresses"][0]["city"] == "Torino"  # most recent: the customer moved
    assert [a["city"] for a in values["addresses"]] == ["Torino", "Milano"]
    assert set(values["emails"]) == {"m@libero.it", "mario@gmail.com"}  # keep all
    assert values["emails"][0] == "mario@gmail.com"
    assert values["phones"] == ["+393471234567"]
    assert prov["phones"]["source"] == "helpdesk"


def test_policies_are_configurable() -> None:
    cfg = apply_config(
        MatchConfig(),
        {"source_priority": ["webshop", "crm"], "policies": {"first_name": "source_priority"}},
    )
    members = [
        member(1, "crm", 100, first_name="Mario", last_name="Rossi"),
        member(2, "webshop", 50, first_name="Marietto", last_name="Rossi"),
    ]
    values, prov = golden(members, cfg)
    assert values["first_name"] == "Marietto" and prov["first_name"]["source"] == "webshop"


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "v.db"
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "id,first_name,last_name,email,phone,birth_date\n"
        "C1,Mario,Rossi,mario@libero.it,347 1234567,1980-03-07\n",
        "utf-8",
    )
    shop = tmp_path / "shop.jsonl"
    shop.write_text(
        json.dumps(
            {
                "id": "W1",
                "first_name": "MARIO",
                "last_name": "Rossi",
                "email": "mario@libero.it",
                "phone": "+393471234567",
                "birth_date": "07/03/1980",
            }
        )
        + "\n",
        "utf-8",
    )
    store = Store(db, create=True)
    run_import(store, crm, ImportOptions("crm"), now=1000)
    run_import(store, shop, ImportOptions("webshop"), now=2000)
    store.close()
    return db


def test_provenance_through_the_backend(tmp_path: Path) -> None:
    db = _store(tmp_path)
    with SQLiteBackend(db) as backend:
        customer = backend.get_customer(1)
        assert [s.source for s in customer.sources] == ["crm", "webshop"]
        prov = {p.field: p for p in backend.provenance(1)}
        assert prov["first_name"].value == "Mario" and prov["first_name"].source in (
            "crm",
            "webshop",
        )
        assert prov["birth_date"].source == "crm" and prov["birth_date"].source_id == "C1"
        assert prov["emails"].value == ["mario@libero.it"]
        assert prov["phones"].sources == {"+393471234567": "crm"}


def test_agent_correction_survives_reimport(tmp_path: Path) -> None:
    db = _store(tmp_path)
    with SQLiteBackend(db, agent="giulia") as backend:
        backend.edit_profile(1, "first_name", "Marione")
    store = Store(db)
    shop = tmp_path / "shop.jsonl"
    shop.write_text(
        json.dumps(
            {
                "id": "W1",
                "first_name": "Mario",
                "last_name": "Rossi",
                "email": "mario@libero.it",
                "phone": "3479999999",
            }
        )
        + "\n",
        "utf-8",
    )
    report = run_import(store, shop, ImportOptions("webshop"), now=3000)
    store.close()
    assert report.updated == 1
    with SQLiteBackend(db) as backend:
        c = backend.get_customer(1)
        assert c.first_name == "Marione"
        assert "+393479999999" in c.phones
