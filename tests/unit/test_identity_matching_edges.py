"""Matching evidence at its edges: street spellings and house numbers, and the penalty for
two records whose mobiles differ (only when both have a mobile)."""

from __future__ import annotations

from backends.identity.config import MatchConfig
from backends.identity.features import extract
from backends.identity.matching import score

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
