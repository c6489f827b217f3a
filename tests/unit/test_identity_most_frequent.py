"""Survivorship's `most_frequent`: names are counted case-insensitively, ties go to the
source priority and then to the newest record; other policies on both sides of their rule.
"""

from __future__ import annotations

from backends.identity.config import MatchConfig, apply_config
from backends.identity.features import extract
from backends.identity.survivorship import Member, golden


def member(rid: int, source: str, at: int, **fields: str) -> Member:
    return Member(rid, source, f"{source}-{rid}", at, extract(fields, "IT"))


def test_names_spelt_in_different_case_count_as_one_family() -> None:
    # Rossi is the newest and comes from the first source; DeLuca is written twice
    members = [
        member(1, "crm", 300, first_name="Anna", last_name="Rossi"),
        member(2, "webshop", 100, first_name="Anna", last_name="DeLuca"),
        member(3, "helpdesk", 200, first_name="Anna", last_name="Deluca"),
    ]
    values, prov = golden(members, MatchConfig())
    assert values["last_name"].lower() == "deluca"
    assert prov["last_name"]["losers"] == ["Rossi"]  # Deluca is the same name, not a loser


def test_the_most_frequent_name_wins_over_source_priority_and_recency() -> None:
    members = [
        member(1, "crm", 900, first_name="Maria", last_name="Bianchi"),
        member(2, "webshop", 100, first_name="MARTA", last_name="Bianchi"),
        member(3, "helpdesk", 200, first_name="marta", last_name="Bianchi"),
    ]
    values, prov = golden(members, MatchConfig())
    assert values["first_name"].lower() == "marta"
    assert prov["first_name"]["losers"] == ["Maria"]
    assert prov["last_name"]["losers"] == []


def test_a_tie_in_frequency_goes_to_the_preferred_source_then_the_newest() -> None:
    cfg = MatchConfig()
    first, second = cfg.source_priority[0], cfg.source_priority[1]
    members = [
        member(1, second, 900, first_name="Luca", last_name="Verdi"),
        member(2, first, 100, first_name="Luigi", last_name="Verdi"),
    ]
    values, prov = golden(members, cfg)
    assert values["first_name"] == "Luigi" and prov["first_name"]["source"] == first
    # same source: the newest record wins
    members = [
        member(1, first, 100, first_name="Luca", last_name="Verdi"),
        member(2, first, 900, first_name="Luigi", last_name="Verdi"),
    ]
    values, prov = golden(members, cfg)
    assert values["first_name"] == "Luigi" and prov["first_name"]["record_id"] == 2
    # same source and time: the later record
    members = [
        member(5, first, 100, first_name="Luca", last_name="Verdi"),
        member(4, first, 100, first_name="Luigi", last_name="Verdi"),
    ]
    values, prov = golden(members, cfg)
    assert values["first_name"] == "Luca" and prov["first_name"]["record_id"] == 5


def test_most_recent_first_non_empty_and_source_priority_choose_differently() -> None:
    members = [
        member(1, "helpdesk", 100, first_name="Anna", last_name="Neri", language="it"),
        member(2, "crm", 150, first_name="Anna", last_name="Neri", language="en"),
        member(3, "webshop", 200, first_name="Anna", last_name="Neri", language="de"),
    ]
    # source priority is crm, webshop, helpdesk: each policy picks another value
    for policy, expected in (
        ("most_recent", "de"),
        ("first_non_empty", "it"),
        ("source_priority", "en"),
    ):
        cfg = apply_config(MatchConfig(), {"policies": {"language": policy}})
        values, prov = golden(members, cfg)
        assert values["language"] == expected, policy
        assert len(prov["language"]["losers"]) == 2


def test_an_empty_value_never_wins() -> None:
    members = [
        member(1, "crm", 900, first_name="Anna", last_name=""),
        member(2, "webshop", 100, first_name="anna", last_name="Neri"),
    ]
    values, prov = golden(members, MatchConfig())
    assert values["last_name"] == "Neri" and prov["last_name"]["source"] == "webshop"
    assert values["birth_date"] is None and "birth_date" not in prov


def test_an_agents_correction_survives_recomputation() -> None:
    members = [
        member(1, "crm", 300, first_name="Anna", last_name="Neri"),
        member(2, "webshop", 100, first_name="Anna", last_name="Neri"),
    ]
    corrected = {"last_name": {"source": "agent:giulia", "at": 400, "losers": ["Neri"]}}
    values, prov = golden(members, MatchConfig(), corrected, {"last_name": "Neri-Bassi"})
    assert values["last_name"] == "Neri-Bassi" and prov["last_name"]["source"] == "agent:giulia"
    # a source's provenance is not a correction
    by_source = {"last_name": {"source": "crm", "at": 300, "losers": []}}
    values, _prov = golden(members, MatchConfig(), by_source, {"last_name": "Neri-Bassi"})
    assert values["last_name"] == "Neri"
    # the same for a customer of one record
    values, prov = golden(members[:1], MatchConfig(), corrected, {"last_name": "Neri-Bassi"})
    assert values["last_name"] == "Neri-Bassi"


def test_addresses_are_told_apart_by_street_and_postcode() -> None:
    members = [
        member(1, "crm", 100, street="Via Roma 5", city="Milano", postal_code="20100"),
        member(2, "webshop", 200, street="V. Roma, 5", city="Milano", postal_code="20100"),
        member(3, "helpdesk", 300, street="Via Po 1", city="Milano", postal_code="20100"),
        member(4, "crm", 400, street="Via Roma 5", city="Torino", postal_code="10100"),
    ]
    values, prov = golden(members, MatchConfig())
    shown = [(a["street"], a["postal_code"], a["source"]) for a in values["addresses"]]
    # newest first; the two spellings of Via Roma 5 in Milan are one address, in its newest form
    assert shown == [
        ("Via Roma 5", "10100", "crm"),
        ("Via Po 1", "20100", "helpdesk"),
        ("V. Roma, 5", "20100", "webshop"),
    ]
    assert prov["addresses"]["source"] == "crm" and prov["addresses"]["record_id"] == 4


ANNA = {
    "first_name": "Anna",
    "last_name": "Neri",
    "email": "Anna.Neri@Libero.it; a.neri@gmail.com",
    "mobile": "347 1234567",
    "street": "Via Roma 5",
    "city": "Milano",
    "postal_code": "20100",
    "language": "it",
}
PROV = {"source": "crm", "source_id": "crm-7", "record_id": 7, "at": 500, "losers": []}


def test_a_customer_of_one_record_takes_every_value_from_it() -> None:
    values, prov = golden([member(7, "crm", 500, **ANNA)], MatchConfig())
    assert values == {
        "first_name": "Anna",
        "last_name": "Neri",
        "birth_date": None,
        "language": "it",
        "tier": "",
        "segment": "",
        # e-mails as the customer wrote them (Gmail's dots kept for display)
        "emails": ["anna.neri@libero.it", "a.neri@gmail.com"],
        "phones": ["+393471234567"],
        "addresses": [
            {
                "street": "Via Roma 5",
                "city": "Milano",
                "region": "",
                "postal_code": "20100",
                "country": "",
                "source": "crm",
            }
        ],
    }
    assert prov == {
        "first_name": PROV,
        "last_name": PROV,
        "language": PROV,
        "emails": {
            **PROV,
            "values": {"a.neri@gmail.com": "crm", "anna.neri@libero.it": "crm"},
        },
        "phones": {**PROV, "values": {"+393471234567": "crm"}},
        "addresses": PROV,
    }


def test_a_customer_of_one_record_follows_the_configured_policies() -> None:
    cfg = apply_config(MatchConfig(), {"policies": {"emails": "most_recent", "addresses": "all"}})
    values, prov = golden([member(7, "crm", 500, **ANNA)], cfg)
    assert values["emails"] == ["anna.neri@libero.it", "a.neri@gmail.com"]
    assert prov["emails"] == {**PROV, "losers": ["a.neri@gmail.com"]}
    assert prov["addresses"] == {**PROV, "values": {"('via roma 5', '20100')": "crm"}}


def test_a_customer_of_one_record_without_values_has_empty_fields() -> None:
    values, prov = golden([member(7, "crm", 500, first_name="Anna")], MatchConfig())
    assert values == {
        "first_name": "Anna",
        "last_name": "",
        "birth_date": None,
        "language": "",
        "tier": "",
        "segment": "",
        "emails": [],
        "phones": [],
        "addresses": [],
    }
    assert prov == {"first_name": PROV}


def test_source_priority_ties_go_to_the_newest_record() -> None:
    members = [
        member(1, "crm", 100, first_name="Anna", birth_date="1980-01-01"),
        member(2, "crm", 300, first_name="Anna", birth_date="1980-01-02"),
        member(3, "crm", 200, first_name="Anna", birth_date="1980-01-03"),
        member(4, "webshop", 900, first_name="Anna", birth_date="1980-01-04"),
    ]
    values, prov = golden(members, MatchConfig())  # birth dates: source priority
    assert values["birth_date"] == "1980-01-02" and prov["birth_date"]["record_id"] == 2
    # same source and time: the higher record id
    members = [
        member(5, "crm", 100, first_name="Anna", birth_date="1980-01-05"),
        member(6, "crm", 100, first_name="Anna", birth_date="1980-01-06"),
    ]
    values, _prov = golden(members, MatchConfig())
    assert values["birth_date"] == "1980-01-06"


def _emails(policy: str, members: list[Member]) -> tuple[list[str], dict[str, object]]:
    values, prov = golden(members, apply_config(MatchConfig(), {"policies": {"emails": policy}}))
    return values["emails"], prov["emails"]


LISTS = [
    member(1, "helpdesk", 100, email="old@libero.it; shared@libero.it"),
    member(2, "webshop", 200, email="shared@libero.it"),
    member(3, "crm", 150, email="crm@libero.it"),
    member(4, "helpdesk", 300, email="new@libero.it"),
]


def test_each_list_policy_puts_its_own_winner_first_then_the_newest() -> None:
    expected = {
        "most_recent": (["new@libero.it", "shared@libero.it", "crm@libero.it", "old@libero.it"], 4),
        "all": (["new@libero.it", "shared@libero.it", "crm@libero.it", "old@libero.it"], 4),
        # twice, from webshop (ranked before helpdesk)
        "most_frequent": (
            ["shared@libero.it", "new@libero.it", "crm@libero.it", "old@libero.it"],
            2,
        ),
        "source_priority": (
            ["crm@libero.it", "new@libero.it", "shared@libero.it", "old@libero.it"],
            3,
        ),
        "first_non_empty": (
            ["old@libero.it", "new@libero.it", "shared@libero.it", "crm@libero.it"],
            1,
        ),
    }
    for policy, (emails, record_id) in expected.items():
        got, prov = _emails(policy, LISTS)
        assert got == emails, policy
        winner = next(m for m in LISTS if m.record_id == record_id)
        assert prov["source"] == winner.source and prov["record_id"] == record_id, policy
        assert prov["source_id"] == winner.source_id and prov["at"] == winner.at, policy
        # a single-value policy lists the rest as losers; "all" keeps them all
        assert prov["losers"] == ([] if policy == "all" else emails[1:]), policy
    _got, prov = _emails("all", LISTS)
    assert prov["values"] == {
        "old@libero.it": "helpdesk",
        "shared@libero.it": "helpdesk",
        "crm@libero.it": "crm",
        "new@libero.it": "helpdesk",
    }


def test_list_ties_go_to_the_preferred_source_then_the_newest_then_the_higher_id() -> None:
    by_source = [
        member(1, "helpdesk", 900, email="h@libero.it"),
        member(2, "webshop", 100, email="w@libero.it"),
    ]
    assert _emails("most_frequent", by_source)[0][0] == "w@libero.it"
    by_time = [
        member(1, "webshop", 100, email="a@libero.it"),
        member(2, "webshop", 300, email="b@libero.it"),
        member(3, "webshop", 200, email="c@libero.it"),
    ]
    assert _emails("most_frequent", by_time)[0][0] == "b@libero.it"
    assert _emails("source_priority", by_time)[0][0] == "b@libero.it"
    by_id = [
        member(5, "webshop", 100, email="a@libero.it"),
        member(6, "webshop", 100, email="b@libero.it"),
    ]
    assert _emails("most_frequent", by_id)[0][0] == "b@libero.it"
    assert _emails("source_priority", by_id)[0][0] == "b@libero.it"
    assert _emails("first_non_empty", by_id)[0][0] == "a@libero.it"


def test_fields_without_a_policy_keep_the_newest_value_and_every_list_value() -> None:
    members = [
        member(1, "crm", 100, first_name="Anna", birth_date="1980-01-01", email="a@libero.it"),
        member(2, "webshop", 200, first_name="Annalisa", birth_date="1980-01-02", email="b@x.it"),
    ]
    values, prov = golden(members, MatchConfig(policies={}))
    assert values["first_name"] == "Annalisa" and values["birth_date"] == "1980-01-02"
    assert values["emails"] == ["b@x.it", "a@libero.it"] and prov["emails"]["losers"] == []


def test_most_frequent_works_on_any_field() -> None:
    cfg = apply_config(MatchConfig(), {"policies": {"tier": "most_frequent"}})
    members = [
        member(1, "crm", 900, first_name="Anna", tier="platinum"),
        member(2, "webshop", 100, first_name="Anna", tier="gold"),
        member(3, "helpdesk", 200, first_name="Anna", tier="gold"),
    ]
    values, prov = golden(members, cfg)
    assert values["tier"] == "gold" and prov["tier"]["losers"] == ["platinum"]


def test_a_customer_of_one_record_without_policies_keeps_every_list_value() -> None:
    values, prov = golden([member(7, "crm", 500, **ANNA)], MatchConfig(policies={}))
    assert values["emails"] == ["anna.neri@libero.it", "a.neri@gmail.com"]
    assert prov["emails"]["losers"] == [] and "values" in prov["emails"]
