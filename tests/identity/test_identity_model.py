"""The Fellegi-Sunter match model: estimation on labelled pairs, phone types per country,
guards as evidence, and the links a person would expect (changed e-mail, a typo)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from backends.identity import normalise as n
from backends.identity.config import MatchConfig
from backends.identity.features import extract
from backends.identity.guards import Profile
from backends.identity.mapping import Mapping
from backends.identity.model import (
    COMPARISONS,
    DEFAULT_PRIOR,
    FIRST_DIFFERENT,
    MISSING,
    compare,
    default_model,
    gamma,
    made_of_names,
)
from backends.identity.training import expectation_maximisation, prior_floor, train
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store

MODEL = default_model()
LINK = 0.99


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


def test_phone_types_follow_each_countrys_numbering_plan() -> None:
    assert n.phone_type("+393471234567") == n.MOBILE  # IT
    assert n.phone_type("+39021234567") == n.LANDLINE
    assert n.phone_type("+447911123456") == n.MOBILE  # UK
    assert n.phone_type("+442079460958") == n.LANDLINE
    assert n.phone_type("+4915123456789") == n.MOBILE  # DE
    assert n.phone_type("+49301234567") == n.LANDLINE
    # NANP does not tell mobiles from landlines: personal unless many records share it
    assert n.phone_type("+12125550123") == n.PERSONAL_OR_FIXED


def test_a_records_features_keep_each_phones_type() -> None:
    it = extract({"first_name": "Mario", "mobile": "347 1234567", "phone": "02 1234567"}, "IT")
    us = extract({"first_name": "John", "phone": "(212) 555-0123"}, "US")
    assert it.phones == [("+393471234567", n.MOBILE), ("+39021234567", n.LANDLINE)]
    assert us.phones == [("+12125550123", n.PERSONAL_OR_FIXED)]
    stored = type(it).from_json(json.loads(json.dumps(it.to_json())))
    assert stored.phones == it.phones


def test_comparing_records_reads_the_kept_phone_types_not_the_numbering_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = rec(**MARIO)
    b = rec(**dict(MARIO, email="mr80@gmail.com"))

    def plan(_e164: str) -> str:
        raise AssertionError("phonenumbers read again for a pair")

    monkeypatch.setattr(n, "phone_type", plan)
    assert "same personal phone" in compare(MODEL, a, b).reason


def test_phones_stored_without_a_type_or_with_an_older_stores_kind_read_the_plan() -> None:
    # an older store kept "f" for landlines and for numbers the plan cannot tell (NANP)
    john = extract({"first_name": "John", "last_name": "Miller", "phone": "2125550123"}, "US")
    old = type(john).from_json(json.loads(json.dumps(john.to_json())))
    old.phones = [("+12125550123", "f")]
    assert "same personal phone" in compare(MODEL, old, old).reason
    old.phones = [("+12125550123", "")]
    assert "same personal phone" in compare(MODEL, old, old).reason
    land = rec(first_name="Mario", last_name="Rossi", phone="02 1234567")
    land.phones = [("+39021234567", "f")]
    assert "same landline" in compare(MODEL, land, land).reason


def test_a_us_phone_is_personal_unless_many_records_share_it() -> None:
    a = extract({"first_name": "John", "last_name": "Miller", "phone": "(212) 555-0123"}, "US")
    b = extract({"first_name": "John", "last_name": "Miller", "phone": "212.555.0123"}, "US")
    alone = compare(MODEL, a, b)
    shared = compare(MODEL, a, b, busy={"+12125550123"})
    assert "same personal phone" in alone.reason
    assert "same landline" in shared.reason
    assert alone.probability > shared.probability


def test_same_name_and_phone_with_a_changed_email_links() -> None:
    other = rec(first_name="Mario", last_name="Rossi", email="mr80@gmail.com", mobile="3471234567")
    m = compare(MODEL, rec(**MARIO), other)
    assert "different e-mails" in m.reason
    assert m.probability >= LINK


def test_a_one_letter_first_name_typo_links_when_the_rest_agrees() -> None:
    typo = dict(MARIO, first_name="Mairo")
    m = compare(MODEL, rec(**MARIO), rec(**typo))
    assert m.probability >= LINK
    assert "similar first name" in m.reason or "first name alike" in m.reason


def test_name_birth_date_and_address_link_with_one_field_off() -> None:
    base = {k: v for k, v in MARIO.items() if k not in ("email", "mobile")}
    moved = dict(base, street="Via Verdi 12", postal_code="20121")
    assert compare(MODEL, rec(**base), rec(**moved)).probability >= LINK
    typo_date = dict(base, birth_date="1980-03-17")
    assert compare(MODEL, rec(**base), rec(**typo_date)).probability >= LINK


def test_namesakes_with_different_birth_dates_do_not_link() -> None:
    a = rec(first_name="Mario", last_name="Rossi", birth_date="1980-01-01", email="a@libero.it")
    b = rec(first_name="Mario", last_name="Rossi", birth_date="1990-05-05", mobile="3471234567")
    assert compare(MODEL, a, b).probability < 0.5


def test_household_guard_weighs_on_both_sides() -> None:
    home = {"street": "Via Roma 5", "city": "Milano", "postal_code": "20100", "phone": "02 1234567"}
    anna = rec(first_name="Anna", last_name="Rossi", **home)
    luca = rec(first_name="Luca", last_name="Rossi", **home)
    m = compare(MODEL, anna, luca)
    assert "guard: household" in m.reason and m.probability < 0.5
    # the same first name at that home is no household context: same person
    anna2 = rec(first_name="Anna", last_name="Rossi", birth_date="1970-01-01", **home)
    anna1 = rec(first_name="Anna", last_name="Rossi", birth_date="1970-01-01", **home)
    same = compare(MODEL, anna1, anna2)
    assert "guard: household" not in same.reason and same.probability >= LINK


def test_twins_share_all_but_the_first_name_and_are_not_linked() -> None:
    home = {"street": "Via Roma 5", "city": "Milano", "postal_code": "20100"}
    a = rec(first_name="Marco", last_name="Bianchi", birth_date="2001-06-01", **home)
    b = rec(first_name="Luca", last_name="Bianchi", birth_date="2001-06-01", **home)
    m = compare(MODEL, a, b)
    assert "guard: twins" in m.reason and m.probability < LINK  # a person decides
    # with their own mobiles, still no link
    a2 = rec(
        first_name="Marco",
        last_name="Bianchi",
        birth_date="2001-06-01",
        mobile="3471111111",
        **home,
    )
    b2 = rec(
        first_name="Luca", last_name="Bianchi", birth_date="2001-06-01", mobile="3472222222", **home
    )
    assert compare(MODEL, a2, b2).probability < LINK


def test_namesakes_guard_weighs_on_both_sides() -> None:
    home = {"street": "Via Manzoni 60", "city": "Milano", "postal_code": "20136"}
    a = rec(first_name="Marco", last_name="Zanella", **home)
    b = rec(first_name="Marco", last_name="Zanella", **home)
    assert compare(MODEL, a, b).probability >= LINK
    guarded = compare(MODEL, a, b, namesakes=True)  # untrained: at best one of the two
    assert "guard: namesakes" in guarded.reason and guarded.probability == 0.5
    # as likely as the data shows one name at one home to be one person: learnt evidence of
    # 4 bits (two people 16 times as often as one) leaves 1 in 17, not a suggestion
    learnt = default_model()
    learnt.version = 1
    learnt.guards["namesakes"] = 4.0
    assert compare(learnt, a, b, namesakes=True).probability == 1 / 17
    # no evidence either way: at best one of the two, a suggestion for a person
    learnt.guards["namesakes"] = 0.0
    assert compare(learnt, a, b, namesakes=True).probability == 0.5
    # something only one person has agrees: the guard does not apply
    same_date = dict(home, birth_date="1970-01-02")
    a2 = rec(first_name="Marco", last_name="Zanella", **same_date)
    b2 = rec(first_name="Marco", last_name="Zanella", **same_date)
    assert compare(learnt, a2, b2, namesakes=True).probability >= LINK


def test_a_rare_surname_weighs_more_than_a_common_one() -> None:
    model = default_model()
    model.tf = {"last_name": {"rossi": 0.02, "zanardelli": 0.00001}}
    common = compare(
        model, rec(first_name="Anna", last_name="Rossi"), rec(first_name="Anna", last_name="Rossi")
    )
    rare = compare(
        model,
        rec(first_name="Anna", last_name="Zanardelli"),
        rec(first_name="Anna", last_name="Zanardelli"),
    )
    assert rare.weight > common.weight + 5


def test_swapped_first_and_last_names_are_a_level_of_their_own() -> None:
    g = gamma(
        rec(first_name="Mario", last_name="Rossi"), rec(first_name="Rossi", last_name="Mario")
    )
    assert g[0] == 4 and g[1] == MISSING


def _labelled(rng: random.Random, true_m: list[float], true_u: list[float], n: int, share: float):
    """Patterns of one 2-level comparison per field, drawn from known m and u."""
    out = []
    for _ in range(n):
        match = rng.random() < share
        probs = true_m if match else true_u
        g = [MISSING] * len(COMPARISONS)
        for i, name in enumerate(("first_name", "last_name", "birth_date", "email")):
            levels = len(MODEL.levels[name])
            agree = rng.random() < probs[i]
            g[COMPARISONS.index(name)] = 0 if agree else levels - 1
        out.append(tuple(g))
    return out


def test_em_recovers_m_near_the_truth_and_weights_have_the_right_sign() -> None:
    from collections import Counter

    rng = random.Random(7)
    true_m = [0.9, 0.85, 0.8, 0.7]
    true_u = [0.02, 0.01, 0.001, 0.0005]
    blocked = _labelled(rng, true_m, true_u, 20_000, 0.3)
    levels = dict(MODEL.levels)
    # u as estimated from random pairs (nearly all non-matches)
    randoms = _labelled(rng, true_m, true_u, 50_000, 0.0)
    trained = train(default_model(), randoms, blocked, 100_000, 20_000)
    got, share = expectation_maximisation(trained.levels, Counter(blocked), 0.5)
    for i, name in enumerate(("first_name", "last_name", "birth_date", "email")):
        assert abs(got[name][0].m - true_m[i]) < 0.05, name
        assert got[name][0].weight > 0 > got[name][-1].weight
    assert abs(share - 0.3) < 0.03
    assert levels  # the defaults are untouched by training
    assert MODEL.levels["email"][0].m == default_model().levels["email"][0].m


def test_the_prior_falls_with_the_store_but_never_below_one_match_per_record() -> None:
    # up to 100,000 records the floor is the default; past it, one match per record
    assert prior_floor(1_000) == prior_floor(100_001) == DEFAULT_PRIOR
    assert prior_floor(1_000_001) == pytest.approx(1e-6)
    rng = random.Random(7)
    randoms = _labelled(rng, [0.9, 0.85, 0.8, 0.7], [0.02, 0.01, 0.001, 0.0005], 20_000, 0.0)
    # a file of distinct people (few matches among the candidates): the floor holds
    distinct = _labelled(rng, [0.9, 0.85, 0.8, 0.7], [0.02, 0.01, 0.001, 0.0005], 2_000, 0.01)
    small = train(default_model(), randoms, distinct, 5_000, 1_000)
    large = train(default_model(), randoms, distinct, 1_000_000, 1_000)
    assert small.prior == DEFAULT_PRIOR
    assert large.prior == pytest.approx(1 / 999_999)
    # many matches: the estimate, above the floor, whatever the size
    dupes = _labelled(rng, [0.9, 0.85, 0.8, 0.7], [0.02, 0.01, 0.001, 0.0005], 2_000, 0.5)
    assert train(default_model(), randoms, dupes, 5_000, 1_000).prior > 1e-4


def test_an_email_user_name_spelt_from_the_names_adds_nothing_to_them() -> None:
    home = {"street": "Corso Italia 94", "city": "Torino", "postal_code": "10188"}
    a = rec(first_name="Carlotta", last_name="Carli", email="carlotta.carli@yahoo.it", **home)
    b = rec(first_name="Carlotta", last_name="Carli", email="carlotta.carli@alice.it", **home)
    assert made_of_names("carlotta.carli", a) and made_of_names("ccarli", a)
    assert "other domain" not in compare(MODEL, a, b).reason
    # a user name of its own (digits, a nickname) at another provider is still evidence
    c = rec(first_name="Carlotta", last_name="Carli", email="carlotta.carli80@yahoo.it", **home)
    d = rec(first_name="Carlotta", last_name="Carli", email="carlotta.carli80@alice.it", **home)
    assert not made_of_names("carlotta.carli80", c) and not made_of_names("bigcat", c)
    assert "same e-mail user, other domain" in compare(MODEL, c, d).reason
    assert compare(MODEL, c, d).weight > compare(MODEL, a, b).weight


def _import(path: Path, source: str, rows: list[dict[str, str]], store: Store) -> None:
    f = path / f"{source}.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    run_import(store, f, ImportOptions(source, batch_size=1))


def test_a_customer_grown_large_takes_suggestions_not_links(tmp_path: Path) -> None:
    store = Store(tmp_path / "v.db", create=True)
    rows = [
        {"id": str(i), "first_name": "Mario", "last_name": "Rossi", "email": "m@libero.it"}
        for i in range(5)
    ]
    f = tmp_path / "crm.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    run_import(store, f, ImportOptions("crm", mapping=Mapping(identity={"review_size": 3})))
    owners = [r[0] for r in store.conn.execute("SELECT customer_id FROM source_records")]
    reasons = [r[0] for r in store.conn.execute("SELECT reason FROM identity_suggestions")]
    store.close()
    assert owners.count(owners[0]) == 3  # no more than review_size records joined
    assert any("(review)" in r for r in reasons)


def test_model_is_stored_trained_and_shown(tmp_path: Path) -> None:
    rng = random.Random(3)
    firsts = ["Mario", "Anna", "Luca", "Giulia", "Marco", "Sara", "Paolo", "Elena"]
    lasts = ["Rossi", "Bianchi", "Verdi", "Neri", "Gallo", "Costa", "Fontana", "Greco"]
    people = [
        {
            "first_name": rng.choice(firsts),
            "last_name": rng.choice(lasts) + rng.choice(["", "i", "o", "a"]),
            "email": f"p{i}@example.it",
            "birth_date": f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "mobile": f"347{rng.randint(1000000, 9999999)}",
        }
        for i in range(900)
    ]
    crm = [dict(p, id=f"C{i}") for i, p in enumerate(people)]
    shop = [dict(p, id=f"W{i}", email=f"new{i}@example.it") for i, p in enumerate(people[:800])]
    store = Store(tmp_path / "v.db", create=True)
    _import(tmp_path, "crm", crm, store)
    store.close()
    with SQLiteBackend(tmp_path / "v.db") as b:
        before = b.identity_model()
        assert before.version == 0
        trained = b.train_identity_model()
        assert trained.version == 1 and trained.records == 900
        shown = b.identity_model()
        assert shown.version == 1
        exact = {(lv.comparison, lv.level): lv.weight for lv in shown.levels}
        assert exact[("first_name", "exact")] > 0 > exact[("first_name", "different")]
    store = Store(tmp_path / "v.db")
    _import(tmp_path, "webshop", shop, store)
    linked = store.conn.execute(
        "SELECT count(*) FROM source_records w JOIN source_records c "
        "ON c.source = 'crm' AND w.source = 'webshop' AND c.source_id = 'C' || substr(w.source_id, 2) "
        "AND c.customer_id = w.customer_id"
    ).fetchone()[0]
    store.close()
    assert linked >= 790  # changed e-mails, same name, birth date and mobile: linked


def test_a_record_joins_a_customer_only_if_it_holds_against_all_its_records(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "v.db", create=True)
    home = {"street": "Via Verdi 3", "city": "Torino", "postal_code": "10121"}
    sara = {"first_name": "Sara", "last_name": "Esposito", "mobile": "3331234567"}
    _import(
        tmp_path,
        "crm",
        [
            {"id": "A", **sara, **home, "email": "se@tiscali.it", "loyalty_card": "L1"},
            {"id": "B", **sara, "email": "sara@libero.it"},
        ],
        store,
    )
    # B's e-mail and a near surname, but against A: another card, e-mail, address
    other = {"first_name": "Sara", "last_name": "Espinosa", "email": "sara@libero.it"}
    _import(
        tmp_path,
        "webshop",
        [{"id": "C", **other, "loyalty_card": "L2", "street": "Via Po 9", "city": "Roma"}],
        store,
    )
    owners = dict(store.conn.execute("SELECT source_id, customer_id FROM source_records"))
    reasons = [r[0] for r in store.conn.execute("SELECT reason FROM identity_suggestions")]
    store.close()
    assert owners["A"] == owners["B"]
    assert owners["C"] != owners["A"]
    assert any("against the records" in r for r in reasons)


def test_a_record_with_the_names_swapped_joins_the_customer_a_new_first_name_does_not() -> None:
    cfg = MatchConfig()
    customer = Profile()
    customer.add(rec(first_name="Madeleine", last_name="Paterson", birth_date="1980-03-07"))
    swapped = rec(first_name="Paterson", last_name="Madeleine", birth_date="1980-03-07")
    assert customer.clash(swapped, cfg) == ""
    customer.add(swapped)
    assert customer.firsts == {"madeleine"}  # the swap adds no first name
    other = rec(first_name="Paterson", last_name="Rossi", birth_date="1980-03-07")
    assert customer.clash(other, cfg) == "a different first name"


def test_a_shared_loyalty_card_with_the_birth_date_vouches_a_pair_a_phone_does_not() -> None:
    a = rec(first_name="Helena", last_name="Ebert", birth_date="1971-03-27", loyalty_card="251")
    b = rec(first_name="Sidonie", last_name="Ebert", birth_date="1971-03-27", loyalty_card="251")
    assert compare(MODEL, a, b).vouched
    phone = {"last_name": "Ebert", "birth_date": "1971-03-27", "mobile": "347 1234567"}
    c, d = rec(first_name="Helena", **phone), rec(first_name="Sidonie", **phone)
    assert not compare(MODEL, c, d).vouched  # a phone a household may share
    browser = {"last_name": "Ebert", "birth_date": "1971-03-27", "visitor_id": "v-9"}
    g, h = rec(first_name="Helena", **browser), rec(first_name="Sidonie", **browser)
    assert not compare(MODEL, g, h).vouched  # so may a browser
    mail = {"first_name": "Helena", "last_name": "Ebert", "email": "ebert@home.com"}
    dated = rec(**mail, birth_date="1971-03-27")
    assert compare(MODEL, dated, rec(**mail, birth_date="1971-03-27")).vouched
    assert not compare(MODEL, rec(**mail), dated).vouched  # the name alone: a Jr. and a Sr.
    parent = rec(**mail, birth_date="1951-03-27")
    child = rec(**mail, birth_date="1979-11-02")
    assert not compare(MODEL, parent, child).vouched  # one name, one mailbox, two birth dates
    e = rec(first_name="Helena", last_name="Ebert", birth_date="1950-01-01", loyalty_card="251")
    f = rec(first_name="Sidonie", last_name="Ebert", birth_date="1980-01-01", loyalty_card="251")
    assert not compare(MODEL, e, f).vouched  # the birth dates differ


def test_a_vouched_record_joins_a_customer_of_another_first_name(tmp_path: Path) -> None:
    base = {"last_name": "Ebert", "birth_date": "1971-03-27"}
    rows = [
        dict(base, id="A", first_name="Helena", loyalty_card="2510937"),
        dict(base, id="B", first_name="Sidonie", loyalty_card="2510937"),
        dict(base, id="C", first_name="Helena", loyalty_card="7166687"),
        dict(base, id="D", first_name="Joshua", loyalty_card="7166687"),
        dict(base, id="E", first_name="Anna", street="Via Po 1", city="Torino"),
        dict(base, id="F", first_name="Marta", street="Via Po 1", city="Torino"),
    ]
    store = Store(tmp_path / "v.db", create=True)
    _import(tmp_path, "crm", rows, store)
    owners = dict(store.conn.execute("SELECT source_id, customer_id FROM source_records"))
    store.close()
    assert owners["A"] == owners["B"] and owners["C"] == owners["D"]  # one card, one person
    assert owners["E"] != owners["F"]  # same surname, birth date and home: twins stay apart


def test_names_swapped_with_a_typo_are_still_a_swap_other_names_are_not() -> None:
    a = rec(first_name="Jacob", last_name="Kopievsky", birth_date="1947-05-30")
    b = rec(first_name="Kopievski", last_name="Jacob", birth_date="1947-05-30")
    assert gamma(a, b)[:2] == [4, MISSING]
    assert "names swapped" in compare(MODEL, a, b).reason
    c = rec(first_name="Kowalski", last_name="Jasmine", birth_date="1947-05-30")
    assert gamma(a, c)[:2] == [FIRST_DIFFERENT, 3]  # neither name reads as the other's
    customer = Profile()
    customer.add(a)
    assert customer.clash(b, MatchConfig()) == ""
    assert customer.clash(c, MatchConfig()) == "a different first name"


def test_records_of_one_birth_date_are_compared_whatever_their_names() -> None:
    a = rec(first_name="Jacob", last_name="Kopievsky", birth_date="1947-05-30", postal_code="20136")
    b = rec(first_name="Kopjevsky", last_name="Jakob", birth_date="1947-05-30", postal_code="20137")
    c = rec(first_name="Kopjevsky", last_name="Jakob", birth_date="1947-05-31", postal_code="20137")
    assert set(a.block_keys()) & set(b.block_keys())
    assert not set(a.block_keys()) & set(c.block_keys())
