"""The outbox of the SQLite store: every SQL statement of sending a reply out.

A reply is written with its outbox row in the reply's own transaction
(`enqueue`), so nothing accepted is lost. A dispatcher `claim`s due rows
(status 'sending' with a lease, in one short transaction: two dispatchers
never take the same row), hands them to a connector, and records the outcome
(`sent`, `retry`, `failed`). A dispatcher that dies mid-send leaves its rows
'sending'; when the lease runs out another takes them, with the same key.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from backends import records, templating
from backends.channels import WHATSAPP_WINDOW
from backends.channels.connector import Outbound, OutboxCounts, ProviderReceipt
from backends.consent import consent_problem
from backends.models import Channel, Delivery, Origin
from backends.sqlite import audit
from backends.sqlite.store import Store

#: An RFC 5322 message id, the only kind that goes into In-Reply-To and References.
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")

#: How many earlier message ids a References header carries at most (the newest).
MAX_REFERENCES = 20

#: How far delivery goes; a receipt never moves a message back.
_RANK = {Delivery.QUEUED: 0, Delivery.SENT: 1, Delivery.DELIVERED: 2, Delivery.READ: 3}


def new_key(message_id: int) -> str:
    """A message's idempotency key: unique, stable across attempts, safe in a Message-ID."""
    return f"vista.{message_id}.{uuid.uuid4().hex[:20]}"


def enqueue(
    db: sqlite3.Connection,
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
        "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message_id,
            channel.value,
            float(now),
            key,
            recipient,
            recipient_name,
            subject,
            html,
            customer_id,
            event_id,
            now,
        ),
    )
    return key


def requeue(db: sqlite3.Connection, message_id: int, now: int) -> str:
    """Put a failed message back in the queue, due now, for a fresh round of attempts
    (inside the caller's transaction); its new idempotency key.

    A message the provider refused, or accepted and then reported failed, gets a fresh
    key: a provider that remembers keys must not answer the new send with the old
    outcome, nor drop it as the message it already had. A message given up after
    attempts nobody answered keeps its key: the provider may have taken one of them,
    and the same key lets it recognise the duplicate instead of sending twice."""
    row = db.execute(
        "SELECT message_key, refused, provider_id FROM outbox WHERE message_id = ?",
        (message_id,),
    ).fetchone()
    fresh = bool(row["refused"]) or row["provider_id"] is not None
    key = new_key(message_id) if fresh else str(row["message_key"])
    db.execute(
        "UPDATE outbox SET status = 'queued', due_at = ?, attempts = 0, message_key = ?, "
        "last_error = NULL, provider_id = NULL, refused = 0, sent_at = NULL "
        "WHERE message_id = ?",
        (float(now), key, message_id),
    )
    # the failed attempt's id at the provider: receipts for it no longer concern this send
    db.execute("UPDATE messages SET external_id = NULL WHERE id = ?", (message_id,))
    SQLiteOutbox.set_delivery(db, message_id, Delivery.QUEUED, None, now)
    return key


class SQLiteOutbox:
    """The dispatcher's view of one store's outbox (see backends/channels/dispatcher.py)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        actor: audit.Actor | None = None,
    ) -> None:
        """`actor`: who the audit trail credits the outbox's state changes to (default: the
        dispatcher)."""
        self.store = store
        self.clock = clock
        self.actor = actor or audit.Actor("dispatcher", origin=Origin.DISPATCHER.value)

    def _audit(
        self,
        db: sqlite3.Connection,
        message_ids: Iterable[int],
        action: str,
        before: dict[int, str],
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One entry per message whose outbox state changed: its status before and after."""
        now = int(self.clock())
        for message_id in message_ids:
            row = db.execute(
                "SELECT o.status, o.customer_id, m.delivery FROM outbox o JOIN messages m "
                "ON m.id = o.message_id WHERE o.message_id = ?",
                (message_id,),
            ).fetchone()
            if row is None:
                continue
            audit.record(
                db,
                self.actor,
                now,
                action,
                "outbox",
                message_id,
                customer_id=row["customer_id"],
                changes=audit.diff(
                    {"state": before.get(message_id)}, {"state": f"{row[0]}/{row[2] or ''}"}
                ),
                detail=detail,
            )

    @staticmethod
    def _states(db: sqlite3.Connection, message_ids: Iterable[int]) -> dict[int, str]:
        ids = list(message_ids)
        marks = ",".join("?" * len(ids))
        return {
            r[0]: f"{r[1]}/{r[2] or ''}"
            for r in db.execute(
                f"SELECT o.message_id, o.status, m.delivery FROM outbox o JOIN messages m "
                f"ON m.id = o.message_id WHERE o.message_id IN ({marks})",
                ids,
            )
        }

    def claim(
        self, channels: Iterable[Channel], *, lease_seconds: float, limit: int
    ) -> list[Outbound]:
        """Take up to `limit` due messages on `channels` for `lease_seconds`."""
        wanted = [c.value for c in channels]
        if not wanted:
            return []
        now = self.clock()
        marks = ",".join("?" * len(wanted))
        with self.store.write() as db:
            ids = [
                r[0]
                for r in db.execute(
                    f"SELECT message_id FROM outbox WHERE status IN ('queued','sending') "
                    f"AND due_at <= ? AND channel IN ({marks}) "
                    "ORDER BY due_at, message_id LIMIT ?",
                    (now, *wanted, limit),
                )
            ]
            if not ids:
                return []
            id_marks = ",".join("?" * len(ids))
            before = self._states(db, ids)
            db.execute(
                f"UPDATE outbox SET status = 'sending', due_at = ?, attempts = attempts + 1 "
                f"WHERE message_id IN ({id_marks})",
                (now + lease_seconds, *ids),
            )
            found = db.execute(
                f"SELECT o.*, m.body, m.contact_id, m.at FROM outbox o "
                f"JOIN messages m ON m.id = o.message_id WHERE o.message_id IN ({id_marks}) "
                f"ORDER BY o.created_at, o.message_id",
                ids,
            ).fetchall()
            self._audit(db, ids, "outbox:sending", before)
            return [self._outbound(db, row) for row in found]

    def _outbound(self, db: sqlite3.Connection, row: sqlite3.Row) -> Outbound:
        thread = db.execute(
            "SELECT direction, external_id FROM messages WHERE contact_id = ? "
            "AND external_id IS NOT NULL AND id <> ? AND direction <> 'note' "
            "AND (at < ? OR (at = ? AND id < ?)) ORDER BY at, id",
            (row["contact_id"], row["message_id"], row["at"], row["at"], row["message_id"]),
        ).fetchall()
        ids = [(r["direction"], r["external_id"]) for r in thread]
        ids = [(d, x) for d, x in ids if _MESSAGE_ID.fullmatch(x)]
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

    def _refused(self, db: sqlite3.Connection, row: sqlite3.Row) -> str | None:
        """Why the message may not go out for lack of consent, judged with the customer's
        consents now (one withdrawn after the message was queued counts) and the reply
        window as it was when the message was written; None when it may go out."""
        found = db.execute(
            "SELECT c.channel, c.last_inbound_at, cu.consents FROM contacts c "
            "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?",
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
            now=records.ts(row["at"]),
            contact_channel=contact_channel,
            last_inbound_at=records.ts(found[1]) if found[1] is not None else None,
        )

    def _template(
        self, db: sqlite3.Connection, row: sqlite3.Row
    ) -> tuple[str, str, tuple[str, ...]]:
        """For a WhatsApp message outside the 24-hour window: the approved template its
        body fills, the template's language and the parameters, in order; ("", "", ()) to
        send text (inside the window; or no template fits, and the provider says no)."""
        if row["channel"] != Channel.WHATSAPP.value:
            return "", "", ()
        form = whatsapp_form(db, row["customer_id"], row["body"], self.clock())
        return form if form is not None else ("", "", ())

    def sent(self, message_id: int, receipt: ProviderReceipt) -> None:
        """The provider accepted it: final for the outbox; the message remembers its id."""
        now = self.clock()
        with self.store.write() as db:
            before = self._states(db, [message_id])
            holder = db.execute(
                "SELECT message_id FROM outbox WHERE provider_id = ? AND message_id <> ?",
                (receipt.provider_id, message_id),
            ).fetchone()
            # sent all the same (never again to the customer), without another's id
            provider_id = receipt.provider_id if holder is None else None
            note = None if holder is None else receipt.taken(int(holder[0]))
            db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, provider_id = ?, "
                "last_error = ? WHERE message_id = ?",
                (int(now), provider_id, note, message_id),
            )
            self.set_delivery(db, message_id, receipt.delivery, None, now, provider_id)
            detail = {"provider_id": receipt.provider_id}
            self._audit(
                db, [message_id], "outbox:sent", before, detail | ({"note": note} if note else {})
            )

    def retry(self, message_id: int, reason: str, due_at: float) -> None:
        """Not accepted now: back in the queue until `due_at`, the reason kept."""
        with self.store.write() as db:
            before = self._states(db, [message_id])
            cur = db.execute(
                "UPDATE outbox SET status = 'queued', due_at = ?, last_error = ? "
                "WHERE message_id = ? AND status = 'sending'",
                (due_at, reason, message_id),
            )
            if cur.rowcount:
                self._audit(db, [message_id], "outbox:retry", before, {"reason": reason})

    def failed(self, message_id: int, reason: str, *, refused: bool = True) -> None:
        """Refused for good (`refused`: the provider answered no) or given up after
        unanswered attempts (not `refused`): the message says why."""
        now = self.clock()
        with self.store.write() as db:
            before = self._states(db, [message_id])
            db.execute(
                "UPDATE outbox SET status = 'failed', last_error = ?, refused = ? "
                "WHERE message_id = ?",
                (reason, int(refused), message_id),
            )
            self.set_delivery(db, message_id, Delivery.FAILED, reason, now)
            self._audit(db, [message_id], "outbox:failed", before, {"reason": reason})

    @staticmethod
    def _by_provider_id(db: sqlite3.Connection, provider_id: str) -> tuple[int, str | None] | None:
        """The message the provider knows as `provider_id` and its delivery; an e-mail
        Message-ID matches with or without its angle brackets."""
        ids = [provider_id] if provider_id.startswith("<") else [provider_id, f"<{provider_id}>"]
        for candidate in ids:
            row = db.execute(
                "SELECT o.message_id, m.delivery FROM outbox o JOIN messages m "
                "ON m.id = o.message_id WHERE o.provider_id = ?",
                (candidate,),
            ).fetchone()
            if row is not None:
                return int(row[0]), row[1]
        return None

    def record_receipt(self, provider_id: str, delivery: Delivery) -> bool:
        """A provider's later report (delivered, read) for the message it knows as
        `provider_id`; never moves a message back. False when no message has that id."""
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
            self.set_delivery(db, message_id, delivery, None, now)
            self._audit(db, [message_id], f"delivery:{delivery.value}", before)
            return True

    def record_failure(self, provider_id: str, reason: str) -> bool:
        """The provider could not deliver the message it accepted as `provider_id` (a
        failed status, a bounce): the message is failed, with the provider's reason.
        A message already read stays read. False when no message has that id."""
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
                "UPDATE outbox SET status = 'failed', last_error = ?, refused = 1 "
                "WHERE message_id = ?",
                (reason, message_id),
            )
            self.set_delivery(db, message_id, Delivery.FAILED, reason or "not delivered", now)
            self._audit(db, [message_id], "delivery:failed", before, {"reason": reason})
            return True

    def counts(self) -> OutboxCounts:
        with self.store.read() as db:
            found = dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
        return OutboxCounts(**{k: int(v) for k, v in found.items()})

    def next_due(self) -> float | None:
        """When the soonest waiting message falls due (None: nothing waits)."""
        with self.store.read() as db:
            at = db.execute(
                "SELECT min(due_at) FROM outbox WHERE status IN ('queued','sending')"
            ).fetchone()[0]
        return float(at) if at is not None else None

    @staticmethod
    def set_delivery(
        db: sqlite3.Connection,
        message_id: int,
        delivery: Delivery,
        failure: str | None,
        now: float,
        provider_id: str | None = None,
    ) -> None:
        """The message's delivery (and its id at the provider, when first known), on the
        message, on its timeline event, and in the change feed (consoles refresh)."""
        row = db.execute(
            "UPDATE messages SET delivery = ?, failure = ?, "
            "external_id = coalesce(external_id, ?) WHERE id = ? RETURNING contact_id, "
            "(SELECT event_id FROM outbox WHERE message_id = ?) AS event_id",
            (delivery.value, failure, provider_id, message_id, message_id),
        ).fetchone()
        if row is None:
            return
        if row["event_id"] is not None:
            db.execute(
                "UPDATE events SET payload = json_set(payload, '$.delivery', ?, '$.failure', ?) "
                "WHERE id = ? AND json_valid(payload)",
                (delivery.value, failure, row["event_id"]),
            )
        db.execute(
            "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
            (int(now), "contact", row["contact_id"], f"delivery:{delivery.value}", "dispatcher"),
        )


def whatsapp_form(
    db: sqlite3.Connection, customer_id: int, body: str, now: float
) -> tuple[str, str, tuple[str, ...]] | None:
    """How a WhatsApp message with `body` to the customer can go out at `now`: as text,
    ("", "", ()), inside the 24-hour window (the customer last wrote on WhatsApp no longer
    ago than that); outside it, the approved template the body fills (name, language,
    parameters in order); None when it cannot: outside the window and no template fits."""
    last = db.execute(
        "SELECT max(last_inbound_at) FROM contacts WHERE customer_id = ? AND channel = 'whatsapp'",
        (customer_id,),
    ).fetchone()[0]
    if last is not None and now - float(last) <= WHATSAPP_WINDOW.total_seconds():
        return "", "", ()
    for name, language, template_body in db.execute(
        "SELECT coalesce(nullif(provider_name, ''), name), language, body FROM templates "
        "WHERE whatsapp_approved AND NOT retired "
        "AND coalesce(channel, 'whatsapp') = 'whatsapp' ORDER BY name"
    ):
        parameters = template_parameters(body, template_body)
        if parameters is not None:
            return name, language or "", parameters
    return None


def template_parameters(body: str, template_body: str) -> tuple[str, ...] | None:
    """The values `body` gives the variables of `template_body`, in order of appearance,
    or None when `body` is not the template filled (see `templating.matches`)."""
    parts = templating.VARIABLE.split(template_body)
    pattern = "".join(re.escape(p) if i % 2 == 0 else r"([^\n\t]+?)" for i, p in enumerate(parts))
    found = re.fullmatch(pattern, body)
    return None if found is None else found.groups()
