"""The outbox of the PostgreSQL store: every SQL statement of sending a reply out.

As in the SQLite store, a reply is written with its outbox row in one transaction
(`enqueue`). Dispatchers in any number of server processes `claim` due rows with
`SELECT ... FOR UPDATE SKIP LOCKED`: each row goes to exactly one of them, and none
waits for another's rows. A dispatcher that dies mid-send leaves its rows 'sending';
when the lease runs out another takes them, with the same key.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from backends import templating
from backends.audit_chain import Actor, diff
from backends.channels import WHATSAPP_WINDOW
from backends.channels.connector import Outbound, OutboxCounts, ProviderReceipt
from backends.consent import consent_problem
from backends.models import Channel, Delivery, Origin
from backends.postgres import audit
from backends.postgres.store import PgStore, scalar

_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
MAX_REFERENCES = 20
_RANK = {Delivery.QUEUED: 0, Delivery.SENT: 1, Delivery.DELIVERED: 2, Delivery.READ: 3}


def new_key(message_id: int) -> str:
    """A message's idempotency key: unique, stable across attempts, safe in a Message-ID."""
    return f"vista.{message_id}.{uuid.uuid4().hex[:20]}"


def enqueue(
    db: Any,
    *,
    message_id: int,
    channel: Channel,
    recipient: str,
    recipient_name: str,
    subject: str,
    html: str | None,
    customer_id: int,
    event_id: int | None,
    now: int,
) -> str:
    """Put a just-written outbound message in the outbox (inside the caller's transaction)."""
    key = new_key(message_id)
    db.execute(
        "INSERT INTO outbox(message_id, channel, status, due_at, message_key, recipient, "
        "recipient_name, subject, html, customer_id, event_id, created_at) "
        "VALUES (%s, %s, 'queued', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (message_id, channel.value, float(now), key, recipient, recipient_name, subject, html,
         customer_id, event_id, now),
    )  # fmt: skip
    return key


def template_parameters(body: str, template_body: str) -> tuple[str, ...] | None:
    """The values `body` gives the variables of `template_body`, in order, or None when
    `body` is not the template filled."""
    parts = templating.VARIABLE.split(template_body)
    pattern = "".join(re.escape(p) if i % 2 == 0 else r"([^\n\t]+?)" for i, p in enumerate(parts))
    found = re.fullmatch(pattern, body)
    return None if found is None else found.groups()


def whatsapp_form(
    db: Any, customer_id: int, body: str, now: float
) -> tuple[str, str, tuple[str, ...]] | None:
    """How a WhatsApp message with `body` to the customer can go out at `now`: as text,
    ("", "", ()), inside the 24-hour window; outside it, the approved template the body
    fills (the provider's name for it, language, parameters in order); None when it
    cannot: outside the window and no template fits."""
    last = scalar(
        db,
        "SELECT max(last_inbound_at) FROM contacts WHERE customer_id = %s AND channel = 'whatsapp'",
        (customer_id,),
    )
    if last is not None and now - float(last) <= WHATSAPP_WINDOW.total_seconds():
        return "", "", ()
    for name, language, template_body in db.execute(
        "SELECT coalesce(nullif(provider_name, ''), name), language, body FROM templates "
        "WHERE whatsapp_approved <> 0 AND retired = 0 "
        "AND coalesce(channel, 'whatsapp') = 'whatsapp' ORDER BY name"
    ):
        parameters = template_parameters(body, template_body)
        if parameters is not None:
            return name, language or "", parameters
    return None


def requeue(db: Any, message_id: int, now: int) -> str:
    """Put a failed message back in the queue, due now, for a fresh round of attempts
    (inside the caller's transaction); its new idempotency key.

    A message the provider refused, or accepted and then reported failed, gets a fresh
    key, so that no provider answers the new send with the old outcome; one given up after
    unanswered attempts keeps its key, so that a provider that took one of them after all
    recognises the duplicate."""
    row = db.execute(
        "SELECT message_key, refused, provider_id FROM outbox WHERE message_id = %s FOR UPDATE",
        (message_id,),
    ).fetchone()
    fresh = bool(row[1]) or row[2] is not None
    key = new_key(message_id) if fresh else str(row[0])
    db.execute(
        "UPDATE outbox SET status = 'queued', due_at = %s, attempts = 0, message_key = %s, "
        "last_error = NULL, provider_id = NULL, refused = 0, sent_at = NULL "
        "WHERE message_id = %s",
        (float(now), key, message_id),
    )
    # the failed attempt's id at the provider: receipts for it no longer concern this send
    db.execute("UPDATE messages SET external_id = NULL WHERE id = %s", (message_id,))
    _set_delivery(db, message_id, Delivery.QUEUED, None, now)
    return key


class PgOutbox:
    """The dispatcher's view of the database's outbox (see backends/channels/dispatcher.py)."""

    def __init__(
        self,
        store: PgStore,
        *,
        clock: Callable[[], float] = time.time,
        actor: Actor | None = None,
    ) -> None:
        """`actor`: who the audit trail credits the outbox's state changes to (default: the
        dispatcher)."""
        self.store = store
        self.clock = clock
        self.actor = actor or Actor("dispatcher", origin=Origin.DISPATCHER.value)

    @staticmethod
    def _states(db: Any, message_ids: list[int]) -> dict[int, str]:
        """Each message's outbox state as the trail records it: 'status/delivery'."""
        return {
            int(r[0]): f"{r[1]}/{r[2] or ''}"
            for r in db.execute(
                "SELECT o.message_id, o.status, m.delivery FROM outbox o JOIN messages m "
                "ON m.customer_id = o.customer_id AND m.id = o.message_id "
                "WHERE o.message_id = ANY(%s) ORDER BY o.message_id",
                (message_ids,),
            )
        }

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
        owners = dict(
            db.execute(
                "SELECT message_id, customer_id FROM outbox WHERE message_id = ANY(%s)",
                (message_ids,),
            ).fetchall()
        )
        for message_id in message_ids:
            state = after.get(message_id)
            if state is None:
                continue
            audit.record(
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
        """Take up to `limit` due messages on `channels` for `lease_seconds`; rows another
        dispatcher is taking at this moment are skipped, not waited for."""
        wanted = [c.value for c in channels]
        if not wanted:
            return []
        now = self.clock()
        with self.store.write() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT message_id FROM outbox WHERE status IN ('queued','sending') "
                    "AND due_at <= %s AND channel = ANY(%s) ORDER BY due_at, message_id "
                    "LIMIT %s FOR UPDATE SKIP LOCKED",
                    (now, wanted, limit),
                )
            ]
            if not ids:
                return []
            before = self._states(db, ids)
            db.execute(
                "UPDATE outbox SET status = 'sending', due_at = %s, attempts = attempts + 1 "
                "WHERE message_id = ANY(%s)",
                (now + lease_seconds, ids),
            )
            found = db.execute(
                "SELECT o.*, m.body, m.contact_id, m.at FROM outbox o JOIN messages m "
                "ON m.customer_id = o.customer_id AND m.id = o.message_id "
                "WHERE o.message_id = ANY(%s) ORDER BY o.created_at, o.message_id",
                (ids,),
            ).fetchall()
            claimed = [self._outbound(db, row) for row in found]
            self._audit(db, ids, "outbox:sending", before)
            return claimed

    def _outbound(self, db: Any, row: Any) -> Outbound:
        thread = db.execute(
            "SELECT direction, external_id FROM messages WHERE contact_id = %s "
            "AND external_id IS NOT NULL AND id <> %s AND direction <> 'note' "
            "AND (at, id) < (%s, %s) ORDER BY at, id",
            (row["contact_id"], row["message_id"], row["at"], row["message_id"]),
        ).fetchall()
        ids = [(d, x) for d, x in thread if _MESSAGE_ID.fullmatch(x)]
        answered = next((x for d, x in reversed(ids) if d == "inbound"), None)
        template, language, parameters = self._template(db, row)
        return Outbound(
            message_id=row["message_id"],
            channel=Channel(row["channel"]),
            key=row["message_key"],
            recipient=row["recipient"],
            recipient_name=row["recipient_name"],
            subject=row["subject"],
            body=row["body"],
            html=row["html"],
            in_reply_to=answered,
            references=tuple(x for _d, x in ids[-MAX_REFERENCES:]),
            attempt=row["attempts"],
            template=template or None,
            template_language=language,
            template_parameters=parameters,
            refused=self._refused(db, row) or "",
        )

    @staticmethod
    def _refused(db: Any, row: Any) -> str | None:
        """Why the message may not go out for lack of consent, judged with the customer's
        consents now (one withdrawn after the message was queued counts) and the reply
        window as it was when the message was written; None when it may go out."""
        found = db.execute(
            "SELECT c.channel, c.last_inbound_at, cu.consents FROM contacts c "
            "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = %s",
            (row["contact_id"],),
        ).fetchone()
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

    def _template(self, db: Any, row: Any) -> tuple[str, str, tuple[str, ...]]:
        """For a WhatsApp message outside the 24-hour window: the approved template its
        body fills, its language and the parameters; ("", "", ()) to send text."""
        if row["channel"] != Channel.WHATSAPP.value:
            return "", "", ()
        form = whatsapp_form(db, row["customer_id"], row["body"], self.clock())
        return form if form is not None else ("", "", ())

    def sent(self, message_id: int, receipt: ProviderReceipt) -> None:
        """The provider accepted it: final for the outbox; the message remembers its id."""
        now = self.clock()
        with self.store.write() as db:
            before = self._states(db, [message_id])
            # one dispatcher at a time records an id (its unique index would fail the other)
            db.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 13))",
                (f"provider:{receipt.provider_id}",),
            )
            holder = scalar(
                db,
                "SELECT message_id FROM outbox WHERE provider_id = %s AND message_id <> %s",
                (receipt.provider_id, message_id),
            )
            # sent all the same (never again to the customer), without another's id
            provider_id = receipt.provider_id if holder is None else None
            note = None if holder is None else receipt.taken(int(holder))
            db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = %s, provider_id = %s, "
                "last_error = %s WHERE message_id = %s",
                (int(now), provider_id, note, message_id),
            )
            _set_delivery(db, message_id, receipt.delivery, None, now, provider_id)
            detail = {"provider_id": receipt.provider_id}
            self._audit(
                db, [message_id], "outbox:sent", before, detail | ({"note": note} if note else {})
            )

    def retry(self, message_id: int, reason: str, due_at: float) -> None:
        """Not accepted now: back in the queue until `due_at`, the reason kept."""
        with self.store.write() as db:
            before = self._states(db, [message_id])
            done = db.execute(
                "UPDATE outbox SET status = 'queued', due_at = %s, last_error = %s "
                "WHERE message_id = %s AND status = 'sending'",
                (due_at, reason, message_id),
            ).rowcount
            if done:
                self._audit(db, [message_id], "outbox:retry", before, {"reason": reason})

    def failed(self, message_id: int, reason: str, *, refused: bool = True) -> None:
        """Refused for good (`refused`: the provider answered no) or given up after
        unanswered attempts (not `refused`): the message says why."""
        now = self.clock()
        with self.store.write() as db:
            before = self._states(db, [message_id])
            db.execute(
                "UPDATE outbox SET status = 'failed', last_error = %s, refused = %s "
                "WHERE message_id = %s",
                (reason, int(refused), message_id),
            )
            _set_delivery(db, message_id, Delivery.FAILED, reason, now)
            self._audit(db, [message_id], "outbox:failed", before, {"reason": reason})

    @staticmethod
    def _by_provider_id(db: Any, provider_id: str) -> tuple[int, str | None] | None:
        ids = [provider_id] if provider_id.startswith("<") else [provider_id, f"<{provider_id}>"]
        for candidate in ids:
            row = db.execute(
                "SELECT o.message_id, m.delivery FROM outbox o JOIN messages m "
                "ON m.customer_id = o.customer_id AND m.id = o.message_id "
                "WHERE o.provider_id = %s FOR UPDATE OF o",
                (candidate,),
            ).fetchone()
            if row is not None:
                return int(row[0]), row[1]
        return None

    def record_receipt(self, provider_id: str, delivery: Delivery) -> bool:
        """A provider's later report (delivered, read); never moves a message back."""
        now = self.clock()
        with self.store.write() as db:
            found = self._by_provider_id(db, provider_id)
            if found is None:
                return False
            message_id, current = found
            if current == Delivery.FAILED.value or _RANK.get(
                Delivery(current) if current else Delivery.QUEUED, 0
            ) >= _RANK.get(delivery, 0):
                return True
            before = self._states(db, [message_id])
            _set_delivery(db, message_id, delivery, None, now)
            self._audit(db, [message_id], f"delivery:{delivery.value}", before)
            return True

    def record_failure(self, provider_id: str, reason: str) -> bool:
        """The provider could not deliver what it accepted: the message is failed (a
        message already read stays read)."""
        now = self.clock()
        with self.store.write() as db:
            found = self._by_provider_id(db, provider_id)
            if found is None:
                return False
            message_id, current = found
            if current == Delivery.READ.value:
                return True
            before = self._states(db, [message_id])
            db.execute(
                "UPDATE outbox SET status = 'failed', last_error = %s WHERE message_id = %s",
                (reason, message_id),
            )
            _set_delivery(db, message_id, Delivery.FAILED, reason or "not delivered", now)
            self._audit(db, [message_id], "delivery:failed", before, {"reason": reason})
            return True

    def counts(self) -> OutboxCounts:
        with self.store.read() as db:
            found = {r[0]: r[1] for r in db.execute(
                "SELECT status, count(*) FROM outbox GROUP BY status")}  # fmt: skip
        return OutboxCounts(**{k: int(v) for k, v in found.items()})

    def next_due(self) -> float | None:
        """When the soonest waiting message falls due (None: nothing waits)."""
        with self.store.read() as db:
            at = scalar(db, "SELECT min(due_at) FROM outbox WHERE status IN ('queued','sending')")
        return float(at) if at is not None else None


def _set_delivery(
    db: Any,
    message_id: int,
    delivery: Delivery,
    failure: str | None,
    now: float,
    provider_id: str | None = None,
) -> None:
    """The message's delivery (and its provider id, when first known), on the message, on
    its timeline event (a payload that is a JSON object), and in the change feed."""
    row = db.execute(
        "UPDATE messages SET delivery = %s, failure = %s, "
        "external_id = coalesce(external_id, %s) WHERE id = %s RETURNING contact_id, "
        "(SELECT event_id FROM outbox WHERE message_id = %s)",
        (delivery.value, failure, provider_id, message_id, message_id),
    ).fetchone()
    if row is None:
        return
    if row[1] is not None:
        text = scalar(db, "SELECT payload FROM events WHERE id = %s FOR UPDATE", (row[1],))
        try:
            payload = json.loads(text) if text is not None else None
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            payload.update(delivery=delivery.value, failure=failure)
            db.execute(
                "UPDATE events SET payload = %s WHERE id = %s",
                (json.dumps(payload, ensure_ascii=False), row[1]),
            )
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (%s,%s,%s,%s,%s)",
        (int(now), "contact", row[0], f"delivery:{delivery.value}", "dispatcher"),
    )
