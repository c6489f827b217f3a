"""The dispatcher: takes due messages from an outbox and hands them to the connectors.

Retries a temporary failure with exponential backoff (`backoff_seconds`,
doubling, at most `backoff_max_seconds`) until `max_attempts`, then marks the
message failed with the provider's last answer; a permanent failure is final
at once. Every message is claimed (a lease) before it is sent, so two
dispatchers never send it both, and one that dies mid-send leaves it to the
next when the lease runs out, under the same idempotency key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from backends.base import VistaError
from backends.channels.config import (
    ChannelsConfig,
    ConnectorSettings,
    DispatchSettings,
    SmsSettings,
    WhatsAppSettings,
)
from backends.channels.connector import (
    Connector,
    Outbound,
    Outbox,
    SendError,
    TemporaryFailure,
)
from backends.channels.sms import SmsConnector
from backends.channels.smtp import SmtpConnector
from backends.channels.whatsapp import WhatsAppConnector
from backends.models import Channel

log = logging.getLogger("vista.dispatch")


def build_connector(settings: ConnectorSettings) -> Connector:
    """The connector a configuration entry describes."""
    if isinstance(settings, WhatsAppSettings):
        return WhatsAppConnector(settings)
    if isinstance(settings, SmsSettings):
        return SmsConnector(settings)
    return SmtpConnector(settings)


def backoff(attempt: int, policy: DispatchSettings) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
    return float(min(policy.backoff_seconds * 2 ** (attempt - 1), policy.backoff_max_seconds))


@dataclass(frozen=True, slots=True)
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Dispatcher:
    """Sends what an outbox holds through the configured connectors.

    `connectors` is either the connectors themselves (sent through one at a time),
    or a factory of them: then `policy.connections` threads send at once, each
    with connectors of its own (a relay takes several sessions; the SMTP
    conversation waits on the network). A customer's messages stay in order:
    one thread sends all of a batch's messages to one recipient.
    """

    def __init__(
        self,
        outbox: Outbox,
        connectors: Iterable[Connector] | Callable[[], Iterable[Connector]],
        policy: DispatchSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        on_result: Callable[[Outbound, str, str], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.policy = policy or DispatchSettings()
        self.clock = clock
        self.on_result = on_result  # (message, "sent"/"retry"/"failed", detail), for the CLI
        self._factory = connectors if callable(connectors) else None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._made: list[Connector] = []
        self._pool: ThreadPoolExecutor | None = None
        first = list(connectors()) if callable(connectors) else list(connectors)
        self._local.by_channel = self._index(first)
        self.channels = frozenset(self._local.by_channel)

    def _index(self, connectors: list[Connector]) -> dict[Channel, Connector]:
        with self._lock:
            self._made.extend(connectors)
        by_channel: dict[Channel, Connector] = {}
        for connector in connectors:
            for channel in connector.channels:
                by_channel.setdefault(channel, connector)
        return by_channel

    def _connector(self, channel: Channel) -> Connector:
        """This thread's connector for `channel`."""
        by_channel: dict[Channel, Connector] | None = getattr(self._local, "by_channel", None)
        if by_channel is None:
            assert self._factory is not None
            by_channel = self._index(list(self._factory()))
            self._local.by_channel = by_channel
        return by_channel[channel]

    @classmethod
    def from_config(cls, outbox: Outbox, config: ChannelsConfig, **kwargs: object) -> Dispatcher:
        return cls(
            outbox,
            lambda: [build_connector(c) for c in config.connectors],
            config.dispatch,
            **kwargs,  # type: ignore[arg-type]
        )

    def run_once(self) -> DispatchReport:
        """Send one batch of due messages; what happened to them."""
        batch = self.outbox.claim(
            self.channels, lease_seconds=self.policy.lease_seconds, limit=self.policy.batch
        )
        by_recipient: dict[tuple[Channel, str], list[Outbound]] = {}
        for message in batch:
            by_recipient.setdefault((message.channel, message.recipient), []).append(message)
        groups = list(by_recipient.values())
        if self._factory is None or self.policy.connections <= 1 or len(groups) <= 1:
            outcomes = [o for group in groups for o in self._send_all(group)]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.policy.connections, thread_name_prefix="vista-send"
                )
            outcomes = [o for done in self._pool.map(self._send_all, groups) for o in done]
        return DispatchReport(
            len(batch), outcomes.count("sent"), outcomes.count("retry"), outcomes.count("failed")
        )

    def _send_all(self, messages: list[Outbound]) -> list[str]:
        return [self._send(m) for m in messages]

    def _send(self, message: Outbound) -> str:
        if message.refused:  # checked again before sending: consent may have been withdrawn
            self.outbox.failed(message.message_id, message.refused)
            self._report(message, "failed", message.refused)
            return "failed"
        connector = self._connector(message.channel)
        try:
            receipt = connector.send(message)
        except SendError as e:
            error: SendError = e
        except Exception as e:  # a connector bug must not lose the message
            log.exception("connector %s failed on message %s", connector.name, message.message_id)
            error = TemporaryFailure(f"{type(e).__name__}: {e}")
        else:
            self.outbox.sent(message.message_id, receipt)
            self._report(message, "sent", receipt.provider_id)
            return "sent"
        if not error.permanent and message.attempt < self.policy.max_attempts:
            due = self.clock() + backoff(message.attempt, self.policy)
            self.outbox.retry(message.message_id, error.reason, due)
            self._report(message, "retry", error.reason)
            return "retry"
        reason = error.reason
        if not error.permanent:
            reason = f"gave up after {message.attempt} attempts: {reason}"
        self.outbox.failed(message.message_id, reason, refused=error.permanent)
        self._report(message, "failed", reason)
        return "failed"

    def _report(self, message: Outbound, outcome: str, detail: str) -> None:
        log.info("message %s %s: %s", message.message_id, outcome, detail)
        if self.on_result is not None:
            self.on_result(message, outcome, detail)

    def drain(self) -> DispatchReport:
        """Send batches until nothing is due now (retries wait for their time)."""
        total = DispatchReport()
        while True:
            report = self.run_once()
            total = DispatchReport(
                total.claimed + report.claimed,
                total.sent + report.sent,
                total.retried + report.retried,
                total.failed + report.failed,
            )
            if report.claimed == 0 or report.claimed < self.policy.batch:
                return total

    def run(self, stop: threading.Event) -> None:
        """Dispatch until `stop` is set: a batch, then a short wait when nothing was due.
        A store or connector trouble is logged and tried again; the loop never dies of it."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except VistaError as e:
                log.warning("dispatch: %s", e)
                report = DispatchReport()
            if report.claimed < self.policy.batch:
                stop.wait(self.policy.poll_seconds)
        self.close()

    def close(self) -> None:
        """Stop the sending threads and hang up every connection."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            made = list(self._made)
        for connector in made:
            connector.close()
