"""Phones in several default regions: the key a number is read by, and numbers refused.

The default region is the country of numbers written without a country code; a
number that carries one (`+CC` or the region's international prefix) keeps it
whatever the default region says.
"""

from __future__ import annotations

import pytest

from backends.base import InvalidInput
from backends.identity import normalise as n
from backends.identity import phones


@pytest.mark.parametrize(
    "raw,region,e164",
    [
        # a `+` keeps its country code in any default region
        ("+49 30 1234567", "IT", "+49301234567"),
        ("+1 212 555 0123", "IT", "+12125550123"),
        ("+1 (212) 555-0123 ", "DE", "+12125550123"),
        ("+44 7700 900123", "DE", "+447700900123"),
        ("+39 06 6982 1234", "US", "+390669821234"),
        # `00` is the international prefix in Europe, not a national one
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("0049 30 1234567", "DE", "+49301234567"),
        ("0039 02 1234 5678", "GB", "+390212345678"),
        ("00 1 212 555 0123", "IT", "+12125550123"),
        ("0044 07700 900123", "IT", "+447700900123"),
        # NANP: ten digits, an optional leading 1, and 011 to dial abroad
        ("(212) 555-0123", "US", "+12125550123"),
        ("202-555-0147", "US", "+12025550147"),
        ("1 212 555 0123", "US", "+12125550123"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        # UK and Germany drop the trunk 0
        ("020 7946 0958", "GB", "+442079460958"),
        ("07700 900123", "GB", "+447700900123"),
        ("030 1234567", "DE", "+49301234567"),
        ("0151 23456789", "DE", "+4915123456789"),
        # Italy keeps the leading 0 of landlines
        ("02 1234 5678", "IT", "+390212345678"),
        ("+39 02 1234 5678", "IT", "+390212345678"),
        ("347 123 4567", "IT", "+393471234567"),
        ("00 39 347 123 4567", "IT", "+393471234567"),
        # the region is read in any case
        ("3471234567", "it", "+393471234567"),
    ],
)
def test_numbers_in_each_region_become_their_e164(raw: str, region: str, e164: str) -> None:
    assert n.phone(raw, region) == (e164, "")


def test_the_plus_decides_the_country_not_the_default_region() -> None:
    # the same digits without `+` are an Italian national number, a different key
    assert n.phone("+4930 1234567", "IT")[0] == "+49301234567"
    assert n.phone("4930 1234567", "IT")[0] == "+3949301234567"
    assert n.phone("+4930 1234567", "IT")[0] != n.phone("4930 1234567", "IT")[0]


@pytest.mark.parametrize(
    "raw,region",
    [
        ("1212121212", "IT"),  # two digits alternating: a placeholder
        ("1212121212", "US"),
        ("+1212121212", "US"),
        ("0000000000", "DE"),
        ("5555555555", "US"),
        ("12345", "IT"),  # five digits: too short for anything
        ("212 555 012", "US"),  # nine digits in a ten-digit plan
        ("+999 1234567", "IT"),  # no such country code
        ("+0 123 4567", "IT"),
        ("00 0 123456", "IT"),
        ("+39 347 123 45678901", "IT"),  # too long for Italy
        ("212 555 0123 x12", "US"),
        ("1 800 FLOWERS", "US"),
        ("+", "IT"),
        ("abc", "IT"),
        (" ", "IT"),
    ],
)
def test_impossible_and_placeholder_numbers_are_refused(raw: str, region: str) -> None:
    assert n.phone(raw, region) == ("", "")


def test_none_is_no_phone() -> None:
    assert n.phone(None) == ("", "")


def test_the_edges_of_the_placeholder_rules() -> None:
    # three different digits are a number, two are a placeholder
    assert n.phone("3473333333", "IT")[0] == "+393473333333"
    assert n.phone("3433333333", "IT")[0] == ""
    # six digits may be a number, five never are
    assert n.phone("123456", "IT")[0] == "+39123456"
    assert n.phone("112233", "IT")[0] == "+39112233"
    assert n.phone("12345", "IT")[0] == ""


def test_phone_kinds_by_country() -> None:
    assert n.phone_kind("+393471234567") == n.MOBILE
    assert n.phone_kind("+4915123456789") == n.MOBILE
    assert n.phone_kind("+39021234567") == n.LANDLINE
    assert n.phone_kind("+442079460958") == n.LANDLINE
    # a US number may be either: treated as a landline, which households share
    assert n.phone_kind("+12125550123") == n.LANDLINE
    # toll-free is neither
    assert n.phone_kind("+39800123456") == n.OTHER


def test_number_type_of_unreadable_numbers_is_unknown() -> None:
    unknown = 99
    assert phones.number_type("garbage") == unknown
    assert phones.number_type("+999123") == unknown
    assert phones.number_type("+12125550123") == 2  # FIXED_LINE_OR_MOBILE


def test_default_region_must_be_a_known_country() -> None:
    assert phones.check_region(" it ") == "IT"
    assert phones.check_region("gb") == "GB"
    with pytest.raises(InvalidInput, match="IX"):
        phones.check_region("IX")
    with pytest.raises(InvalidInput):
        phones.check_region("")


@pytest.mark.parametrize(
    "key,region",
    [
        ("+49301234567", "IT"),
        ("00442079460958", "US"),
        ("01144207946095", "US"),
        ("0612345678", "NL"),
        ("3471234567", "IT"),
        ("2125550123", "US"),
        ("+1", "US"),
        ("+39", "IT"),
        ("0039", "IT"),
        ("123", "ZZ"),
        ("+39347123456789012345", "IT"),
    ],
)
def test_fast_path_and_phonenumbers_agree_on_edge_keys(key: str, region: str) -> None:
    assert phones.e164(key, region) == phones.slow_e164(key, region)


def test_the_default_region_is_italy() -> None:
    assert n.phone("347 123 4567") == ("+393471234567", "")
    assert n.phone("02 1234 5678") == ("+390212345678", "")


def test_more_digits_than_any_number_is_refused() -> None:
    assert n.phone("123456789" * 5, "IT") == ("", "")
    assert n.phone("+" + "123456789" * 5, "IT") == ("", "")


def test_keys_with_spaces_or_no_region_go_to_phonenumbers_itself() -> None:
    assert phones.e164("030 1234567", "DE") == "+49301234567"
    assert phones.e164("+49 30 1234567", "IT") == "+49301234567"
    assert phones.e164("(212) 555-0123", "US") == "+12125550123"
    fixed_line = 0
    assert phones.number_type("+49 30 1234567") == fixed_line
    assert phones.number_type("+39 347 123 4567") == 1  # MOBILE
    assert phones.number_type("030 1234567") == 99  # no country: UNKNOWN
    assert phones.number_type("4930123456") == 99
