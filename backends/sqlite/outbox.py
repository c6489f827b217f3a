"""The outbox of the SQLite store: its SQL (the flow is backends/outbox.py's).

A reply is written with its outbox row in the reply's own transaction (`enqueue`); the
store's single writer orders dispatchers' claims, so two never take the same row.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from backends import outbox
from backends.channels import WHATSAPP_WINDOW
from backends.channels.connector import OutboxCounts
from backends.models import Delivery
from backends.sqlite import audit

new_key = outbox.new_key
template_parameters = outbox.template_parameters


def enqueue(db: sqlite3.Connection, reply: outbox.Queued, now: int) -> None:
    """Put a just-written outbound message in the outbox (inside the caller's transaction)."""
    marks = ", ".join(["?"] * 11)
    db.execute(
        f"INSERT INTO outbox(status, {outbox.QUEUED_COLUMNS}) VALUES ('queued', {marks})",
        reply.row(now),
    )


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


class SQLiteOutbox(outbox.OutboxFlow):
    """The dispatcher's view of one store's outbox (see backends/channels/dispatcher.py)."""

    record = audit.record

    def _states(self, db: sqlite3.Connection, message_ids: list[int]) -> dict[int, str]:
        marks = ",".join("?" * len(message_ids))
        return {
            r[0]: f"{r[1]}/{r[2] or ''}"
            for r in db.execute(
                f"SELECT o.message_id, o.status, m.delivery FROM outbox o JOIN messages m "
                f"ON m.id = o.message_id WHERE o.message_id IN ({marks})",
                message_ids,
            )
        }

    def _owners(self, db: sqlite3.Connection, message_ids: list[int]) -> dict[int, int]:
        marks = ",".join("?" * len(message_ids))
        return dict(
            db.execute(
                f"SELECT message_id, customer_id FROM outbox WHERE message_id IN ({marks})",
                message_ids,
            ).fetchall()
        )

    def _due(
        self, db: sqlite3.Connection, channels: list[str], now: float, limit: int
    ) -> list[int]:
        marks = ",".join("?" * len(channels))
        return [
            r[0]
            for r in db.execute(
                f"SELECT message_id FROM outbox WHERE status IN ('queued','sending') "
                f"AND due_at <= ? AND channel IN ({marks}) "
                "ORDER BY due_at, message_id LIMIT ?",
                (now, *channels, limit),
            )
        ]

    def _lease(
        self, db: sqlite3.Connection, message_ids: list[int], now: float, until: float
    ) -> list[sqlite3.Row]:
        id_marks = ",".join("?" * len(message_ids))
        db.execute(
            f"UPDATE outbox SET status = 'sending', due_at = ?, attempts = attempts + 1 "
            f"WHERE message_id IN ({id_marks})",
            (until, *message_ids),
        )
        return db.execute(
            f"SELECT o.*, m.body, m.contact_id, m.at FROM outbox o "
            f"JOIN messages m ON m.id = o.message_id WHERE o.message_id IN ({id_marks}) "
            f"ORDER BY o.created_at, o.message_id",
            message_ids,
        ).fetchall()

    def _thread(self, db: sqlite3.Connection, row: sqlite3.Row) -> list[tuple[str, str]]:
        return [
            (r["direction"], r["external_id"])
            for r in db.execute(
                "SELECT direction, external_id FROM messages WHERE contact_id = ? "
                "AND external_id IS NOT NULL AND id <> ? AND direction <> 'note' "
                "AND (at < ? OR (at = ? AND id < ?)) ORDER BY at, id",
                (row["contact_id"], row["message_id"], row["at"], row["at"], row["message_id"]),
            )
        ]

    def _consent_facts(self, db: sqlite3.Connection, contact_id: int) -> sqlite3.Row | None:
        found: sqlite3.Row | None = db.execute(
            "SELECT c.channel, c.last_inbound_at, cu.consents FROM contacts c "
            "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?",
            (contact_id,),
        ).fetchone()
        return found

    def _whatsapp_form(
        self, db: sqlite3.Connection, customer_id: int, body: str, now: float
    ) -> outbox.Form | None:
        return whatsapp_form(db, customer_id, body, now)

    def _set_outbox(
        self,
        db: sqlite3.Connection,
        message_id: int,
        changes: dict[str, Any],
        *,
        if_sending: bool = False,
    ) -> bool:
        sets = ", ".join(f"{column} = ?" for column in changes)
        sending = " AND status = 'sending'" if if_sending else ""
        found = db.execute(
            f"UPDATE outbox SET {sets} WHERE message_id = ?{sending}",
            (*changes.values(), message_id),
        )
        return bool(found.rowcount)

    def _provider_message(
        self, db: sqlite3.Connection, provider_id: str
    ) -> tuple[int, str | None] | None:
        row = db.execute(
            "SELECT o.message_id, m.delivery FROM outbox o JOIN messages m "
            "ON m.id = o.message_id WHERE o.provider_id = ?",
            (provider_id,),
        ).fetchone()
        return None if row is None else (int(row[0]), row[1])

    def _provider_holder(
        self, db: sqlite3.Connection, provider_id: str, message_id: int
    ) -> int | None:
        found = db.execute(
            "SELECT message_id FROM outbox WHERE provider_id = ? AND message_id <> ?",
            (provider_id, message_id),
        ).fetchone()
        return None if found is None else int(found[0])

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
    return outbox.first_fitting(
        db.execute(
            "SELECT coalesce(nullif(provider_name, ''), name), language, body FROM templates "
            "WHERE whatsapp_approved AND NOT retired "
            "AND coalesce(channel, 'whatsapp') = 'whatsapp' ORDER BY name"
        ),
        body,
    )
