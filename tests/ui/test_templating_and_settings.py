"""Template variables and the settings files, without the UI."""

from __future__ import annotations

from datetime import UTC, datetime

from backends.models import (
    Agent,
    Channel,
    Contact,
    ContactStatus,
    Customer,
    CustomerFacts,
    Priority,
    Role,
)
from console.settings import Draft, Drafts, Settings
from console.widgets.side import templating

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_template_variables_fill_from_profile_facts_contact_agent() -> None:
    customer = Customer(id=1, first_name="Mario", last_name="Rossi")
    facts = CustomerFacts(customer_id=1, last_order_number="VS-1", last_order_status="shipped")
    contact = Contact(
        id=9,
        channel=Channel.EMAIL,
        customer_id=1,
        customer_name="Mario Rossi",
        subject="Where is it?",
        intent="wismo",
        priority=Priority.NORMAL,
        status=ContactStatus.OPEN,
        created_at=AT,
        updated_at=AT,
    )
    agent = Agent("demo", "Demo Operator", Role.OPERATOR)
    values = templating.variables(customer, facts, contact, agent)
    body = (
        "{first_name} {last_name}: {last_order.number} is {last_order.status}. "
        "{agent.name} re {contact.subject} {unknown}"
    )
    filled = templating.fill(body, values)
    assert filled == "Mario Rossi: VS-1 is shipped. Demo Operator re Where is it? {unknown}"
    assert templating.unresolved(filled) == ["unknown"]
    # no orders: the order variables stay, flagged
    bare = templating.variables(customer, CustomerFacts(customer_id=1), None, None)
    assert templating.unresolved(templating.fill(body, bare)) == [
        "last_order.number",
        "last_order.status",
        "agent.name",
        "contact.subject",
        "unknown",
    ]
    # the web journey: where the customer left a checkout, and what they looked at last
    left = CustomerFacts(
        customer_id=1,
        checkout_abandoned_at=AT,
        checkout_abandoned_step="payment",
        checkout_cart=("Tenda", "Zaino"),
        last_viewed="Borraccia",
    )
    journey = "{checkout.step}: {checkout.cart}; {last_viewed}"
    assert templating.fill(journey, templating.variables(customer, left, None, None)) == (
        "payment: Tenda, Zaino; Borraccia"
    )
    assert templating.unresolved(templating.fill(journey, bare)) == [
        "checkout.step",
        "checkout.cart",
        "last_viewed",
    ]


def test_settings_survive_a_broken_file_and_round_trip(tmp_path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    settings = Settings.load(path)
    assert settings.theme == "vista-dark" and settings.keys == {}
    settings.theme = "vista-light"
    settings.keys = {"workspace.claim": "C"}
    settings.save()
    again = Settings.load(path)
    assert again.theme == "vista-light" and again.keys == {"workspace.claim": "C"}


def test_drafts_are_kept_per_contact_and_empty_ones_forgotten(tmp_path) -> None:
    drafts = Drafts(tmp_path / "drafts.json")
    drafts.put(1, Draft(body="hello", channel="email"))
    drafts.put(2, Draft(body="   "))
    reread = Drafts(tmp_path / "drafts.json")
    assert reread.get(1) == Draft(body="hello", channel="email")
    assert reread.get(2) is None
    assert Drafts(tmp_path / "drafts.json", scope="other.db").get(1) is None
    reread.discard(1)
    assert Drafts(tmp_path / "drafts.json").get(1) is None


def test_a_broken_drafts_file_is_kept_aside_by_the_first_save(tmp_path) -> None:
    path = tmp_path / "drafts.json"
    path.write_bytes(b'{"s#1": {"body": "half a rep\xff')
    drafts = Drafts(path)
    assert "not UTF-8" in drafts.problem and drafts.get(1) is None
    assert path.read_bytes().startswith(b'{"s#1"')  # reading alone changes nothing
    drafts.put(2, Draft(body="new"))
    assert (tmp_path / "drafts.json.broken").read_bytes().startswith(b'{"s#1"')
    assert Drafts(path).get(2) == Draft(body="new") and Drafts(path).problem == ""
    drafts.put(3, Draft(body="more"))  # later saves do not touch the kept file again
    assert (tmp_path / "drafts.json.broken").read_bytes().startswith(b'{"s#1"')


def test_the_cli_warns_when_settings_cannot_be_read(tmp_path, monkeypatch, capsys) -> None:
    from console import settings as s

    broken = tmp_path / "settings.json"
    broken.write_text('{"default_backend": "sqlite:///x.db",', "utf-8")
    monkeypatch.setattr(s, "default_settings_path", lambda: broken)
    assert s.configured_backend() is None
    assert "vista: warning:" in capsys.readouterr().err and broken.exists()
