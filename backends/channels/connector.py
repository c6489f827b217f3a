"""The connector interface: what carries an outbound message to a channel's provider.

SMTP (smtp.py), the WhatsApp Cloud API (whatsapp.py) and Twilio SMS (sms.py)
implement it; the providers report delivery and read receipts later, through
`Outbox.record_receipt` and `Outbox.record_failure` (receipts.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from backends.models import Channel, Delivery


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message as the dispatcher hands it to a connector."""

    message_id: int
    channel: Channel
    key: str  # the idempotency key: the same on every attempt of this message
    recipient: str  # an e-mail address or a phone number
    recipient_name: str
    subject: str
    body: str
    html: str | None = None  # an HTML alternative (e-mail)
    in_reply_to: str | None = None  # the customer's message this answers (its Message-ID)
    references: tuple[str, ...] = ()  # the thread so far, oldest first
    attempt: int = 1
    #: outside WhatsApp's 24-hour window: the approved template the body fills, its
    #: language and its parameters in order (None: send the body as text)
    template: str | None = None
    template_language: str = ""
    template_parameters: tuple[str, ...] = ()
    #: why it may not go out (no consent on this channel); the dispatcher fails it unsent
    refused: str = ""


@dataclass(frozen=True, slots=True)
class ProviderReceipt:
    """The provider accepted the message: its id there, and how far it got."""

    provider_id: str
    delivery: Delivery = Delivery.SENT

    def taken(self, holder: int) -> str:
        """Why the sent message keeps no provider id: another message of the outbox has
        this one (one provider message is one outbox row; its statuses go to `holder`)."""
        return (
            f"sent, but the provider gave it id {self.provider_id}, which message {holder} "
            "already has: the provider's delivery reports for that id go to that message"
        )


class SendError(Exception):
    """The provider did not take the message; `reason` is its answer, for the operator."""

    permanent = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(SendError):
    """Try again later (SMTP 4xx, HTTP 429 or 5xx, a refused or dropped connection, a timeout)."""


class PermanentFailure(SendError):
    """Never try again (SMTP 5xx, HTTP 4xx, an address the provider refuses)."""

    permanent = True


class Connector(Protocol):
    """A configured way out to one provider, for one or more channels."""

    name: str
    kind: str  # "smtp", ...
    channels: frozenset[Channel]

    def send(self, message: Outbound) -> ProviderReceipt:
        """Hand one message to the provider.

        Raises:
            TemporaryFailure: not accepted now; the dispatcher retries with backoff.
            PermanentFailure: refused for good; the message is marked failed.
        """
        ...

    def check(self) -> str:
        """Connect and authenticate without sending; a line saying what answered.

        Raises:
            SendError: the provider cannot be reached or refuses the credentials.
        """
        ...

    def close(self) -> None:
        """Drop any open connection (the next send reconnects)."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """How many outbound messages are in each dispatching state."""

    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0


class Outbox(Protocol):
    """The store side of dispatching (backends/sqlite/outbox.py for SQLite)."""

    def claim(
        self, channels: Iterable[Channel], *, lease_seconds: float, limit: int
    ) -> list[Outbound]: ...

    def sent(self, message_id: int, receipt: ProviderReceipt) -> None: ...

    def retry(self, message_id: int, reason: str, due_at: float) -> None: ...

    def failed(self, message_id: int, reason: str, *, refused: bool = True) -> None: ...

    def counts(self) -> OutboxCounts: ...

    def record_receipt(self, provider_id: str, delivery: Delivery) -> bool: ...

    def record_failure(self, provider_id: str, reason: str) -> bool: ...
