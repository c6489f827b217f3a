"""Matching evidence at its edges: street spellings and house numbers, and the penalty for
two records whose mobiles differ (only when both have a mobile)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backends.identity.config import MatchConfig
from backends.identity.features import extract
from backends.identity.matching import Decision, score

CFG = MatchConfig()


def rec(**fields: str):
    return extract(fields, "IT")


def _address(street: str, **extra: str):
    return rec(first_name="Anna", last_name="Neri", street=street, city="Milano", **extra)


def test_a_typo_in_a_long_street_name_is_the_same_address() -> None:
    v = score(_address("Via Giuseppe Verdi 5"), _address("Via Giuseppi Verdi 5"), CFG)
    assert "same address" in v.reasons


def test_another_house_number_is_another_address() -> None:
    v = score(_address("Via Giuseppe Verdi 5"), _address("Via Giuseppe Verdi 7"), CFG)
    assert "same address" not in v.reasons


def test_another_street_with_the_same_number_is_another_address() -> None:
    v = score(_address("Via Giuseppe Verdi 5"), _address("Via Alessandro Manzoni 5"), CFG)
    assert "same address" not in v.reasons


def test_different_mobiles_count_against_only_when_both_have_one() -> None:
    both = score(
        rec(first_name="Anna", last_name="Neri", mobile="347 1234567", phone="02 1234567"),
        rec(first_name="Anna", last_name="Neri", mobile="348 7654321"),
        CFG,
    )
    assert "different mobiles" in both.reasons
    landline_only = score(
        rec(first_name="Anna", last_name="Neri", mobile="347 1234567"),
        rec(first_name="Anna", last_name="Neri", phone="02 7654321"),
        CFG,
    )
    assert "different mobiles" not in landline_only.reasons
    assert landline_only.points > both.points


# -- every rule, pinned: decision, points and reasons ------------------------------------

A = {"first_name": "Anna", "last_name": "Neri"}
ROMA = {"street": "Via Roma 5", "city": "Milano", "postal_code": "20100"}

CASES = {
    "visitor_id": (dict(A, visitor_id="v-1"), dict(A, visitor_id="v-1"), {}),
    "loyalty_card": (dict(A, loyalty_card="L9"), dict(A, loyalty_card="L9"), {}),
    "initial_same": (
        {"first_name": "A", "last_name": "Neri", "birth_date": "1980-03-07"},
        dict(A, birth_date="1980-03-07"),
        {},
    ),
    "initial_other": (
        {"first_name": "B", "last_name": "Neri", "birth_date": "1980-03-07"},
        dict(A, birth_date="1980-03-07"),
        {},
    ),
    "names_swapped": (
        {"first_name": "Neri", "last_name": "Anna", "birth_date": "1980-03-07"},
        dict(A, birth_date="1980-03-07"),
        {},
    ),
    "dob_day_month_swapped": (
        dict(A, birth_date="1980-03-07"),
        dict(A, birth_date="1980-07-03"),
        {},
    ),
    "dob_different": (
        dict(A, email="anna@libero.it", birth_date="1980-03-07"),
        dict(A, email="anna@libero.it", birth_date="1975-01-01"),
        {},
    ),
    "postcode_only": (
        dict(A, postal_code="20100", street="Via Roma 5"),
        dict(A, postal_code="20100", street="Via Po 1"),
        {},
    ),
    "address_by_city": (
        dict(A, city="Milano", street="Via Roma 5"),
        dict(A, city="Milano", street="Via Roma 5"),
        {},
    ),
    "address_other_city": (
        dict(A, city="Milano", street="Via Roma 5"),
        dict(A, city="Torino", street="Via Roma 5"),
        {},
    ),
    "common_name": (
        dict(A, birth_date="1980-03-07"),
        dict(A, birth_date="1980-03-07"),
        {"common_name": True},
    ),
    "common_name_with_email": (
        dict(A, email="anna@libero.it"),
        dict(A, email="anna@libero.it"),
        {"common_name": True},
    ),
    "household_flag": (
        dict(A, street="Via Roma 5", city="Milano", postal_code="20100"),
        dict(A, street="Via Roma 5", city="Milano", postal_code="20100", source="x"),
        {"household": True},
    ),
    "name_and_address": (
        dict(A, street="Via Roma 5", city="Milano", postal_code="20100"),
        dict(A, street="Via Roma 5", city="Milano", postal_code="20100"),
        {},
    ),
    "household_other_first_name": (
        {
            "first_name": "Marco",
            "last_name": "Neri",
            "email": "neri@libero.it",
            "phone": "02 1234567",
            "birth_date": "1980-03-07",
        },
        dict(A, email="neri@libero.it", phone="02 1234567", birth_date="1980-03-07"),
        {},
    ),
    "household_first_names_alike": (
        {
            "first_name": "Anita",
            "last_name": "Neri",
            "email": "neri@libero.it",
            "phone": "02 1234567",
            "birth_date": "1980-03-07",
        },
        dict(A, email="neri@libero.it", phone="02 1234567", birth_date="1980-03-07"),
        {},
    ),
    "dob_disagrees_guard": (
        dict(A, email="anna@libero.it", mobile="347 1234567", birth_date="1980-03-07"),
        dict(A, email="anna@libero.it", mobile="347 1234567", birth_date="1975-01-01"),
        {},
    ),
    "no_identifier_names_differ": (
        {
            "first_name": "Anna",
            "last_name": "Neri",
            "birth_date": "1980-03-07",
            "street": "Via Roma 5",
            "city": "Milano",
            "postal_code": "20100",
        },
        {
            "first_name": "Anna",
            "last_name": "Nardi",
            "birth_date": "1980-03-07",
            "street": "Via Roma 5",
            "city": "Milano",
            "postal_code": "20100",
        },
        {},
    ),
    "common_name_guard": (
        dict(A, birth_date="1980-03-07", postal_code="20100", phone="02 1234567"),
        dict(A, birth_date="1980-03-07", postal_code="20100", phone="02 1234567"),
        {"common_name": True},
    ),
    "only_name_and_address_household": (
        dict(A, street="Via Roma 5", city="Milano", postal_code="20100", phone="02 1234567"),
        dict(A, street="Via Roma 5", city="Milano", postal_code="20100", phone="02 1234567"),
        {"household": True},
    ),
    "shared_id_nothing_else": (
        {
            "first_name": "Anna",
            "last_name": "Neri",
            "mobile": "347 1234567",
            "email": "anna.n@libero.it",
        },
        {"first_name": "Anita", "mobile": "347 1234567", "email": "anna.n@libero.it"},
        {},
    ),
    "shared_id_different_person": (
        {
            "first_name": "Anna",
            "last_name": "Neri",
            "mobile": "347 1234567",
            "email": "anna.n@libero.it",
            "loyalty_card": "L9",
        },
        {
            "first_name": "Marco",
            "last_name": "Bianchi",
            "mobile": "347 1234567",
            "email": "anna.n@libero.it",
            "loyalty_card": "L9",
        },
        {},
    ),
    "same_landline_only": (dict(A, phone="02 1234567"), dict(A, phone="02 1234567"), {}),
    "name_close": (
        {"first_name": "Anna", "last_name": "Neri", "email": "a@libero.it"},
        {"first_name": "Anna", "last_name": "Nerri", "email": "a@libero.it"},
        {},
    ),
    "name_between": (
        {"first_name": "Anna", "last_name": "Neri", "email": "a@libero.it"},
        {"first_name": "Anna", "last_name": "Nerozzi", "email": "a@libero.it"},
        {},
    ),
    "nothing": (
        {"first_name": "Anna", "last_name": "Neri"},
        {"first_name": "Marco", "last_name": "Bianchi"},
        {},
    ),
}

#: What the matcher decides for each pair: (decision, points, reasons).
VERDICTS = {
    "visitor_id": ("link", 9.0, ["same visitor id", "same first name", "same last name"]),
    "loyalty_card": ("link", 9.0, ["same loyalty card", "same first name", "same last name"]),
    "initial_same": ("suggest", 5.5, ["same last name", "same birth date"]),
    "initial_other": ("none", 1.0, ["same last name", "same birth date"]),
    "names_swapped": (
        "link",
        7.0,
        ["names swapped", "same first name", "same last name", "same birth date"],
    ),
    "dob_day_month_swapped": (
        "none",
        5.0,
        ["same first name", "same last name", "birth date with day and month swapped"],
    ),
    "dob_different": (
        "none",
        3.0,
        ["same e-mail", "same first name", "same last name", "different birth date"],
    ),
    "postcode_only": ("suggest", 4.5, ["same first name", "same last name", "same postcode"]),
    "address_by_city": ("link", 6.0, ["same first name", "same last name", "same address"]),
    "address_other_city": ("link", 6.0, ["same first name", "same last name", "same address"]),
    "common_name": (
        "suggest",
        5.0,
        ["same first name", "same last name", "common name", "same birth date"],
    ),
    "common_name_with_email": ("link", 8.0, ["same e-mail", "same first name", "same last name"]),
    "household_flag": ("suggest", 6.0, ["same first name", "same last name", "same address"]),
    "name_and_address": ("link", 6.0, ["same first name", "same last name", "same address"]),
    "household_other_first_name": (
        "suggest",
        7.0,
        [
            "same e-mail",
            "same landline",
            "different first name (0.48)",
            "same last name",
            "same birth date",
            "guard: household (different first name)",
        ],
    ),
    "household_first_names_alike": (
        "suggest",
        11.0,
        [
            "same e-mail",
            "same landline",
            "first name similarity 0.83",
            "same last name",
            "same birth date",
            "guard: household (first names only alike)",
        ],
    ),
    "dob_disagrees_guard": (
        "suggest",
        7.0,
        [
            "same e-mail",
            "same mobile",
            "same first name",
            "same last name",
            "different birth date",
            "guard: birth dates disagree",
        ],
    ),
    "no_identifier_names_differ": (
        "suggest",
        7.0,
        [
            "same first name",
            "last name similarity 0.80",
            "same birth date",
            "same address",
            "guard: no identifier and names differ",
        ],
    ),
    "common_name_guard": (
        "suggest",
        7.5,
        [
            "same landline",
            "same first name",
            "same last name",
            "common name",
            "same birth date",
            "same postcode",
            "guard: common name",
        ],
    ),
    "only_name_and_address_household": (
        "suggest",
        8.0,
        [
            "same landline",
            "same first name",
            "same last name",
            "same address",
            "guard: only name and address of a household",
        ],
    ),
    "shared_id_nothing_else": (
        "suggest",
        8.0,
        [
            "same e-mail",
            "same mobile",
            "first name similarity 0.83",
            "guard: shared identifier, nothing else agrees",
        ],
    ),
    "shared_id_different_person": (
        "none",
        5.0,
        [
            "same loyalty card",
            "same e-mail",
            "same mobile",
            "different first name (0.48)",
            "different last name (0.46)",
            "guard: shared identifier, different person",
        ],
    ),
    "same_landline_only": ("suggest", 6.0, ["same landline", "same first name", "same last name"]),
    "name_close": ("link", 7.0, ["same e-mail", "same first name", "last name similarity 0.95"]),
    "name_between": (
        "suggest",
        6.0,
        ["same e-mail", "same first name", "last name similarity 0.81"],
    ),
    "nothing": ("none", -8.0, ["different first name (0.48)", "different last name (0.46)"]),
}


# more pairs: several identifiers, phones of both kinds, birth dates and streets at their edges
CASES.update(
    {
        "different_mobiles": (
            dict(A, email="anna@libero.it", mobile="347 1234567"),
            dict(A, email="anna@libero.it", mobile="348 7654321"),
            {},
        ),
        "two_ids": (
            dict(A, visitor_id="v-1", loyalty_card="L9"),
            dict(A, visitor_id="v-1", loyalty_card="L9"),
            {},
        ),
        "mobile_and_landline": (
            dict(A, mobile="347 1234567", phone="02 1234567"),
            dict(A, mobile="347 1234567", phone="02 1234567"),
            {},
        ),
        "dob_other_year_swapped": (
            dict(A, email="anna@libero.it", birth_date="1980-03-07"),
            dict(A, email="anna@libero.it", birth_date="1975-07-03"),
            {},
        ),
        "dob_same_year_other_day": (
            dict(A, email="anna@libero.it", birth_date="1980-03-07"),
            dict(A, email="anna@libero.it", birth_date="1980-05-09"),
            {},
        ),
        "common_name_typo": (
            dict(A, birth_date="1980-03-07", postal_code="20100"),
            {
                "first_name": "Anna",
                "last_name": "Nerri",
                "birth_date": "1980-03-07",
                "postal_code": "20100",
            },
            {"common_name": True},
        ),
        "email_only": ({"email": "anna@libero.it"}, {"email": "anna@libero.it"}, {}),
        "strong_other_first_name": (
            {
                "first_name": "Marco",
                "last_name": "Neri",
                "mobile": "347 1234567",
                "loyalty_card": "L9",
                "birth_date": "1980-03-07",
            },
            dict(A, mobile="347 1234567", loyalty_card="L9", birth_date="1980-03-07"),
            {},
        ),
        "no_first_name": (
            {
                "last_name": "Neri",
                "birth_date": "1980-03-07",
                "street": "Via Roma 5",
                "city": "Milano",
                "postal_code": "20100",
            },
            dict(
                A, birth_date="1980-03-07", street="Via Roma 5", city="Milano", postal_code="20100"
            ),
            {},
        ),
        "street_no_place": (dict(A, street="Via Roma 5"), dict(A, street="Via Roma 5"), {}),
        "street_other_postcode_same_city": (
            dict(A, street="Via Roma 5", city="Milano", postal_code="20100"),
            dict(A, street="Via Roma 5", city="Milano", postal_code="20121"),
            {},
        ),
        "street_other_city_and_postcode": (
            dict(A, street="Via Roma 5", city="Milano", postal_code="20100"),
            dict(A, street="Via Roma 5", city="Torino", postal_code="10100"),
            {},
        ),
        "one_street_missing": (
            dict(A, city="Milano", postal_code="20100"),
            dict(A, street="Via Roma 5", city="Milano", postal_code="20100"),
            {},
        ),
        "one_swapped_name_conflict": (
            {"first_name": "Neri", "last_name": "Bianchi", "email": "anna@libero.it"},
            dict(A, email="anna@libero.it"),
            {},
        ),
        "ids_and_different_names": (
            {
                "first_name": "Marco",
                "last_name": "Bianchi",
                "visitor_id": "v-1",
                "loyalty_card": "L9",
            },
            dict(A, visitor_id="v-1", loyalty_card="L9"),
            {},
        ),
    }
)

VERDICTS.update(
    {
        "different_mobiles": (
            "suggest",
            6.0,
            ["same e-mail", "different mobiles", "same first name", "same last name"],
        ),
        "two_ids": (
            "link",
            14.0,
            ["same visitor id", "same loyalty card", "same first name", "same last name"],
        ),
        "mobile_and_landline": ("link", 8.0, ["same mobile", "same first name", "same last name"]),
        "dob_other_year_swapped": (
            "none",
            3.0,
            ["same e-mail", "same first name", "same last name", "different birth date"],
        ),
        "dob_same_year_other_day": (
            "none",
            3.0,
            ["same e-mail", "same first name", "same last name", "different birth date"],
        ),
        "common_name_typo": (
            "suggest",
            5.0,
            [
                "same first name",
                "last name similarity 0.95",
                "common name",
                "same birth date",
                "same postcode",
            ],
        ),
        "email_only": ("suggest", 4.0, ["same e-mail"]),
        "strong_other_first_name": (
            "suggest",
            10.0,
            [
                "same loyalty card",
                "same mobile",
                "different first name (0.48)",
                "same last name",
                "same birth date",
                "guard: household (different first name)",
            ],
        ),
        "no_first_name": (
            "suggest",
            7.0,
            [
                "same last name",
                "same birth date",
                "same address",
                "guard: no identifier and names differ",
            ],
        ),
        "street_no_place": ("none", 4.0, ["same first name", "same last name"]),
        "street_other_postcode_same_city": (
            "link",
            6.0,
            ["same first name", "same last name", "same address"],
        ),
        "street_other_city_and_postcode": ("none", 4.0, ["same first name", "same last name"]),
        "one_street_missing": (
            "suggest",
            4.5,
            ["same first name", "same last name", "same postcode"],
        ),
        "one_swapped_name_conflict": (
            "none",
            -4.0,
            ["same e-mail", "different first name (0.50)", "different last name (0.46)"],
        ),
        "ids_and_different_names": (
            "none",
            2.0,
            [
                "same visitor id",
                "same loyalty card",
                "different first name (0.48)",
                "different last name (0.46)",
            ],
        ),
    }
)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_adds_its_points_and_says_why(case: str) -> None:
    a, b, flags = CASES[case]
    verdict = score(rec(**a), rec(**b), CFG, **flags)
    decision, points, reasons = VERDICTS[case]
    assert (verdict.decision.value, verdict.points, list(verdict.reasons)) == (
        decision,
        points,
        reasons,
    )
    # the same in the other direction, but for the order of swapped names
    back = score(rec(**b), rec(**a), CFG, **flags)
    assert back.decision.value == decision and back.points == points


@pytest.mark.parametrize("same_source", [True, False])
def test_name_and_address_alone_link_only_across_sources(same_source: bool) -> None:
    fields = {**A, **ROMA, "phone": "02 1234567"}
    a = replace(rec(**fields), source="crm")
    b = replace(rec(**fields), source="crm" if same_source else "webshop")
    verdict = score(a, b, CFG)
    if same_source:  # one system's two records of a name at an address: maybe a family
        assert verdict.decision is Decision.SUGGEST
        assert verdict.reasons[-1] == "guard: only name and address"
    else:
        assert verdict.decision is Decision.LINK and verdict.points == 8.0


def test_linking_by_name_and_address_can_be_turned_off() -> None:
    fields = {**A, **ROMA}
    off = replace(CFG, link_name_and_address=False)
    assert score(rec(**fields), rec(**fields), CFG).decision is Decision.LINK
    assert score(rec(**fields), rec(**fields), off).decision is Decision.SUGGEST


def test_the_score_is_the_points_squashed() -> None:
    verdicts = [score(rec(**a), rec(**b), CFG, **f) for a, b, f in CASES.values()]
    for v in verdicts:
        assert 0 <= v.score <= 1
        assert v.reason == ", ".join(v.reasons)
    low, high = min(verdicts, key=lambda v: v.points), max(verdicts, key=lambda v: v.points)
    assert low.score < 0.1 and high.score > 0.9
