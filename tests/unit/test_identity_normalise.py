"""Normalisation: e-mails, phones, names, dates, addresses, and junk that must never link."""

from __future__ import annotations

import pytest

from backends.identity import normalise as n
from backends.identity.features import extract


def test_email_case_space_and_gmail_dots_only_for_gmail() -> None:
    assert n.email("  Mario.Rossi@Libero.IT ") == "mario.rossi@libero.it"
    assert n.email("mario.rossi+shop@gmail.com") == "mariorossi@gmail.com"
    assert n.email("Mario.Rossi@googlemail.com") == "mariorossi@gmail.com"
    # other providers: dots are significant
    assert n.email("m.rossi@libero.it") != n.email("mrossi@libero.it")


@pytest.mark.parametrize(
    "junk",
    [
        "test@test.com",
        "noemail@shop.it",
        "no-reply@x.com",
        "n/a",
        "none@none.com",
        "",
        "not-an-email",
        "a@b",
    ],
)
def test_placeholder_emails_are_junk(junk: str) -> None:
    assert n.email(junk) == ""


@pytest.mark.parametrize(
    "raw", ["+39 347 123 4567", "3471234567", "0039 347-1234567", "(347) 123.4567", "+393471234567"]
)
def test_phone_formats_become_one_e164(raw: str) -> None:
    assert n.phone(raw, "IT")[0] == "+393471234567"


def test_phone_default_region_and_kind() -> None:
    assert n.phone("030 1234567", "DE")[0] == "+49301234567"
    assert n.phone("02 1234567", "IT")[0] == "+39021234567"
    assert n.phone_kind("+393471234567") == n.MOBILE
    assert n.phone_kind("+39021234567") == n.LANDLINE


@pytest.mark.parametrize("junk", ["0000000000", "1111111111", "n/a", "-", "123", ""])
def test_placeholder_phones_are_junk(junk: str) -> None:
    assert n.phone(junk, "IT") == ("", "")


def test_names_case_accents_spacing_titles() -> None:
    assert n.name_key("  Niccolò   D'Angelo ") == "niccolo dangelo"
    assert n.name_key("Dott. Mario") == "mario"
    assert n.display_name("MARIO") == "Mario"
    assert n.display_name("de luca") == "De Luca"
    assert n.display_name("McDonald") == "McDonald"
    assert n.split_full_name("Rossi, Mario") == ("Mario", "Rossi")
    assert n.split_full_name("Mario De Luca") == ("Mario", "De Luca")


@pytest.mark.parametrize(
    "raw,iso",
    [
        ("1980-03-07", "1980-03-07"),
        ("07/03/1980", "1980-03-07"),
        ("7.3.1980", "1980-03-07"),
        ("19800307", "1980-03-07"),
        ("12/31/1980", "1980-12-31"),
        ("1980-03-07T00:00:00", "1980-03-07"),
    ],
)
def test_dates_in_common_formats(raw: str, iso: str) -> None:
    assert n.birth_date(raw) == iso


@pytest.mark.parametrize("junk", ["1900-01-01", "2999-01-01", "31/02/1980", "n/a", "yesterday"])
def test_implausible_dates_are_dropped(junk: str) -> None:
    assert n.birth_date(junk) == ""


def test_addresses_expand_abbreviations() -> None:
    assert n.street_key("V. Roma, 5") == n.street_key("via roma 5")
    assert n.street_key("P.za  Duomo n. 1") == "piazza duomo 1"
    assert n.street_key("C.so Italia 12") == "corso italia 12"
    assert n.postal_code(" 20 100 ") == "20100"
    assert n.postal_code("00000") == ""


def test_extract_drops_junk_and_lists_it() -> None:
    f = extract(
        {
            "name": "Rossi, Mario",
            "email": "test@test.com;mario@libero.it",
            "phone": "0000000000",
            "mobile": "347 1234567",
            "birth_date": "n/a",
        }
    )
    assert (f.first, f.last) == ("Mario", "Rossi")
    assert f.emails == ["mario@libero.it"]
    assert [p for p, _k in f.phones] == ["+393471234567"]
    assert any("test@test.com" in p for p in f.problems)


def test_fast_phone_parsing_agrees_with_phonenumbers() -> None:
    """The digits-only fast path gives phonenumbers' own answer, number and kind, in any region."""
    import random

    import phonenumbers

    from backends.identity import phones

    rng = random.Random(2026)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS) + ["ZZ"]
    prefixes = ["+{cc}", "00{cc}", "011{cc}", "0", "", "{cc}", "+"]
    agreed = 0
    for _ in range(6000):
        cc = str(rng.choice(codes))
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 16)))
        key = rng.choice(prefixes).format(cc=cc) + digits
        region = rng.choice(regions) if rng.random() < 0.5 else rng.choice(["IT", "DE", "US"])
        expected = phones.slow_e164(key, region)
        assert phones.e164(key, region) == expected, (key, region)
        if expected:
            kind = phonenumbers.number_type(phonenumbers.parse(expected, None))
            assert phones.number_type(expected) == kind, expected
            agreed += 1
    assert agreed > 1000  # the corpus holds plenty of possible numbers
