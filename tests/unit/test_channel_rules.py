"""Channel rules for replies (backends/channels.py): each rule refuses, and each allows.

WhatsApp accepts free text only within 24 hours of the customer's last WhatsApp
message; an inbound message on another channel opens no WhatsApp window.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.channels import MAX_LENGTH, WHATSAPP_WINDOW, check_reply
from backends.models import Channel, Customer
from tests.conftest import NOW

WA = Channel.WHATSAPP


def rules(
    channel: Channel,
    body: str = "Buongiorno",
    *,
    ago: timedelta | None = timedelta(hours=1),
    contact_channel: Channel | None = None,
    customer: Customer | None = None,
    approved_template: bool = False,
) -> list[str]:
    problems = check_reply(
        channel,
        body,
        now=NOW,
        last_inbound_at=None if ago is None else NOW - ago,
        contact_channel=contact_channel or channel,
        customer=customer,
        approved_template=approved_template,
    )
    return [p.rule for p in problems]


def test_whatsapp_window_is_24_hours() -> None:
    assert WHATSAPP_WINDOW == timedelta(hours=24)


@pytest.mark.parametrize(
    "ago",
    [timedelta(minutes=1), timedelta(hours=23), timedelta(hours=23, minutes=59), WHATSAPP_WINDOW],
)
def test_whatsapp_free_text_inside_the_window_is_allowed(ago: timedelta) -> None:
    assert rules(WA, ago=ago) == []


@pytest.mark.parametrize(
    "ago", [WHATSAPP_WINDOW + timedelta(seconds=1), timedelta(hours=25), timedelta(days=9)]
)
def test_whatsapp_free_text_outside_the_window_is_refused(ago: timedelta) -> None:
    assert rules(WA, ago=ago) == ["whatsapp_window"]


def test_whatsapp_without_any_inbound_message_is_refused() -> None:
    assert rules(WA, ago=None) == ["whatsapp_window"]


def test_an_approved_template_may_be_sent_outside_the_window() -> None:
    assert rules(WA, ago=timedelta(hours=25), approved_template=True) == []
    assert rules(WA, ago=None, approved_template=True) == []


@pytest.mark.parametrize("other", [Channel.SMS, Channel.EMAIL, Channel.CHAT, Channel.PHONE])
def test_a_recent_message_on_another_channel_opens_no_whatsapp_window(other: Channel) -> None:
    customer = Customer(1, "Anna", "Neri", emails=("anna@libero.it",), phones=("+393471234567",))
    problems = rules(WA, ago=timedelta(minutes=5), contact_channel=other, customer=customer)
    assert problems == ["whatsapp_window"]
    # a template is fine there too
    assert rules(WA, contact_channel=other, customer=customer, approved_template=True) == []


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL, Channel.CHAT, Channel.PHONE])
def test_other_channels_have_no_time_window(channel: Channel) -> None:
    assert rules(channel, ago=timedelta(days=30)) == []
    assert rules(channel, ago=None) == []


@pytest.mark.parametrize("channel", list(Channel))
def test_each_channel_takes_exactly_its_length(channel: Channel) -> None:
    limit = MAX_LENGTH[channel]
    assert rules(channel, "x" * limit) == []
    problems = check_reply(
        channel,
        "x" * (limit + 1),
        now=NOW,
        last_inbound_at=NOW,
        contact_channel=channel,
    )
    assert [p.rule for p in problems] == ["length"]
    assert f"limited to {limit} characters" in problems[0].message
    assert f"this one has {limit + 1}" in problems[0].message
    assert channel.value in problems[0].message


def test_sms_limit_is_ten_segments() -> None:
    assert MAX_LENGTH[Channel.SMS] == 1600
    assert MAX_LENGTH[Channel.WHATSAPP] == 4096


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_an_empty_reply_is_refused(body: str) -> None:
    assert rules(Channel.EMAIL, body) == ["empty"]


def test_every_broken_rule_is_reported() -> None:
    assert rules(WA, " " * 4097, ago=None) == ["empty", "length", "whatsapp_window"]


def test_replying_on_another_channel_needs_an_address() -> None:
    nobody = Customer(1, "Anna", "Neri")
    reachable = Customer(2, "Anna", "Neri", emails=("anna@libero.it",), phones=("+393471234567",))
    on_chat = {"contact_channel": Channel.CHAT}
    assert rules(Channel.EMAIL, customer=nobody, **on_chat) == ["no_address"]  # type: ignore[arg-type]
    assert rules(Channel.EMAIL, customer=reachable, **on_chat) == []  # type: ignore[arg-type]
    for channel in (Channel.SMS, Channel.PHONE):
        assert rules(channel, customer=nobody, **on_chat) == ["no_address"]  # type: ignore[arg-type]
        assert rules(channel, customer=reachable, **on_chat) == []  # type: ignore[arg-type]
    # WhatsApp on a chat contact: no phone, and no WhatsApp window either
    assert rules(WA, customer=nobody, **on_chat) == ["whatsapp_window", "no_address"]  # type: ignore[arg-type]
    problems = check_reply(
        Channel.EMAIL,
        "Ciao",
        now=NOW,
        last_inbound_at=NOW,
        contact_channel=Channel.SMS,
        customer=Customer(1, "Anna", "Neri", phones=("+393471234567",)),
    )
    assert [p.message for p in problems] == ["the customer has no e-mail address"]
    problems = check_reply(
        Channel.SMS,
        "Ciao",
        now=NOW,
        last_inbound_at=NOW,
        contact_channel=Channel.EMAIL,
        customer=Customer(1, "Anna", "Neri", emails=("anna@libero.it",)),
    )
    assert [p.message for p in problems] == ["the customer has no phone number"]


@pytest.mark.parametrize("channel", [Channel.CHAT, Channel.WEB])
def test_chat_and_web_replies_only_answer_their_own_contacts(channel: Channel) -> None:
    reachable = Customer(2, "Anna", "Neri", emails=("anna@libero.it",), phones=("+393471234567",))
    problems = check_reply(
        channel,
        "Ciao",
        now=NOW,
        last_inbound_at=NOW,
        contact_channel=Channel.EMAIL,
        customer=reachable,
    )
    assert [p.message for p in problems] == [
        f"a {channel.value} reply can only answer a {channel.value} contact"
    ]
    assert rules(channel, customer=reachable) == []


def test_on_its_own_channel_the_customer_needs_no_address() -> None:
    nobody = Customer(1, "Anna", "Neri")
    for channel in Channel:
        assert rules(channel, customer=nobody) == [], channel


def test_what_each_refusal_says() -> None:
    """The messages the composer and the API show, and the rule names scripts read."""
    empty = check_reply(
        Channel.CHAT, " ", now=NOW, last_inbound_at=NOW, contact_channel=Channel.CHAT
    )
    assert [(p.rule, p.message) for p in empty] == [("empty", "the reply is empty")]
    # without saying otherwise, a reply is not an approved template
    window = check_reply(WA, "Ciao", now=NOW, last_inbound_at=None, contact_channel=WA)
    assert [(p.rule, p.message) for p in window] == [
        (
            "whatsapp_window",
            "outside WhatsApp's 24-hour window only an approved template may be sent",
        )
    ]
    web = check_reply(
        Channel.WEB,
        "Ciao",
        now=NOW,
        last_inbound_at=NOW,
        contact_channel=Channel.EMAIL,
        customer=Customer(1, "Anna", "Neri", emails=("anna@libero.it",)),
    )
    assert [(p.rule, p.message) for p in web] == [
        ("no_address", "a web reply can only answer a web contact")
    ]
