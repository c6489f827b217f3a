"""Matching: deterministic rules on identifiers, fuzzy evidence, and the guards against false merges."""

from __future__ import annotations

from backends.identity.config import MatchConfig
from backends.identity.features import extract
from backends.identity.matching import Decision, score

CFG = MatchConfig()


def rec(**fields: str):
    return extract(fields, "IT")


MARIO = {
    "first_name": "Mario",
    "last_name": "Rossi",
    "email": "mario.rossi@libero.it",
    "mobile": "347 1234567",
    "birth_date": "1980-03-07",
    "street": "Via Roma 5",
    "city": "Milano",
    "postal_code": "20100",
}


def test_same_email_and_name_links_with_reason() -> None:
    v = score(
        rec(**MARIO), rec(first_name="MARIO", last_name="rossi", email="Mario.Rossi@libero.it"), CFG
    )
    assert v.decision is Decision.LINK
    assert "same e-mail" in v.reason and "same first name" in v.reason


def test_changed_email_same_mobile_and_typo_links() -> None:
    other = rec(
        first_name="Maroi", last_name="Rossi", email="mario77@gmail.com", phone="+39 347 123 4567"
    )
    assert score(rec(**MARIO), other, CFG).decision is Decision.LINK


def test_household_shared_address_and_landline_does_not_link() -> None:
    anna = rec(
        first_name="Anna",
        last_name="Rossi",
        phone="02 1234567",
        street="Via Roma 5",
        city="Milano",
        postal_code="20100",
    )
    luca = rec(
        first_name="Luca",
        last_name="Rossi",
        phone="021234567",
        street="V. Roma 5",
        city="Milano",
        postal_code="20100",
    )
    assert score(anna, luca, CFG).decision is Decision.NONE


def test_family_email_with_different_first_names_does_not_link() -> None:
    a = rec(first_name="Anna", last_name="Bianchi", email="famiglia.bianchi@libero.it")
    b = rec(first_name="Paolo", last_name="Bianchi", email="famiglia.bianchi@libero.it")
    v = score(a, b, CFG)
    assert v.decision is Decision.NONE
    assert "different first name" in v.reason


def test_shared_landline_and_same_name_is_only_a_suggestion() -> None:
    a = rec(first_name="Anna", last_name="Rossi", phone="02 1234567")
    b = rec(first_name="Anna", last_name="Rossi", phone="+39 02 1234567")
    v = score(a, b, CFG)
    assert v.decision is Decision.SUGGEST
    assert "same landline" in v.reason


def test_common_name_with_birth_date_needs_more() -> None:
    a = rec(first_name="Giulia", last_name="Russo", birth_date="1990-01-01", city="Roma")
    b = rec(first_name="Giulia", last_name="Russo", birth_date="1990-01-01", city="Bari")
    assert score(a, b, CFG, common_name=False).decision is Decision.LINK
    v = score(a, b, CFG, common_name=True)
    assert v.decision is not Decision.LINK
    assert "common name" in v.reason


def test_shared_identifier_that_disagrees_with_everything_else_does_not_link() -> None:
    other = rec(
        first_name="Giorgio", last_name="Verdi", mobile="3471234567", birth_date="1955-11-02"
    )
    v = score(rec(**MARIO), other, CFG)
    assert v.decision is Decision.NONE
    assert "guard" in v.reason or "different" in v.reason


def test_birth_date_conflict_blocks_an_automatic_link() -> None:
    other = dict(MARIO, birth_date="1981-06-20")
    v = score(rec(**MARIO), rec(**other), CFG)
    assert v.decision is Decision.SUGGEST
    assert "birth dates disagree" in v.reason


def test_name_alone_is_not_even_a_suggestion() -> None:
    a = rec(first_name="Ornella", last_name="Zucca", email="o.z@libero.it")
    b = rec(first_name="Ornella", last_name="Zucca", email="ornella.z@tiscali.it")
    assert score(a, b, CFG).decision is Decision.NONE


def test_thresholds_are_configuration() -> None:
    strict = MatchConfig(auto_threshold=20)
    assert score(rec(**MARIO), rec(**MARIO), strict).decision is Decision.SUGGEST


def test_same_name_at_same_address_links_across_sources_only() -> None:
    a = rec(
        first_name="Ornella",
        last_name="Zucca",
        street="Via Roma 5",
        city="Milano",
        postal_code="20100",
        birth_date="1970-01-02",
    )
    b = rec(
        first_name="ORNELLA",
        last_name="Zuca",
        street="V. Roma 5",
        city="Milano",
        postal_code="20100",
    )
    a.source, b.source = "crm", "webshop"
    v = score(a, b, CFG)
    assert v.decision is Decision.LINK and "same address" in v.reason
    b.source = "crm"  # a source's own duplicates need a shared identifier
    assert score(a, b, CFG).decision is Decision.SUGGEST


def test_different_mobiles_count_against_a_namesake_at_home() -> None:
    father = rec(
        first_name="Marco",
        last_name="Zanella",
        mobile="388 4972642",
        landline="02 5154576",
        street="Via Manzoni 60",
        city="Milano",
        postal_code="20136",
    )
    son = rec(
        first_name="Marco",
        last_name="Zanella",
        mobile="335 2936023",
        landline="02 5154576",
        street="Via Manzoni 60",
        city="Milano",
        postal_code="20136",
    )
    father.source, son.source = "crm", "webshop"
    v = score(father, son, CFG)
    assert v.decision is not Decision.LINK
    assert "different mobiles" in v.reason


def test_a_record_cannot_chain_two_people_together(tmp_path) -> None:
    import json

    from backends.sqlite.identity.importer import ImportOptions, run_import
    from backends.sqlite.store import Store

    rows = [
        {
            "id": "A",
            "first_name": "Mario",
            "last_name": "Rossi",
            "birth_date": "1980-01-01",
            "email": "mario.rossi@libero.it",
        },
        {
            "id": "B",
            "first_name": "Mario",
            "last_name": "Rossi",
            "birth_date": "1990-05-05",
            "mobile": "347 1234567",
        },
        {
            "id": "C",
            "first_name": "Mario",
            "last_name": "Rossi",
            "email": "mario.rossi@libero.it",
            "mobile": "347 1234567",
        },
    ]
    f = tmp_path / "crm.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    store = Store(tmp_path / "v.db", create=True)
    run_import(store, f, ImportOptions("crm", batch_size=1))
    owners = dict(
        store.conn.execute("SELECT source_id, customer_id FROM source_records").fetchall()
    )
    reasons = [r[0] for r in store.conn.execute("SELECT reason FROM identity_suggestions")]
    store.close()
    assert owners["A"] != owners["B"]
    assert owners["C"] in (owners["A"], owners["B"])
    assert any("do not hold together" in r for r in reasons)


def test_house_numbers_must_match_exactly() -> None:
    a = rec(
        first_name="Luca",
        last_name="De",
        street="Via Pascoli 132",
        city="Torino",
        postal_code="10163",
    )
    b = rec(
        first_name="Luca",
        last_name="De",
        street="Via Pascoli 23",
        city="Torino",
        postal_code="10163",
    )
    c = rec(
        first_name="Luca",
        last_name="De",
        street="V. Pasoli 132",
        city="Torino",
        postal_code="10163",
    )
    a.source, b.source, c.source = "crm", "webshop", "webshop"
    assert "same address" not in score(a, b, CFG).reason
    assert score(a, c, CFG).decision is Decision.LINK


def test_namesakes_at_one_address_need_more_than_name_and_address(tmp_path) -> None:
    import json

    from backends.sqlite.identity.importer import ImportOptions, run_import
    from backends.sqlite.store import Store

    home = {"street": "Via Manzoni 60", "city": "Milano", "postal_code": "20136"}
    crm = [
        dict(home, id="F", first_name="Marco", last_name="Zanella", birth_date="1950-01-01"),
        dict(home, id="S", first_name="Marco", last_name="Zanella", birth_date="1985-02-02"),
        dict(home, id="G", first_name="Giulia", last_name="Verdi", birth_date="1960-03-03"),
    ]
    shop = [
        dict(home, id="W1", first_name="Marco", last_name="Zanella"),
        dict(home, id="W2", first_name="Giulia", last_name="Verdi"),
    ]
    store = Store(tmp_path / "v.db", create=True)
    for name, rows in (("crm", crm), ("webshop", shop)):
        f = tmp_path / f"{name}.jsonl"
        f.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
        run_import(store, f, ImportOptions(name))
    owners = dict(
        store.conn.execute("SELECT source_id, customer_id FROM source_records").fetchall()
    )
    store.close()
    assert owners["W1"] not in (owners["F"], owners["S"])  # which Marco? a person decides
    assert owners["W2"] == owners["G"]  # one Giulia at that address: name and address link


def test_a_near_equal_last_name_is_called_similar_not_same_but_earns_the_same_points() -> None:
    base = {"first_name": "Luca", "mobile": "347 7654321", "city": "Torino"}
    equal = score(rec(**base, last_name="Barbieri"), rec(**base, last_name="Barbieri"), CFG)
    alike = score(rec(**base, last_name="Barbieri"), rec(**base, last_name="Barbeiri"), CFG)
    assert "same last name" in equal.reasons
    assert "similar last name" in alike.reasons and "same last name" not in alike.reasons
    assert alike.points == equal.points
