"""The outbox's flow, the same for every store: what a dispatcher's claim hands out, what
each outcome changes and records, and which receipts count.

A reply is written with its outbox row in the reply's own transaction, so nothing
accepted is lost. A dispatcher `claim`s due rows (status 'sending' with a lease: two
dispatchers never take the same row), hands them to a connector, and records the outcome
(`sent`, `retry`, `failed`). A dispatcher that dies mid-send leaves its rows 'sending';
when the lease runs out another takes them, with the same key. Every change of a
message's state is an audit entry. A store's subclass of `OutboxFlow` gives the SQL
(backends/sqlite/outbox.py, backends/postgres/outbox.py).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from backends import templating
from backends.audit_chain import Actor, Appender, diff
from backends.channels.connector import Outbound, ProviderReceipt
from backends.consent import consent_problem
from backends.models import Channel, Delivery, Origin

#: An RFC 5322 message id, the only kind that goes into In-Reply-To and References.
MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")

#: How many earlier message ids a References header carries at most (the newest).
MAX_REFERENCES = 20

#: How far delivery goes; a receipt never moves a message back.
RANK = {Delivery.QUEUED: 0, Delivery.SENT: 1, Delivery.DELIVERED: 2, Delivery.READ: 3}

#: The fields of an `Outbound` its claimed row holds as they are.
_AS_STORED = ("message_id", "recipient", "recipient_name", "subject", "body", "html")

#: How a WhatsApp message goes out: (template, language, parameters), ("", "", ()) as text.
Form = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Queued:
    """A just-written reply as its outbox row holds it."""

    message_id: int
    channel: Channel
    recipient: str
    recipient_name: str
    subject: str
    html: str | None
    customer_id: int
    event_id: int | None

    def row(self, now: int) -> tuple[Any, ...]:
        """Its outbox row, due now with a new idempotency key (columns as `QUEUED_COLUMNS`)."""
        return (
            self.message_id,
            self.channel.value,
            float(now),
            new_key(self.message_id),
            self.recipient,
            self.recipient_name,
            self.subject,
            self.html,
            self.customer_id,
            self.event_id,
            now,
        )


#: The columns of a new outbox row (`Queued.row`), besides its status ('queued').
QUEUED_COLUMNS = (
    "message_id, channel, due_at, message_key, recipient, recipient_name, subject, html, "
    "customer_id, event_id, created_at"
)


def new_key(message_id: int) -> str:
    """A message's idempotency key: unique, stable across attempts, safe in a Message-ID."""
    return f"vista.{message_id}.{uuid.uuid4().hex[:20]}"


def template_parameters(body: str, template_body: str) -> tuple[str, ...] | None:
    """The values `body` gives the variables of `template_body`, in order of appearance,
    or None when `body` is not the template filled (see `templating.matches`)."""
    parts = templating.VARIABLE.split(template_body)
    pattern = "".join(re.escape(p) if i % 2 == 0 else r"([^\n\t]+?)" for i, p in enumerate(parts))
    found = re.fullmatch(pattern, body)
    return None if found is None else found.groups()


def first_fitting(templates: Iterable[tuple[str, str | None, str]], body: str) -> Form | None:
    """The first approved WhatsApp template (name, language, body) that `body` fills, as
    it goes out; None when none does."""
    for name, language, template_body in templates:
        parameters = template_parameters(body, template_body)
        if parameters is not None:
            return name, language or "", parameters
    return None


def moves(current: str | None, delivery: Delivery) -> bool:
    """Whether a receipt saying `delivery` moves a message whose delivery is `current`
    (a failed message stays failed, and none goes back)."""
    if current == Delivery.FAILED.value:
        return False
    return RANK.get(Delivery(current) if current else Delivery.QUEUED, 0) < RANK.get(delivery, 0)


class Transactions(Protocol):
    """A store's transactions."""

    def read(self) -> AbstractContextManager[Any]: ...

    def write(self) -> AbstractContextManager[Any]: ...


class OutboxFlow:
    """The dispatcher's view of one store's outbox (see backends/channels/dispatcher.py).

    Every method runs one transaction of the store; the SQL is the subclass's."""

    #: The store's audit trail.
    record: Appender

    def __init__(
        self,
        store: Transactions,
        *,
        clock: Callable[[], float] = time.time,
        actor: Actor | None = None,
    ) -> None:
        """`actor`: who the audit trail credits the outbox's state changes to (default: the
        dispatcher)."""
        self.store = store
        self.clock = clock
        self.actor = actor or Actor("dispatcher", origin=Origin.DISPATCHER.value)

    # -- the store's SQL ------------------------------------------------------------------

    def _states(self, db: Any, message_ids: list[int]) -> dict[int, str]:
        """Each message's outbox state as the trail records it: 'status/delivery'."""
        raise NotImplementedError

    def _owners(self, db: Any, message_ids: list[int]) -> dict[int, int]:
        """Each message's customer."""
        raise NotImplementedError

    def _due(self, db: Any, channels: list[str], now: float, limit: int) -> list[int]:
        """Up to `limit` messages due at `now` on `channels`, the soonest first."""
        raise NotImplementedError

    def _lease(self, db: Any, message_ids: list[int], now: float, until: float) -> list[Any]:
        """Mark the messages 'sending' until `until` (one attempt more); their rows (the
        outbox's columns with the message's body, contact_id and at), oldest first."""
        raise NotImplementedError

    def _thread(self, db: Any, row: Any) -> list[tuple[str, str]]:
        """(direction, external id) of the messages of the row's contact before it."""
        raise NotImplementedError

    def _consent_facts(self, db: Any, contact_id: int) -> Any:
        """The contact's channel, last_inbound_at and its customer's consents (JSON)."""
        raise NotImplementedError

    def _whatsapp_form(self, db: Any, customer_id: int, body: str, now: float) -> Form | None:
        raise NotImplementedError

    def _set_outbox(
        self, db: Any, message_id: int, changes: dict[str, Any], *, if_sending: bool = False
    ) -> bool:
        """Set columns of the message's outbox row (`if_sending`: only while it is being
        sent); whether it was."""
        raise NotImplementedError

    def _provider_message(self, db: Any, provider_id: str) -> tuple[int, str | None] | None:
        """The message with this id at the provider (locked) and its delivery."""
        raise NotImplementedError

    def _provider_holder(self, db: Any, provider_id: str, message_id: int) -> int | None:
        """Another message that already has this id at the provider (one provider message is
        one outbox row: a unique index), or None; two dispatchers recording one id wait for
        each other."""
        raise NotImplementedError

    #: The message's delivery (db, message id, delivery, failure, now, its provider id
    #: when first known), on the message, its timeline event and in the change feed.
    set_delivery: Callable[[Any, int, Delivery, str | None, float, str | None], None]

    # -- the flow -------------------------------------------------------------------------

    def _audit(
        self,
        db: Any,
        message_ids: list[int],
        action: str,
        before: dict[int, str],
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One entry per message whose outbox state changed: its state before and after."""
        now = int(self.clock())
        after = self._states(db, message_ids)
        owners = self._owners(db, message_ids)
        for message_id in message_ids:
            state = after.get(message_id)
            if state is None:
                continue
            self.record(
                db,
                self.actor,
                now,
                action,
                "outbox",
                message_id,
                customer_id=owners.get(message_id),
                changes=diff({"state": before.get(message_id)}, {"state": state}),
                detail=detail,
            )

    def claim(
        self, channels: Iterable[Channel], *, lease_seconds: float, limit: int
    ) -> list[Outbound]:
        """Take up to `limit` due messages on `channels` for `lease_seconds`."""
        wanted = [c.value for c in channels]
        if not wanted:
            return []
        now = self.clock()
        with self.store.write() as db:
            ids = self._due(db, wanted, now, limit)
            if not ids:
                return []
            before = self._states(db, ids)
            found = self._lease(db, ids, now, now + lease_seconds)
            self._audit(db, ids, "outbox:sending", before)
            return [self._outbound(db, row) for row in found]

    def _outbound(self, db: Any, row: Any) -> Outbound:
        ids = [(d, x) for d, x in self._thread(db, row) if MESSAGE_ID.fullmatch(x)]
        answered = next((x for d, x in reversed(ids) if d == "inbound"), None)
        template, language, parameters = self._template(db, row)
        same = {name: row[name] for name in _AS_STORED}
        return Outbound(
            **same,
            channel=Channel(row["channel"]),
            key=row["message_key"],
            in_reply_to=answered,
            references=tuple(x for _d, x in ids[-MAX_REFERENCES:]),
            attempt=row["attempts"],
            template=template or None,
            template_language=language,
            template_parameters=parameters,
            refused=self._refused(db, row) or "",
        )

    def _refused(self, db: Any, row: Any) -> str | None:
        """Why the message may not go out for lack of consent, judged with the customer's
        consents now (one withdrawn after the message was queued counts) and the reply
        window as it was when the message was written; None when it may go out."""
        found = self._consent_facts(db, row["contact_id"])
        if found is None:
            return None
        try:
            contact_channel = Channel(found[0])
        except ValueError:
            return None
        return consent_problem(
            Channel(row["channel"]),
            json.loads(found[2] or "{}"),
            now=datetime.fromtimestamp(row["at"], UTC),
            contact_channel=contact_channel,
            last_inbound_at=(
                datetime.fromtimestamp(found[1], UTC) if found[1] is not None else None
            ),
        )

    def _template(self, db: Any, row: Any) -> Form:
        """For a WhatsApp message outside the 24-hour window: the approved template its
        body fills, the template's language and the parameters, in order; ("", "", ()) to
        send text (inside the window; or no template fits, and the provider says no)."""
        if row["channel"] != Channel.WHATSAPP.value:
            return "", "", ()
        form = self._whatsapp_form(db, row["customer_id"], row["body"], self.clock())
        return form if form is not None else ("", "", ())

    def sent(self, message_id: int, receipt: ProviderReceipt) -> None:
        """The provider accepted it: final for the outbox; the message remembers its id."""
        now = self.clock()
        with self.store.write() as db:
            before = self._states(db, [message_id])
            holder = self._provider_holder(db, receipt.provider_id, message_id)
            # sent all the same (never again to the customer), without another's id
            provider_id = receipt.provider_id if holder is None else None
            note = None if holder is None else receipt.taken(holder)
            changes = {"status": "sent", "sent_at": int(now), "provider_id": provider_id}
            self._set_outbox(db, message_id, {**changes, "last_error": note})
            self.set_delivery(db, message_id, receipt.delivery, None, now, provider_id)
            detail = {"provider_id": receipt.provider_id} | ({"note": note} if note else {})
            self._audit(db, [message_id], "outbox:sent", before, detail)

    def retry(self, message_id: int, reason: str, due_at: float) -> None:
        """Not accepted now: back in the queue until `due_at`, the reason kept."""
        with self.store.write() as db:
            before = self._states(db, [message_id])
            changes = {"status": "queued", "due_at": due_at, "last_error": reason}
            if self._set_outbox(db, message_id, changes, if_sending=True):
                self._audit(db, [message_id], "outbox:retry", before, {"reason": reason})

    def failed(self, message_id: int, reason: str, *, refused: bool = True) -> None:
        """Refused for good (`refused`: the provider answered no) or given up after
        unanswered attempts (not `refused`): the message says why."""
        now = self.clock()
        with self.store.write() as db:
            before = self._states(db, [message_id])
            changes = {"status": "failed", "last_error": reason, "refused": int(refused)}
            self._set_outbox(db, message_id, changes)
            self.set_delivery(db, message_id, Delivery.FAILED, reason, now, None)
            self._audit(db, [message_id], "outbox:failed", before, {"reason": reason})

    def _by_provider_id(self, db: Any, provider_id: str) -> tuple[int, str | None] | None:
        """The message the provider knows as `provider_id` and its delivery; an e-mail
        Message-ID matches with or without its angle brackets."""
        ids = [provider_id] if provider_id.startswith("<") else [provider_id, f"<{provider_id}>"]
        for candidate in ids:
            found = self._provider_message(db, candidate)
            if found is not None:
                return found
        return None

    def _report(
        self,
        provider_id: str,
        moved: Callable[[str | None], bool],
        delivery: Delivery,
        reason: str | None,
    ) -> bool:
        """A provider's report on the message it knows as `provider_id`: the message's
        delivery set to `delivery` (failed with `reason`) when it `moved` from its current
        one. False when no message has that id."""
        now = self.clock()
        with self.store.write() as db:
            found = self._by_provider_id(db, provider_id)
            if found is None:
                return False
            message_id, current = found
            if not moved(current):
                return True
            before = self._states(db, [message_id])
            if reason is not None:
                changes = {"status": "failed", "last_error": reason, "refused": 1}
                self._set_outbox(db, message_id, changes)
            failure = None if reason is None else reason or "not delivered"
            self.set_delivery(db, message_id, delivery, failure, now, None)
            detail = None if reason is None else {"reason": reason}
            self._audit(db, [message_id], f"delivery:{delivery.value}", before, detail)
            return True

    def record_receipt(self, provider_id: str, delivery: Delivery) -> bool:
        """A provider's later report (delivered, read) for the message it knows as
        `provider_id`; never moves a message back. False when no message has that id."""
        return self._report(provider_id, lambda current: moves(current, delivery), delivery, None)

    def record_failure(self, provider_id: str, reason: str) -> bool:
        """The provider could not deliver the message it accepted as `provider_id` (a
        failed status, a bounce): the message is failed, with the provider's reason.
        A message already read stays read. False when no message has that id."""
        return self._report(
            provider_id, lambda current: current != Delivery.READ.value, Delivery.FAILED, reason
        )
