"""The outbox of the PostgreSQL store: its SQL (the flow is backends/outbox.py's).

Dispatchers in any number of server processes claim due rows with `SELECT ... FOR
UPDATE SKIP LOCKED`: each row goes to exactly one of them, and none waits for another's
rows.
"""

from __future__ import annotations

import json
from typing import Any

from backends import outbox
from backends.channels import WHATSAPP_WINDOW
from backends.channels.connector import OutboxCounts
from backends.models import Delivery
from backends.postgres import audit
from backends.postgres.store import scalar

new_key = outbox.new_key
template_parameters = outbox.template_parameters


def enqueue(db: Any, reply: outbox.Queued, now: int) -> None:
    """Put a just-written outbound message in the outbox (inside the caller's transaction)."""
    marks = ", ".join(["%s"] * 11)
    db.execute(
        f"INSERT INTO outbox(status, {outbox.QUEUED_COLUMNS}) VALUES ('queued', {marks})",
        reply.row(now),
    )


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
    return outbox.first_fitting(
        db.execute(
            "SELECT coalesce(nullif(provider_name, ''), name), language, body FROM templates "
            "WHERE whatsapp_approved <> 0 AND retired = 0 "
            "AND coalesce(channel, 'whatsapp') = 'whatsapp' ORDER BY name"
        ),
        body,
    )


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


class PgOutbox(outbox.OutboxFlow):
    """The dispatcher's view of the database's outbox (see backends/channels/dispatcher.py)."""

    record = audit.record

    def set_delivery(self, db: Any, *delivery: Any) -> None:
        _set_delivery(db, *delivery)

    def _states(self, db: Any, message_ids: list[int]) -> dict[int, str]:
        return {
            int(r[0]): f"{r[1]}/{r[2] or ''}"
            for r in db.execute(
                "SELECT o.message_id, o.status, m.delivery FROM outbox o JOIN messages m "
                "ON m.customer_id = o.customer_id AND m.id = o.message_id "
                "WHERE o.message_id = ANY(%s) ORDER BY o.message_id",
                (message_ids,),
            )
        }

    def _owners(self, db: Any, message_ids: list[int]) -> dict[int, int]:
        return dict(
            db.execute(
                "SELECT message_id, customer_id FROM outbox WHERE message_id = ANY(%s)",
                (message_ids,),
            ).fetchall()
        )

    def _due(self, db: Any, channels: list[str], now: float, limit: int) -> list[int]:
        """Rows another dispatcher is taking at this moment are skipped, not waited for."""
        return [
            r[0]
            for r in db.execute(
                "SELECT message_id FROM outbox WHERE status IN ('queued','sending') "
                "AND due_at <= %s AND channel = ANY(%s) ORDER BY due_at, message_id "
                "LIMIT %s FOR UPDATE SKIP LOCKED",
                (now, channels, limit),
            )
        ]

    def _lease(self, db: Any, message_ids: list[int], now: float, until: float) -> list[Any]:
        db.execute(
            "UPDATE outbox SET status = 'sending', due_at = %s, attempts = attempts + 1 "
            "WHERE message_id = ANY(%s)",
            (until, message_ids),
        )
        return db.execute(
            "SELECT o.*, m.body, m.contact_id, m.at FROM outbox o JOIN messages m "
            "ON m.customer_id = o.customer_id AND m.id = o.message_id "
            "WHERE o.message_id = ANY(%s) ORDER BY o.created_at, o.message_id",
            (message_ids,),
        ).fetchall()

    def _thread(self, db: Any, row: Any) -> list[tuple[str, str]]:
        return db.execute(
            "SELECT direction, external_id FROM messages WHERE contact_id = %s "
            "AND external_id IS NOT NULL AND id <> %s AND direction <> 'note' "
            "AND (at, id) < (%s, %s) ORDER BY at, id",
            (row["contact_id"], row["message_id"], row["at"], row["message_id"]),
        ).fetchall()

    def _consent_facts(self, db: Any, contact_id: int) -> Any:
        return db.execute(
            "SELECT c.channel, c.last_inbound_at, cu.consents FROM contacts c "
            "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = %s",
            (contact_id,),
        ).fetchone()

    def _whatsapp_form(
        self, db: Any, customer_id: int, body: str, now: float
    ) -> outbox.Form | None:
        return whatsapp_form(db, customer_id, body, now)

    def _set_outbox(
        self, db: Any, message_id: int, changes: dict[str, Any], *, if_sending: bool = False
    ) -> bool:
        where = "message_id = %s AND status = 'sending'" if if_sending else "message_id = %s"
        updated = db.execute(
            f"UPDATE outbox SET {', '.join(f'{column} = %s' for column in changes)} "
            f"WHERE {where} RETURNING message_id",
            (*changes.values(), message_id),
        ).fetchone()
        return updated is not None

    def _provider_message(self, db: Any, provider_id: str) -> tuple[int, str | None] | None:
        row = db.execute(
            "SELECT o.message_id, m.delivery FROM outbox o JOIN messages m "
            "ON m.customer_id = o.customer_id AND m.id = o.message_id "
            "WHERE o.provider_id = %s FOR UPDATE OF o",
            (provider_id,),
        ).fetchone()
        return None if row is None else (int(row[0]), row[1])

    def _provider_holder(self, db: Any, provider_id: str, message_id: int) -> int | None:
        db.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 13))", (f"provider:{provider_id}",)
        )
        found = scalar(
            db,
            "SELECT message_id FROM outbox WHERE provider_id = %s AND message_id <> %s",
            (provider_id, message_id),
        )
        return None if found is None else int(found)

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
