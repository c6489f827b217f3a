"""Channel rules for outgoing replies: one place, checked by the composer and enforced by backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backends.models import Channel, Customer

#: Longest body each channel accepts, in characters.
MAX_LENGTH: dict[Channel, int] = {
    Channel.SMS: 1600,  # ten concatenated segments
    Channel.WHATSAPP: 4096,
    Channel.CHAT: 5000,
    Channel.EMAIL: 100_000,
    Channel.PHONE: 5000,  # call notes / follow-up summaries
    Channel.WEB: 5000,
}

#: Outside this window since the customer's last inbound message, WhatsApp
#: accepts only approved templates.
WHATSAPP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class RuleProblem:
    rule: str  # length, whatsapp_window, no_address, empty
    message: str


def check_reply(
    channel: Channel,
    body: str,
    *,
    now: datetime,
    last_inbound_at: datetime | None,
    contact_channel: Channel,
    customer: Customer | None = None,
    approved_template: bool = False,
) -> list[RuleProblem]:
    """Every rule a reply breaks; empty when it may be sent."""
    problems: list[RuleProblem] = []
    if not body.strip():
        problems.append(RuleProblem("empty", "the reply is empty"))
    limit = MAX_LENGTH.get(channel)
    if limit is not None and len(body) > limit:
        problems.append(
            RuleProblem(
                "length",
                f"{channel.value} replies are limited to {limit} characters "
                f"(this one has {len(body)})",
            )
        )
    if channel is Channel.WHATSAPP and not approved_template:
        inbound = last_inbound_at if contact_channel is Channel.WHATSAPP else None
        if inbound is None or now - inbound > WHATSAPP_WINDOW:
            problems.append(
                RuleProblem(
                    "whatsapp_window",
                    "outside WhatsApp's 24-hour window only an approved template may be sent",
                )
            )
    if customer is not None and channel is not contact_channel:
        if channel is Channel.EMAIL and not customer.emails:
            problems.append(RuleProblem("no_address", "the customer has no e-mail address"))
        if channel in (Channel.SMS, Channel.WHATSAPP, Channel.PHONE) and not customer.phones:
            problems.append(RuleProblem("no_address", "the customer has no phone number"))
        if channel in (Channel.CHAT, Channel.WEB):
            problems.append(
                RuleProblem(
                    "no_address",
                    f"a {channel.value} reply can only answer a {channel.value} contact",
                )
            )
    return problems
