"""A customer's message arriving, the same for every store: its checks, the sender as
identity resolution normalises it, the ids it names its thread by, its timeline event and
its audit entry. A store writes it (backends/sqlite/inbound.py, backends/postgres/inbound.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backends import limits, records
from backends.audit_chain import Actor, Appender, diff
from backends.base import InvalidInput
from backends.identity import normalise
from backends.models import Channel, utcnow
from backends.routing.rules import DEFAULT_SLA_SECONDS

#: Seconds to the first-response SLA of a contact opened by an inbound message, unless a
#: routing rule says otherwise.
SLA_SECONDS = DEFAULT_SLA_SECONDS
EVENT_KIND: dict[Channel, str] = {
    Channel.EMAIL: "email",
    Channel.CHAT: "chat",
    Channel.PHONE: "call",
    Channel.WHATSAPP: "whatsapp",
    Channel.SMS: "sms",
    Channel.WEB: "ticket",
}
DEFAULT_REGION = "IT"  # numbers without a country code are read as Italian

#: At most this many thread ids (In-Reply-To first, then the newest References) are looked up.
MAX_THREAD_IDS = 20


def normalise_sender(sender: str) -> tuple[str, str]:
    """(kind, value): an e-mail or an E.164 phone, normalised as identity resolution does.

    Raises:
        InvalidInput: neither an e-mail address nor a valid phone number.
    """
    raw = sender.strip()
    if "@" in raw:
        value = normalise.email(raw)
        if not value:
            raise InvalidInput(
                f"sender {raw!r} is not a usable e-mail address (malformed or a placeholder)"
            )
        return "email", value
    e164, _ = normalise.phone(raw, DEFAULT_REGION)
    if not e164:
        raise InvalidInput(f"sender {raw!r} is neither an e-mail address nor a phone number")
    return "phone", e164


def thread_ids(in_reply_to: str, references: tuple[str, ...]) -> tuple[str, ...]:
    """The ids a reply may name its thread by, each with and without angle brackets."""
    named = [in_reply_to, *reversed(references)]
    ids: dict[str, None] = {}
    for raw in named:
        bare = raw.strip().strip("<>").strip()
        if bare and len(ids) < 2 * MAX_THREAD_IDS:
            ids.setdefault(bare, None)
            ids.setdefault(f"<{bare}>", None)
    return tuple(ids)


@dataclass(frozen=True, slots=True)
class Arrival:
    """An inbound message, checked: what a store writes of it."""

    channel: Channel
    sender: str  # as given (stripped when a customer is made of it)
    kind: str  # of the normalised sender: email or phone
    value: str  # the normalised sender
    text: str
    name: str
    subject: str
    external_id: str | None
    thread: tuple[str, ...]  # the ids it names its thread by (see `thread_ids`)
    now: int  # when it is written
    sent: int  # when the customer sent it

    @property
    def first_line(self) -> str:
        return self.text.strip().splitlines()[0]

    @property
    def topic(self) -> str:
        """The subject of a contact it opens."""
        return (self.subject.strip() or self.first_line)[:120]

    def event(self, message_id: int) -> tuple[str, str, str]:
        """Its timeline event's kind, summary and payload (JSON)."""
        kind = EVENT_KIND[self.channel]
        payload = {
            "body": self.text,
            "from": self.value,
            "subject": self.subject,
            "message_id": message_id,
            "external_id": self.external_id,
        }
        summary = f"{kind.capitalize()} from {self.value}: {self.first_line[:120]}"
        return kind, summary, json.dumps(payload, ensure_ascii=False)

    def audit(
        self,
        record: Appender,
        db: Any,
        actor: Actor,
        message_id: int,
        customer_id: int,
        contact_id: int,
        created: tuple[bool, bool],
    ) -> None:
        """Its audit entry, credited to its channel with `actor`'s token and origin
        (`created`: whether it made a new customer, a new contact)."""
        fields = {"body": self.text, "from": self.value, "subject": self.subject}
        record(
            db,
            actor.as_(f"channel:{self.channel.value}"),
            self.now,
            "inbound",
            "message",
            message_id,
            customer_id=customer_id,
            changes=diff({}, {**fields, "contact_id": contact_id}),
            detail={
                "channel": self.channel.value,
                "created_customer": created[0],
                "created_contact": created[1],
            },
        )


def arrive(
    channel: Channel | str,
    sender: str,
    text: str,
    *,
    now_at: datetime,
    name: str = "",
    subject: str = "",
    at: datetime | None = None,
    external_id: str | None = None,
    in_reply_to: str = "",
    references: tuple[str, ...] = (),
) -> Arrival:
    """A customer's message as `Backend.deliver_inbound` takes it, checked, at `now_at`.

    Raises:
        InvalidInput: an unknown channel, an empty message, a field too long, a time too
            far off, a sender that is neither an e-mail address nor a phone number.
    """
    try:
        channel = Channel(channel)
    except ValueError as e:
        raise InvalidInput(f"unknown channel {channel!r}") from e
    if not text.strip():
        raise InvalidInput("the inbound message is empty")
    limits.check_fields(
        {
            "sender": sender,
            "name": name,
            "subject": subject,
            "external_id": external_id,
            "text": text,
        }
    )
    if at is not None:
        limits.check_inbound_time(at, now_at)
    kind, value = normalise_sender(sender)
    return Arrival(
        channel=channel,
        sender=sender,
        kind=kind,
        value=value,
        text=text,
        name=name,
        subject=subject,
        external_id=(external_id or "").strip() or None,
        thread=thread_ids(in_reply_to, references),
        now=records.to_ts(now_at),
        sent=records.to_ts(at) if at is not None else records.to_ts(utcnow()),
    )
