"""Normalising names, postcodes and cities: placeholders dropped in any case, punctuation in
names kept where people write it."""

from __future__ import annotations

from datetime import date

import pytest

from backends.identity import normalise as n


@pytest.mark.parametrize("junk", ["N/A", " none ", "NULL", "Sconosciuto", "-", "?", ""])
def test_placeholders_are_junk_in_any_case(junk: str) -> None:
    assert n.is_junk_text(junk)
    assert n.display_name(junk) == ""
    assert n.text(junk) == ""


@pytest.mark.parametrize("real", ["Nadia", "Noa", "Xavier", "Test-Rossi"])
def test_real_names_are_not_junk(real: str) -> None:
    assert not n.is_junk_text(real)
    assert n.display_name(real) == real


def test_display_names_capitalise_each_part() -> None:
    assert n.display_name("ANNA-MARIA D'ANGELO") == "Anna-Maria D'Angelo"
    assert n.display_name("o’brien") == "O’Brien"
    assert n.display_name("  de   luca ") == "De Luca"
    assert n.display_name("None") == ""  # a placeholder, whatever its case
    assert n.display_name("NONE") == ""


def test_a_full_name_is_split_at_its_first_comma() -> None:
    assert n.split_full_name("Rossi, Mario, Jr") == ("Mario, Jr", "Rossi")
    assert n.split_full_name("  Mario   Rossi ") == ("Mario", "Rossi")
    assert n.split_full_name("Mario") == ("Mario", "")


def test_postcodes() -> None:
    assert n.postal_code("sw1a 1aa") == "SW1A1AA"
    assert n.postal_code(" 20 100 ") == "20100"
    assert n.postal_code("N/A") == ""
    assert n.postal_code("00000") == ""
    assert n.postal_code(None) == ""
    assert n.postal_code("   ") == ""


def test_city_keys() -> None:
    assert n.city_key("Milano") == "milano"
    assert n.city_key("Sant'Agata  sui Due Golfi") == "santagata sui due golfi"
    assert n.city_key("Forlì") == "forli"
    assert n.city_key(None) == ""
    assert n.city_key("n/a") == ""


def test_free_text_is_trimmed_and_collapsed_and_placeholders_dropped() -> None:
    assert n.text("  Via   Roma\t5 ") == "Via Roma 5"
    assert n.text("Milano") == "Milano"
    assert n.text(None) == ""
    assert n.text(" N/A ") == ""


def test_birth_dates_up_to_today_and_not_after() -> None:
    today = date(2026, 11, 20)
    assert n.birth_date("2026-11-20", today=today) == "2026-11-20"
    assert n.birth_date("2026-11-21", today=today) == ""
    assert n.birth_date("2020-01-01", today=date(2019, 1, 1)) == ""  # the given day counts
    assert n.birth_date(None) == ""
