"""Channel rules for outgoing replies: one place, checked by the composer and enforced by backends.

The connectors that carry a reply out (SMTP today) live in the modules of
this package: `connector` (the interface), `smtp`, `config` and `dispatcher`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backends import templating
from backends.models import Channel, Customer, Template

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

#: check_reply's default for `whatsapp_inbound_at`: take the contact's own last inbound.
_FROM_CONTACT: Any = object()


def whatsapp_window_open(now: datetime, last_whatsapp_inbound: datetime | None) -> bool:
    """Whether free text may go out on WhatsApp: the customer wrote there within 24 hours."""
    return last_whatsapp_inbound is not None and now - last_whatsapp_inbound <= WHATSAPP_WINDOW


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
    template: Template | None = None,
    whatsapp_inbound_at: datetime | None = _FROM_CONTACT,
) -> list[RuleProblem]:
    """Every rule a reply breaks; empty when it may be sent.

    `approved_template`: the caller vouches that the body is an approved template
    (the composer, which knows the text was inserted unchanged). `template`: the
    template the reply names; outside the window its body must be that template
    with its variables filled, nothing else. `whatsapp_inbound_at`: when the
    customer last wrote on WhatsApp on any contact (default: the contact's last
    inbound, if the contact is a WhatsApp one); an SMS never opens the window.
    """
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
        inbound = whatsapp_inbound_at
        if inbound is _FROM_CONTACT:
            inbound = last_inbound_at if contact_channel is Channel.WHATSAPP else None
        if not whatsapp_window_open(now, inbound):
            if template is not None and template.whatsapp_approved:
                if not templating.matches(body, template.body):
                    problems.append(
                        RuleProblem(
                            "whatsapp_window",
                            "outside WhatsApp's 24-hour window the approved template "
                            f"{template.name!r} must be sent as it is, only its variables "
                            "filled; this text differs from it",
                        )
                    )
            else:
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
