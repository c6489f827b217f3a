"""Comparison levels and blocking for data with names, birth dates and addresses only (as in
the public FEBRL sets): one name swapped into the other field, birth-date digits transposed,
households learnt from the data, user parts of e-mails made of the names, records of one
name compared, and a name (and town) alone never worth a person's time. Each rule on both
sides, in more than one country."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.identity.config import MatchConfig
from backends.identity.features import extract
from backends.identity.keys import probe_keys
from backends.identity.matching import Decision
from backends.identity.model import (
    COMPARISONS,
    FIRST_CROSSED,
    FIRST_DIFFERENT,
    LAST_DIFFERENT,
    MISSING,
    compare,
    default_model,
    gamma,
)
from backends.identity.resolve import verdict
from backends.identity.training import HOUSEHOLD_WEIGHT, household_evidence
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store

MODEL = default_model()
CFG = MatchConfig()
FIRST, LAST, DOB, EMAIL = (
    COMPARISONS.index(c) for c in ("first_name", "last_name", "birth_date", "email")
)


def rec(region: str = "IT", **fields: str):
    return extract(fields, region)


@pytest.mark.parametrize(
    ("region", "a", "crossed", "apart"),
    [
        # the surname typed as the first name, the first name replaced; one letter off
        ("IT", ("Giulia", "Rossi"), ("Rossi", "Marta"), ("Rosina", "Marta")),
        ("AU", ("Coleman", "Jack"), ("Christian", "Colemn"), ("Christian", "Cole")),
        ("DE", ("Jürgen", "Schumann"), ("Schuman", "Alexandra"), ("Schulz", "Alexandra")),
    ],
)
def test_one_name_in_the_others_field_is_a_level_of_its_own(
    region: str, a: tuple[str, str], crossed: tuple[str, str], apart: tuple[str, str]
) -> None:
    first = rec(region, first_name=a[0], last_name=a[1], birth_date="1975-11-09")
    swapped_in = rec(region, first_name=crossed[0], last_name=crossed[1], birth_date="1975-11-09")
    other = rec(region, first_name=apart[0], last_name=apart[1], birth_date="1975-11-09")
    assert gamma(first, swapped_in)[FIRST : LAST + 1] == [FIRST_CROSSED, MISSING]
    assert "one name swapped" in compare(MODEL, first, swapped_in).reason
    # below Jaro-Winkler 0.92 the name is another one: both names differ
    assert gamma(first, other)[FIRST : LAST + 1] == [FIRST_DIFFERENT, LAST_DIFFERENT]
    assert compare(MODEL, first, swapped_in).weight > compare(MODEL, first, other).weight


@pytest.mark.parametrize(
    ("region", "date", "transposed", "apart"),
    [
        ("IT", "1967-03-22", "1976-03-22", "1976-03-12"),  # ISO
        ("GB", "22/03/1967", "22/03/1976", "12/03/1976"),  # day first
        ("DE", "22.03.1967", "22.03.1976", "21.03.1976"),
    ],
)
def test_birth_date_digits_swapped_are_a_slip_two_changes_are_another_date(
    region: str, date: str, transposed: str, apart: str
) -> None:
    a = rec(region, first_name="Anna", last_name="Berg", birth_date=date)
    b = rec(region, first_name="Anna", last_name="Berg", birth_date=transposed)
    c = rec(region, first_name="Anna", last_name="Berg", birth_date=apart)
    assert a.dob and b.dob and c.dob
    assert gamma(a, b)[DOB] == 1
    assert gamma(a, c)[DOB] == 2


def _pattern(**levels: int) -> tuple[int, ...]:
    return tuple(levels.get(c, MISSING) for c in COMPARISONS)


TWO_PEOPLE = _pattern(first_name=FIRST_DIFFERENT, last_name=0, birth_date=2, street=0)
ONE_PERSON = _pattern(first_name=0, last_name=0, birth_date=0, street=0)


def test_household_guard_is_learnt_from_how_often_one_address_holds_two_people() -> None:
    families = [TWO_PEOPLE] * 40 + [ONE_PERSON] * 60  # a CRM of households
    duplicates = [TWO_PEOPLE] * 2 + [ONE_PERSON] * 98  # a file of one person's duplicates
    assert household_evidence(families, -4.0) == HOUSEHOLD_WEIGHT
    assert household_evidence(duplicates, -4.0) == 0.0
    assert household_evidence([TWO_PEOPLE] * 5, -4.0) == -4.0  # too few: the prior guess


@pytest.mark.parametrize(
    ("region", "home"),
    [
        ("IT", {"street": "Via Roma 5", "city": "Milano", "postal_code": "20100"}),
        ("AU", {"street": "3 Tenison Woods Circuit", "city": "Ashfield", "postal_code": "6169"}),
    ],
)
def test_where_the_data_has_no_households_another_birth_date_at_one_home_is_typing(
    region: str, home: dict[str, str]
) -> None:
    a = rec(region, first_name="Emily", last_name="Berry", birth_date="1978-05-27", **home)
    b = rec(region, first_name="Berry", last_name="Emily", birth_date="1938-01-01", **home)
    families = default_model()
    typing = default_model()
    typing.guards["household"] = 0.0
    assert "guard: household" in compare(families, a, b).reason
    assert "guard: household" not in compare(typing, a, b).reason
    assert compare(typing, a, b).probability > compare(families, a, b).probability


@pytest.mark.parametrize(
    ("first", "last", "user", "own"),
    [
        ("Mario", "Rossi", "mario.rossi", "mario.rossi80"),
        ("John", "Smith", "jsmith", "jsmith.nyc"),
        ("Jürgen", "Weber", "weber.jurgen", "weber_j1971"),
    ],
)
def test_an_email_user_made_of_the_names_says_nothing_a_users_own_does(
    first: str, last: str, user: str, own: str
) -> None:
    def person(email: str):
        return rec("IT", first_name=first, last_name=last, email=email)

    assert gamma(person(f"{user}@alice.it"), person(f"{user}@libero.it"))[EMAIL] == MISSING
    assert gamma(person(f"{own}@alice.it"), person(f"{own}@libero.it"))[EMAIL] == 2


@pytest.mark.parametrize(
    ("region", "town", "extra"),
    [
        ("IT", {"city": "Milano"}, {"postal_code": "20121"}),
        ("US", {"city": "Springfield"}, {"birth_date": "1980-03-07"}),
    ],
)
def test_a_name_and_town_alone_are_not_worth_a_persons_time(
    region: str, town: dict[str, str], extra: dict[str, str]
) -> None:
    a = rec(region, first_name="Zaccaria", last_name="Quintavalle", **town, **extra)
    b = rec(region, first_name="Zaccaria", last_name="Quintavalle", **town)
    c = rec(region, first_name="Zaccaria", last_name="Quintavalle", **town, **extra)
    alone = verdict(CFG, MODEL, a, b, False, False, set(), set())
    more = verdict(CFG, MODEL, a, c, False, False, set(), set())
    assert compare(MODEL, a, b).probability >= CFG.suggest_probability  # rare names weigh
    assert alone.decision is Decision.NONE
    assert more.decision is not Decision.NONE


def test_a_record_probes_its_names_swapped_but_not_an_initial_nor_with_an_email() -> None:
    a = rec("IT", first_name="Madeleine", last_name="Paterson")
    swapped = rec("IT", first_name="Paterson", last_name="Madeleine")
    initial = rec("IT", first_name="M", last_name="Paterson")
    mailed = rec("IT", first_name="Paterson", last_name="Madeleine", email="mp.1980@libero.it")
    assert set(probe_keys(a)) & set(probe_keys(swapped))
    assert not any(k[1] == "n:m|paterson" for k in probe_keys(initial))
    assert ("key", "n:paterson|madeleine") not in probe_keys(mailed)


def _import(path: Path, source: str, rows: list[dict[str, str]], store: Store) -> None:
    f = path / f"{source}.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    run_import(store, f, ImportOptions(source, batch_size=1))


@pytest.mark.parametrize(
    ("one", "two", "stranger"),
    [
        (
            {"street": "1 Narranystreet", "postal_code": "2036", "city": "Westl Ake"},
            {"street": "1 Narran Street", "postal_code": "2306", "city": "Westlake"},
            {"first_name": "Sam", "last_name": "Benthall"},
        ),
        (
            {"street": "Via Garibaldi 12", "postal_code": "20121", "city": "Milano"},
            {"street": "Via Garibaldi 12", "postal_code": "20211", "city": "Milano"},
            {"first_name": "Samuele", "last_name": "Bentivoglio"},
        ),
    ],
)
def test_records_of_one_name_are_compared_when_nothing_else_joins_them(
    tmp_path: Path, one: dict[str, str], two: dict[str, str], stranger: dict[str, str]
) -> None:
    """Same name, the street typed apart, the postcode's digits swapped: no other blocking
    key joins the two; a third record of another name at the second address stays apart."""
    store = Store(tmp_path / "v.db", create=True)
    name = {"first_name": "Sam", "last_name": "Bentham"}
    _import(tmp_path, "crm", [{"id": "A", **name, **one}], store)
    _import(
        tmp_path, "webshop", [{"id": "B", **name, **two}, {"id": "C", **stranger, **two}], store
    )
    owners = dict(store.conn.execute("SELECT source_id, customer_id FROM source_records"))
    store.close()
    assert owners["A"] == owners["B"]
    assert owners["C"] != owners["B"]
    # a record with an e-mail is found by it: it is not compared by its name alone
    (tmp_path / "mailed").mkdir()
    store = Store(tmp_path / "mailed" / "v.db", create=True)
    _import(tmp_path / "mailed", "crm", [{"id": "A", **name, **one}], store)
    mailed = {"id": "D", **name, **two, "email": "sam.b.1990@libero.it"}
    _import(tmp_path / "mailed", "webshop", [mailed], store)
    owners = dict(store.conn.execute("SELECT source_id, customer_id FROM source_records"))
    store.close()
    assert owners["D"] != owners["A"]


@pytest.mark.parametrize(
    ("region", "here", "there", "typed"),
    [
        (
            "IT",
            {"street": "Corso Italia 9", "postal_code": "09195", "city": "Cagliari"},
            {"street": "Corso Italia 9", "postal_code": "90130", "city": "Palermo"},
            {"street": "Corso Italia 9", "postal_code": "09159", "city": "Caglari"},
        ),
        (
            "US",
            {"street": "12 Main Street", "postal_code": "62701", "city": "Springfield"},
            {"street": "12 Main Street", "postal_code": "05101", "city": "Bellows Falls"},
            {"street": "12 Main Street", "postal_code": "62710", "city": "Springfeld"},
        ),
    ],
)
def test_a_street_of_one_name_in_another_town_is_another_address(
    region: str, here: dict[str, str], there: dict[str, str], typed: dict[str, str]
) -> None:
    name = {"first_name": "Riccardo", "last_name": "Marchetti"}
    a, b, c = (rec(region, **name, **home) for home in (here, there, typed))
    assert "different street" in compare(MODEL, a, b).reason
    # the postcode's digits swapped and the town typed with a slip: the same address
    assert "same address" in compare(MODEL, a, c).reason
