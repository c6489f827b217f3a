"""The identity benchmark's own parts: each country's generated phones, dates and files, the
pairwise score, and the FEBRL ground truth and mapping."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from backends.identity import normalise as n
from backends.identity.mapping import load_mapping
from bench.identity.datasets import FEBRL, febrl_prepare, febrl_sources, people_splink
from bench.identity.generate import LOCALES, generate
from bench.identity.run import score


@pytest.mark.parametrize("code", sorted(LOCALES))
def test_every_way_a_country_writes_a_number_is_the_same_number(code: str) -> None:
    loc = LOCALES[code]
    rng = random.Random(7)
    for i in range(200):
        national = loc.mobile(rng) if i % 2 else loc.landline(rng, rng.choice(loc.cities))
        parsed = {n.phone(loc.phone(national, style), loc.region)[0] for style in range(6)}
        assert len(parsed) == 1 and parsed != {""}, (national, parsed)


@pytest.mark.parametrize("code", ["it", "uk", "de"])
def test_mobiles_read_as_mobiles_where_the_numbering_plan_tells(code: str) -> None:
    loc, rng = LOCALES[code], random.Random(3)
    for _ in range(50):
        assert n.phone_kind(n.phone(loc.mobile(rng), loc.region)[0]) == n.MOBILE


@pytest.mark.parametrize("code", sorted(LOCALES))
def test_household_landlines_read_as_fixed_lines(code: str) -> None:
    loc, rng = LOCALES[code], random.Random(5)
    for city in loc.cities:
        for _ in range(20):
            assert n.phone_kind(n.phone(loc.landline(rng, city), loc.region)[0]) == n.LANDLINE


def test_us_mobiles_and_landlines_look_alike() -> None:
    loc, rng = LOCALES["us"], random.Random(3)
    mobile = n.phone(loc.mobile(rng), "US")[0]
    landline = n.phone(loc.landline(rng, loc.cities[0]), "US")[0]
    assert n.phone_kind(mobile) == n.phone_kind(landline)


@pytest.mark.parametrize(("code", "written"), [("it", "1980-12-31"), ("us", "12/31/1980"),
                                               ("uk", "31/12/1980"), ("de", "31.12.1980")])  # fmt: skip
def test_a_country_writes_birth_dates_its_own_way(code: str, written: str) -> None:
    assert LOCALES[code].date("1980-12-31") == written
    assert n.birth_date(written) == "1980-12-31"


def test_a_generated_country_has_truth_for_every_record_and_its_own_region(tmp_path: Path) -> None:
    counts = generate(tmp_path, 600, locale="us")
    with open(tmp_path / "truth.csv", newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    assert len(truth) == counts["records"] >= 600
    assert load_mapping(tmp_path / "webshop.toml").default_region == "US"
    with open(tmp_path / "crm.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["country"] for r in rows} == {"US"}
    people_splink(tmp_path, "us", tmp_path / "splink.csv")
    with open(tmp_path / "splink.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(truth)
    dated = [r for r in table if r["source"] == "crm" and r["birth_date"]]
    assert dated and all(len(r["birth_date"]) == 10 and r["birth_date"][4] == "-" for r in dated)


def _links(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("source", "source_id", "customer_id"))
        w.writerows(rows)
    return path


def test_pairwise_score_counts_missed_and_wrong_pairs(tmp_path: Path) -> None:
    # persons: p1 = a1, a2, a3 (3 pairs); p2 = b1, b2 (1 pair)
    truth = tmp_path / "truth.csv"
    with open(truth, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("source", "source_id", "person"))
        w.writerows(
            [("s", x, p) for x, p in (("a1", 1), ("a2", 1), ("a3", 1), ("b1", 2), ("b2", 2))]
        )
    perfect = _links(tmp_path / "p.csv", [("s", "a1", "1"), ("s", "a2", "1"), ("s", "a3", "1"),
                                          ("s", "b1", "2"), ("s", "b2", "2")])  # fmt: skip
    assert score(truth, perfect)["f1"] == 1.0
    # a3 left alone (unlinked): 1 of 4 true pairs found... a1-a2 and b1-b2: 2 of 4
    split = _links(tmp_path / "s.csv", [("s", "a1", "1"), ("s", "a2", "1"), ("s", "a3", ""),
                                        ("s", "b1", "2"), ("s", "b2", "2")])  # fmt: skip
    s = score(truth, split)
    assert (s["precision"], s["recall"], s["unlinked"]) == (1.0, 0.5, 1)
    # everything in one customer: 10 predicted pairs, 4 correct
    merged = _links(tmp_path / "m.csv", [("s", x, "9") for x in ("a1", "a2", "a3", "b1", "b2")])
    s = score(truth, merged)
    assert (s["precision"], s["recall"]) == (0.4, 1.0)


def test_febrl_truth_joins_a_record_and_its_duplicates_and_the_identifier_is_optional(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("febrl4a.csv", "febrl4b.csv"):
        with open(raw / name, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(("rec_id", "given_name", "surname", "street_number", "address_1",
                        "address_2", "suburb", "postcode", "state", "date_of_birth",
                        "soc_sec_id"))  # fmt: skip
            w.writerow((f"rec-12-{'org' if name.endswith('a.csv') else 'dup-0'}", "Ann", "Lee",
                        "3", "Oak St", "", "Lalor", "2090", "nsw", "19560909", "123"))  # fmt: skip
    febrl4 = FEBRL[3]
    assert [s for s, _f in febrl_sources(febrl4)] == ["febrl4a", "febrl4b"]
    febrl_prepare(raw, febrl4, tmp_path / "with", identifier=True)
    febrl_prepare(raw, febrl4, tmp_path / "without", identifier=False)
    with open(tmp_path / "with" / "truth.csv", newline="", encoding="utf-8") as f:
        assert {r["person"] for r in csv.DictReader(f)} == {"rec-12"}
    assert "loyalty_card" in load_mapping(tmp_path / "with" / "mapping.toml").fields
    without = load_mapping(tmp_path / "without" / "mapping.toml")
    assert "loyalty_card" not in without.fields and without.id_column == "rec_id"
    with open(tmp_path / "without" / "splink.csv", newline="", encoding="utf-8") as f:
        assert "soc_sec_id" not in next(csv.reader(f))
