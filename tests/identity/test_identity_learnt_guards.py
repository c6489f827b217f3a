"""Guards as evidence learnt from the data: twins and namesakes weigh by what the store's
pairs show, household identifiers are found by who holds them, clustering holds against a
customer as a whole, and open suggestions are revisited once the model has learnt."""

from __future__ import annotations

import json
from pathlib import Path

from backends import link_reasons
from backends.identity.config import MatchConfig
from backends.identity.features import extract
from backends.identity.guards import namesakes
from backends.identity.model import (
    COMPARISONS,
    FIRST_DIFFERENT,
    MISSING,
    compare,
    default_model,
    family_emails,
)
from backends.identity.relink import decide_relink, revisitable
from backends.identity.training import namesakes_evidence, twins_evidence
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store

HOME = {"street": "Via Roma 5", "city": "Milano", "postal_code": "20100"}


def rec(**fields: str):
    f = extract(fields, "IT")
    f.source = fields.get("source", "")
    return f


def pattern(**levels: int) -> tuple[int, ...]:
    return tuple(levels.get(c, MISSING) for c in COMPARISONS)


SAME_HOME_OTHER_FIRST = pattern(first_name=FIRST_DIFFERENT, last_name=0, birth_date=0, street=0)
SAME_HOME_SAME_FIRST = pattern(first_name=0, last_name=0, birth_date=0, street=0)


def test_twins_weigh_nothing_where_first_names_are_often_typed_wrong() -> None:
    typing = [SAME_HOME_OTHER_FIRST] * 30 + [SAME_HOME_SAME_FIRST] * 170  # 15%
    assert twins_evidence(typing, -6.0) == 0.0


def test_twins_weigh_fully_where_another_first_name_is_rare() -> None:
    careful = [SAME_HOME_OTHER_FIRST] * 1 + [SAME_HOME_SAME_FIRST] * 999
    assert twins_evidence(careful, -6.0) == -12.0


def test_twins_keep_the_prior_guess_on_too_few_pairs() -> None:
    assert twins_evidence([SAME_HOME_OTHER_FIRST] * 5, -6.0) == -6.0


def test_namesakes_evidence_reads_how_often_one_name_at_one_home_has_two_birth_dates() -> None:
    apart = pattern(first_name=0, last_name=0, birth_date=2, street=0)
    near = pattern(first_name=0, last_name=0, birth_date=0, street=0)
    assert namesakes_evidence([apart] * 40 + [near] * 5, 1.0) > 0  # a generator's CRM
    assert namesakes_evidence([apart] * 5 + [near] * 40, 1.0) < 0  # a file of duplicates
    assert namesakes_evidence([apart] * 3, 1.0) == 1.0  # too few: the prior guess


def test_namesakes_are_a_sign_only_where_the_data_says_so() -> None:
    a = rec(first_name="Marco", last_name="Zanella", source="crm", **HOME)
    b = rec(first_name="Marco", last_name="Zanella", source="crm", **HOME)
    assert namesakes(a, [b], evidence=1.0)
    assert not namesakes(a, [b], evidence=-3.0)


def test_a_birth_date_one_digit_apart_is_no_namesake() -> None:
    a = rec(first_name="Marco", last_name="Zanella", birth_date="1927-08-24", **HOME)
    b = rec(first_name="Marco", last_name="Zanella", birth_date="1927-05-24", **HOME)
    c = rec(first_name="Marco", last_name="Zanella", birth_date="1957-05-24", **HOME)
    assert not namesakes(a, [b])
    assert namesakes(a, [c])
    assert not namesakes(a, [c], evidence=-3.0)  # the data shows such pairs are one person


def test_a_phone_held_by_two_birth_dates_is_a_household_line() -> None:
    phone = "+12125550123"
    john = rec(first_name="John", last_name="Scott", birth_date="1987-10-09")
    joshua = rec(first_name="Joshua", last_name="Scott", birth_date="1985-11-12")
    same = rec(first_name="John", last_name="Scott", birth_date="1987-10-09")
    assert family_emails([(phone, [john, joshua])]) == {phone}
    assert family_emails([(phone, [john, same])]) == set()


def test_a_changed_email_with_the_same_name_and_phone_links() -> None:
    a = extract(
        {"first_name": "John", "last_name": "Miller", "email": "jm@aol.com", "phone": "2125550123"},
        "US",
    )
    b = extract(
        {
            "first_name": "John",
            "last_name": "Miller",
            "email": "john.m@gmail.com",
            "phone": "(212) 555-0123",
        },
        "US",
    )
    assert compare(default_model(), a, b).probability >= MatchConfig().link_probability


def test_revisiting_skips_suggestions_a_guard_made() -> None:
    assert revisitable("same first name (+5.0), guard: twins (-6.0)")
    assert revisitable("same landline (+7.0), guard: household (-4.0)")  # learnt: weighed again
    assert not revisitable("x, guard: customers 1 and 2 do not hold together (average -3)")
    # as the SQLite store keeps reasons: packed into phrase numbers
    guarded = "same first name (+5.3), same last name (+4.7), guard: namesakes at this address"
    assert link_reasons.pack(guarded) != guarded
    assert not revisitable(link_reasons.pack(guarded))
    # where the new model reads no namesakes in the data, their suggestions are weighed again
    duplicates, families = default_model(), default_model()
    duplicates.guards["namesakes"], families.guards["namesakes"] = -3.6, 4.4
    assert revisitable(link_reasons.pack(guarded), duplicates)
    assert not revisitable(link_reasons.pack(guarded), families)


def test_a_household_suggestion_links_on_revisiting_only_where_the_data_has_no_households() -> None:
    cfg = MatchConfig()
    a = rec(first_name="Emily", last_name="Berry", birth_date="1978-05-27", **HOME)
    b = rec(first_name="Emily", last_name="Berry", birth_date="1938-01-01", **HOME)
    families, typing = default_model(), default_model()
    families.prior = typing.prior = 5e-4  # as a trained store of duplicates reads it
    typing.guards["household"] = 0.0
    assert decide_relink(families, cfg, a, b, [a], [b]) is None
    assert decide_relink(typing, cfg, a, b, [a], [b]) is not None
    assert revisitable(link_reasons.pack("same first name (+5.3), same last name (+4.7)"))


def test_relinking_needs_the_pair_to_link_and_the_customers_to_hold_together() -> None:
    model, cfg = default_model(), MatchConfig()
    a = rec(first_name="Anna", last_name="Verdi", birth_date="1970-02-03", email="a@x.it", **HOME)
    b = rec(first_name="Anna", last_name="Verdi", birth_date="1970-02-03", **HOME)
    assert decide_relink(model, cfg, a, b, [a], [b]) is not None
    other = rec(first_name="Paolo", last_name="Neri", birth_date="1950-01-01", mobile="3479999999")
    assert decide_relink(model, cfg, a, b, [a], [b, other, other]) is None  # not as a whole
    far = rec(first_name="Anna", last_name="Verdi", birth_date="1999-09-09")
    assert decide_relink(model, cfg, a, far, [a], [far]) is None  # the pair does not link


def test_a_record_joins_despite_a_birth_date_slip_elsewhere_in_the_customer(
    tmp_path: Path,
) -> None:
    """Records of one person whose birth dates differ by a typed digit end up one customer
    (the rule before kept any other birth date out of a customer)."""
    store = Store(tmp_path / "v.db", create=True)
    for source, rows in (
        ("crm", [{"id": "1", "birth_date": "1950-09-12"}]),
        (
            "shop",
            [{"id": "2", "birth_date": "1950-02-12"}, {"id": "3", "birth_date": "1950-09-12"}],
        ),
    ):
        f = tmp_path / f"{source}.jsonl"
        f.write_text(
            "".join(
                json.dumps({**r, "first_name": "Ethan", "last_name": "Hipkiss", **HOME}) + "\n"
                for r in rows
            ),
            "utf-8",
        )
        run_import(store, f, ImportOptions(source, batch_size=1))
    owner = dict(store.conn.execute("SELECT source_id, customer_id FROM source_records"))
    store.close()
    assert owner["1"] == owner["2"] == owner["3"]


def test_a_mapping_joins_several_columns_into_one_single_valued_field() -> None:
    from backends.identity.features import CANONICAL_FIELDS
    from backends.identity.mapping import Mapping

    m = Mapping(fields={"street": ("street_number", "address_1"), "email": ("a", "b")})
    row = {"street_number": "12", "address_1": "main street", "a": "x@y.it", "b": "z@y.it"}
    out = m.apply(row, CANONICAL_FIELDS)
    assert out["street"] == "12 main street"
    assert out["email"] == ["x@y.it", "z@y.it"]  # several values of a field that holds several
    assert m.apply({"address_1": "main street"}, CANONICAL_FIELDS)["street"] == "main street"
