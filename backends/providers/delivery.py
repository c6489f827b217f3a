"""Neutral values shared by every provider: a delivery update, a message to deliver, a send."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from backends.base import Backend
from backends.models import Channel, InboundResult

log = logging.getLogger("vista.providers")


class DeliveryState(StrEnum):
    """Where an outbound message is, in words every provider maps onto."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """A provider's news about a message Vista sent.

    `provider_message_id` is the id the provider gave the message when it was sent
    (WhatsApp's wamid, Twilio's MessageSid, the e-mail Message-ID without <>).
    """

    provider: str  # whatsapp, sms, email
    provider_message_id: str
    state: DeliveryState
    reason: str = ""  # why it failed (provider's code and words), or a note
    at: datetime | None = None


#: Called with every delivery update a webhook or mailbox receives.
DeliveryHook = Callable[[DeliveryUpdate], None]


def ignore_update(update: DeliveryUpdate) -> None:
    """The default hook: log at debug and drop (no outbox is wired yet)."""
    log.debug(
        "delivery update %s %s: %s %s",
        update.provider,
        update.provider_message_id,
        update.state.value,
        update.reason,
    )


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer message from a provider, ready for `Backend.deliver_inbound`."""

    channel: Channel
    sender: str  # an e-mail address or an E.164 phone number
    text: str
    name: str = ""
    external_id: str | None = None
    at: datetime | None = None
    subject: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()

    def deliver(self, backend: Backend) -> InboundResult:
        """Hand the message to the store (idempotent by channel and external id)."""
        return backend.deliver_inbound(
            self.channel,
            self.sender,
            self.text,
            at=self.at,
            external_id=self.external_id,
            name=self.name,
            subject=self.subject,
            in_reply_to=self.in_reply_to,
            references=self.references,
        )


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """An HTTP request to a provider's API, built but not sent (the connector sends it)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __repr__(self) -> str:  # headers carry credentials: never print them
        return f"ProviderRequest({self.method} {self.url}, {len(self.body)} bytes)"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a provider answered to a send: its id of the message, or why it refused."""

    provider_message_id: str | None
    error: str = ""
    retryable: bool = False  # a throttle or a server error: the same request may succeed later

    @property
    def ok(self) -> bool:
        return self.provider_message_id is not None


def retryable_status(status: int) -> bool:
    """HTTP statuses worth retrying: throttled, timed out, or the provider's own failure."""
    return status in (408, 429) or status >= 500
