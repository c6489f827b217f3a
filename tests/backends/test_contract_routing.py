"""Agents, capacity, presence, routing and intents through the contract, on every backend."""

from __future__ import annotations

import pytest

from backends.base import Backend, Conflict, Forbidden, InvalidInput, NotFound
from backends.models import Channel, ContactStatus, Presence, Priority, QueueQuery, Role
from tests.backends.conftest import BackendFactory

#: Rules whose intents no demo contact has, so only the test's own messages match them.
ZOO_RULES = """
away_after_minutes = 10
[intents]
zebra_question = ["zebra", "zebre"]
lion_question = ["lion", "leone"]
"""


def _zoo(make_backend: BackendFactory) -> Backend:
    admin = make_backend("admin")
    admin.set_routing_rules(ZOO_RULES)
    for name in ("giulia", "marco"):
        admin.edit_agent(name, intents=("zebra_question",), channels=(Channel.CHAT,))
    return admin


def _ask(admin: Backend, n: int, about: str = "zebra") -> int:
    got = admin.deliver_inbound(
        Channel.CHAT, f"+39 333 100 {n:04d}", f"Hello, where is my {about}?", external_id=f"z{n}"
    )
    return got.contact.id


def test_an_unknown_agent_is_refused_naming_the_known_ones(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    cid = admin.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
    with pytest.raises(NotFound, match="no agent named 'giula'.*giulia"):
        admin.assign(cid, "giula")
    with pytest.raises(NotFound, match="giulia"):
        admin.edit_agent("giula", display_name="Giula")
    assert "giula" not in {a.name for a in admin.agents()}


def test_an_admin_adds_edits_and_disables_agents(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    added = admin.add_agent(
        "paola",
        "Paola Riva",
        intents=("refund_status", "return_request"),
        languages=("it", "en"),
        channels=(Channel.EMAIL, Channel.CHAT),
        capacity={"chat": 2},
    )
    assert (added.display_name, added.role, added.intents, added.limits) == (
        "Paola Riva",
        Role.OPERATOR,
        ("refund_status", "return_request"),
        {"chat": 2},
    )
    with pytest.raises(Conflict):
        admin.add_agent("paola")
    moved = admin.edit_agent("paola", intents=("complaint",))
    assert moved.intents == ("complaint",) and moved.languages == ("en", "it")
    assert admin.disable_agent("paola").disabled
    assert "paola" not in {s.agent.name for s in admin.agent_states()}
    cid = admin.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
    with pytest.raises(InvalidInput, match="disabled"):
        admin.assign(cid, "paola")
    assert not admin.disable_agent("paola", disabled=False).disabled
    with pytest.raises(Forbidden):
        make_backend("giulia").add_agent("intruder")


def test_capacity_allows_one_below_and_refuses_at_the_limit(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    admin.edit_agent("giulia", capacity={"chat": 2})
    giulia = make_backend("giulia")
    waiting = admin.queue(QueueQuery(unassigned=True, channels=(Channel.CHAT,)), limit=3)
    first, second, third = (c.id for c in waiting.contacts)
    giulia.claim(first)
    assert giulia.claim(second).assignee == "giulia"  # one below the limit: allowed
    with pytest.raises(Conflict, match="at capacity on chat: holds 2 of 2"):
        giulia.claim(third)
    with pytest.raises(Conflict, match="at capacity"):
        admin.assign(third, "giulia")
    assert admin.get_contact(third).contact.assignee is None
    giulia.set_status(first, ContactStatus.RESOLVED)
    assert giulia.claim(third).assignee == "giulia"


def test_an_operator_marked_away_gets_nothing_new(make_backend: BackendFactory) -> None:
    admin = _zoo(make_backend)
    giulia, marco = make_backend("giulia"), make_backend("marco")
    giulia.set_presence(Presence.ONLINE)
    marco.set_presence(Presence.AWAY)
    assert admin.get_contact(_ask(admin, 1)).contact.assignee == "giulia"
    giulia.set_presence(Presence.AWAY)
    assert admin.get_contact(_ask(admin, 2)).contact.assignee is None
    states = {s.agent.name: s.presence for s in admin.agent_states()}
    assert (states["giulia"], states["marco"]) == (Presence.AWAY, Presence.AWAY)
    marco.set_presence(Presence.ONLINE)  # coming online offers what waits
    assert admin.get_contact(_ask(admin, 3)).contact.assignee == "marco"


def test_a_contact_goes_to_an_operator_with_its_skill(make_backend: BackendFactory) -> None:
    admin = _zoo(make_backend)
    admin.edit_agent("marco", intents=("lion_question",))
    for name in ("giulia", "marco"):
        make_backend(name).set_presence(Presence.ONLINE)
    lion = admin.get_contact(_ask(admin, 4, "lion")).contact
    zebra = admin.get_contact(_ask(admin, 5, "zebra")).contact
    assert (lion.intent, lion.assignee) == ("lion_question", "marco")
    assert (zebra.intent, zebra.assignee) == ("zebra_question", "giulia")
    admin.edit_agent("giulia", channels=(Channel.EMAIL,))  # no chat skill: nobody for zebras
    assert admin.get_contact(_ask(admin, 6)).contact.assignee is None


def test_the_operator_idle_longest_is_offered_first(make_backend: BackendFactory) -> None:
    admin = _zoo(make_backend)
    make_backend("giulia").set_presence(Presence.ONLINE)
    make_backend("marco").set_presence(Presence.ONLINE)
    first = admin.get_contact(_ask(admin, 7)).contact.assignee
    second = admin.get_contact(_ask(admin, 8)).contact.assignee
    third = admin.get_contact(_ask(admin, 9)).contact.assignee
    assert {first, second} == {"giulia", "marco"} and third == first


def test_intent_language_priority_and_sla_on_arrival(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    it = admin.deliver_inbound(
        Channel.EMAIL,
        "nuovo.cliente@libero.it",
        "Buongiorno, dov'è il mio ordine? Non è ancora arrivato.",
        external_id="it-1",
    ).contact
    en = admin.deliver_inbound(
        Channel.EMAIL,
        "new.customer@gmail.com",
        "Hello, I would like a refund for my order, I want my money back.",
        external_id="en-1",
    ).contact
    assert (it.intent, it.language, it.intent_source) == ("where_is_my_order", "it", "rules")
    assert (en.intent, en.language) == ("refund_status", "en")
    assert en.priority is Priority.NORMAL
    assert en.sla_due_at is not None and (en.sla_due_at - en.created_at).total_seconds() == 86400
    platinum = admin.search_customers("gmail", limit=100)
    vip = next(c for c in (admin.get_customer(h.id) for h in platinum) if c.tier == "platinum")
    mine = admin.deliver_inbound(
        Channel.EMAIL, vip.emails[0], "Il pagamento è stato rifiutato", external_id="vip-1"
    ).contact
    assert mine.created_at is not None and mine.sla_due_at is not None
    assert mine.priority is Priority.HIGH
    assert (mine.sla_due_at - mine.created_at).total_seconds() == 30 * 60
    guess = admin.classify("Hallo, wo ist meine Bestellung? Sie ist noch nicht da")
    assert guess.language == "de"


def test_an_intent_correction_is_training_data(make_backend: BackendFactory) -> None:
    giulia, admin = make_backend("giulia"), make_backend("admin")
    assert admin.intent_report() is None
    waiting = giulia.queue(QueueQuery(unassigned=True), limit=6).contacts
    for contact in waiting:
        fixed = giulia.set_intent(contact.id, "gift_wrap")
        assert (fixed.intent, fixed.intent_source) == ("gift_wrap", "agent")
    with pytest.raises(Forbidden):
        giulia.train_intents()
    report = admin.train_intents()
    scores = {s.intent: s for s in report.intents}
    assert scores["gift_wrap"].samples == 6 and scores["gift_wrap"].accuracy is not None
    assert report.samples >= 6 and 0 < report.accuracy <= 1
    assert admin.intent_report() == report
    assert admin.classify("I cannot log in to my account, password reset").source == "model"
