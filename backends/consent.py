"""Consent to be contacted, per channel: what a customer agreed to, and the rule every send
path enforces (the backend's reply, the dispatcher before sending).

A message is a reply when the customer wrote on that contact, on that channel, within the
channel's window; anything else (a first message, a follow-up after the window, a message
on another channel) is proactive and needs the customer's consent on that channel.
Channels without a consent (chat, web) only ever answer the customer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from backends import provenance as provenance_text
from backends.models import Channel, Consent

#: The channels a customer consents to, in display order.
CONSENT_CHANNELS: tuple[Channel, ...] = (
    Channel.EMAIL,
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.PHONE,
)

#: How long after the customer's own message on a contact an answer on that channel is a
#: reply (allowed without consent): WhatsApp's customer-service window is 24 hours; an SMS
#: conversation is answered within a day; an e-mail thread stays a reply for 30 days; a
#: call-back for 7 days.
REPLY_WINDOW: dict[Channel, timedelta] = {
    Channel.EMAIL: timedelta(days=30),
    Channel.SMS: timedelta(hours=24),
    Channel.WHATSAPP: timedelta(hours=24),
    Channel.PHONE: timedelta(days=7),
}

_YES = frozenset({"yes", "y", "true", "1", "on", "granted", "opt-in", "optin", "si", "ja", "x"})
_NO = frozenset({"no", "n", "false", "0", "off", "revoked", "opt-out", "optout", "nein", ""})

#: The imported field of each channel's consent (and `consent_at`: when it was given).
CONSENT_FIELDS: dict[str, Channel] = {f"consent_{c.value}": c for c in CONSENT_CHANNELS}


def parse_consent(raw: Any) -> bool | None:
    """A consent value as a source writes it (yes/no, true/false, 1/0, on/off, opt-in/opt-out);
    None when it is not one of those."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


def consent_channel(name: str) -> Channel:
    """The consent channel `name` names.

    Raises:
        ValueError: not a channel one consents to (the message names the allowed ones).
    """
    for channel in CONSENT_CHANNELS:
        if channel.value == name.strip().lower():
            return channel
    allowed = ", ".join(c.value for c in CONSENT_CHANNELS)
    raise ValueError(f"no consent for channel {name!r}; channels: {allowed}")


def is_reply(
    channel: Channel,
    *,
    now: datetime,
    contact_channel: Channel,
    last_inbound_at: datetime | None,
) -> bool:
    """Whether a message on `channel` answers the customer's own message on this contact
    within the channel's window (the window is inclusive: exactly 24 hours is a reply)."""
    if channel is not contact_channel or last_inbound_at is None:
        return False
    window = REPLY_WINDOW.get(channel)
    if window is None:
        return True
    return now - last_inbound_at <= window


def consent_problem(
    channel: Channel,
    consents: dict[str, bool] | Any,
    *,
    now: datetime,
    contact_channel: Channel,
    last_inbound_at: datetime | None,
) -> str | None:
    """Why a message on `channel` may not go out for lack of consent, or None when it may:
    a reply within the window, or a channel the customer consented to."""
    if channel not in REPLY_WINDOW:
        return None
    if is_reply(channel, now=now, contact_channel=contact_channel, last_inbound_at=last_inbound_at):
        return None
    if consents.get(channel.value) is True:
        return None
    hours = REPLY_WINDOW[channel].total_seconds() / 3600
    window = f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
    return (
        f"no {channel.value} consent: the customer has not agreed to {channel.value} messages, "
        f"and this is not a reply to their own {channel.value} message on this contact within "
        f"{window}"
    )


def consent_log(consents: str, provenance: str) -> tuple[Consent, ...]:
    """Each channel's consent with the source and time its provenance names (both as the
    stores keep them: JSON text of the customer's `consents` and `provenance`)."""
    given = json.loads(consents or "{}")
    prov = provenance_text.loads(provenance)
    out = []
    for channel in CONSENT_CHANNELS:
        if channel.value not in given:
            continue
        p = prov.get(f"consent_{channel.value}") or {}
        at = p.get("at") if isinstance(p, dict) else None
        out.append(
            Consent(
                channel.value,
                bool(given[channel.value]),
                str(p.get("source", "")) if isinstance(p, dict) else "",
                datetime.fromtimestamp(at, UTC) if isinstance(at, int) else None,
            )
        )
    return tuple(out)
