"""Inbound messages for the PostgreSQL store: a customer wrote in on some channel (the
rules of the SQLite store's backends/sqlite/inbound.py, in PostgreSQL's SQL).

The sender is resolved to a customer through the identities table (normalised
e-mail or E.164 phone); unknown senders get a new customer with a source record
of their own. The message joins the open contact on that channel, or opens one,
and goes on the timeline. A (channel, external id) seen before changes nothing.
A reply (In-Reply-To / References naming the external id of an outbound message
of a contact that is still open on that channel) joins that contact instead.

Deliveries from several server processes at once are serialised per sender and per
(channel, external id) by transaction-scoped advisory locks: one sender never becomes two
customers, and a redelivery racing the first changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from backends import inbound
from backends.audit_chain import Actor
from backends.identity.phones import phone_tokens
from backends.inbound import Arrival
from backends.models import Agent, Channel, Contact, InboundResult
from backends.postgres import audit, routing, rows
from backends.postgres.identity import store as identity_store
from backends.postgres.store import PgStore, scalar
from backends.text import plain

SLA_SECONDS = inbound.SLA_SECONDS
DEFAULT_REGION = inbound.DEFAULT_REGION


def find_customer(db: Any, kind: str, value: str, raw: str) -> int | None:
    kinds = ("email",) if kind == "email" else ("phone", "whatsapp_id")
    # the normalised value, and the plain lower-case form older imports stored
    values = tuple(dict.fromkeys((value, raw.strip().lower())))
    found = scalar(
        db,
        "SELECT r.customer_id FROM identities i JOIN source_records r ON r.id = i.record_id "
        "WHERE i.kind = ANY(%s) AND i.value = ANY(%s) "
        "AND r.customer_id IS NOT NULL ORDER BY r.updated_at DESC, r.id LIMIT 1",
        (list(kinds), list(values)),
    )
    return None if found is None else int(found)


def create_customer(
    db: Any, channel: Channel, kind: str, value: str, raw: str, name: str, now: int
) -> int:
    first, _, last = name.strip().partition(" ")
    emails, phones = ([value], []) if kind == "email" else ([], [value])
    customer_id = int(
        scalar(
            db,
            "INSERT INTO customers(first_name, last_name, emails, phones, created_at, "
            "updated_at) VALUES (%s,%s,%s,%s,%s,%s) RETURNING id",
            (first, last.strip(), json.dumps(emails), json.dumps(phones), now, now),
        )
    )
    fields = {kind: raw, "channel": channel.value}
    if name.strip():
        fields.update(first_name=first, last_name=last.strip())
    record_id = scalar(
        db,
        "INSERT INTO source_records(source, source_id, customer_id, fields, received_at, "
        "updated_at) VALUES (%s,%s,%s,%s,%s,%s) RETURNING id",
        (
            "inbound",
            f"{kind}:{value}",
            customer_id,
            json.dumps(fields, ensure_ascii=False),
            now,
            now,
        ),
    )
    kinds = ["email"] if kind == "email" else ["phone"]
    if channel is Channel.WHATSAPP and kind == "phone":
        kinds.append("whatsapp_id")
    for k in kinds:
        db.execute(
            "INSERT INTO identities(record_id, kind, value, raw) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT DO NOTHING",
            (record_id, k, value, raw),
        )
    db.execute(
        "INSERT INTO customer_search(customer_id, name, emails, phones, orders) "
        "VALUES (%s,%s,%s,%s,%s)",
        (customer_id, plain(name), " ".join(emails), phone_tokens(phones), ""),
    )
    return customer_id


def _threaded_contact(db: Any, channel: Channel, ids: tuple[str, ...]) -> Any | None:
    """The unresolved contact on `channel` one of whose outbound messages has one of `ids`."""
    return db.execute(
        "SELECT c.id, c.status, c.customer_id FROM messages m JOIN contacts c "
        "ON c.customer_id = m.customer_id AND c.id = m.contact_id "
        "WHERE m.direction = 'outbound' AND m.external_id = ANY(%s) "
        "AND c.channel = %s AND c.status <> 'resolved' ORDER BY m.at DESC, m.id DESC LIMIT 1",
        (list(ids), channel.value),
    ).fetchone()


def read_contact(db: Any, contact_id: int) -> Contact:
    row = db.execute(
        f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} WHERE c.id = %s", (contact_id,)
    ).fetchone()
    return rows.contact(row)


def deliver_inbound(store: PgStore, me: Agent, actor: Actor, a: Arrival) -> InboundResult:
    """The PostgreSQL store's writing of a customer's message (see `Backend.deliver_inbound`
    and backends/inbound.py), as `me` (a writer); the audit trail credits it to the
    channel, with `actor`'s token and origin."""
    channel, kind, value, text, subject = a.channel, a.kind, a.value, a.text, a.subject
    external_id, now, sent = a.external_id, a.now, a.sent
    with store.write() as db:
        db.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 3))", (f"sender:{kind}:{value}",)
        )
        # and the import's lock on this identifier: an import meeting the sender waits
        identity_store.lock_keys(db, [f"{kind}\x00{value}"])
        if external_id is not None:
            db.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 5))",
                (f"inbound:{channel.value}:{external_id}",),
            )
            seen = db.execute(
                "SELECT * FROM inbound_receipts WHERE channel = %s AND external_id = %s",
                (channel.value, external_id),
            ).fetchone()
            if seen is not None:
                message = db.execute(
                    f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE id = %s",
                    (seen["message_id"],),
                ).fetchone()
                return InboundResult(
                    message=rows.message(message),
                    contact=read_contact(db, seen["contact_id"]),
                    customer_id=seen["customer_id"],
                    created_customer=bool(seen["created_customer"]),
                    duplicate=True,
                )
        ids = a.thread
        open_row = _threaded_contact(db, channel, ids) if ids else None
        created_customer = False
        if open_row is not None:  # a reply in a thread of ours: its contact, whoever sent it
            customer_id = int(open_row["customer_id"])
        else:
            found = find_customer(db, kind, value, a.sender)
            created_customer = found is None
            if found is None:
                found = create_customer(db, channel, kind, value, a.sender.strip(), a.name, now)
                rows.log_change(db, now, "customer", found, "created", me.name)
            customer_id = found
            open_row = db.execute(
                "SELECT id, status FROM contacts WHERE customer_id = %s AND channel = %s "
                "AND status <> 'resolved' ORDER BY created_at DESC, id DESC LIMIT 1",
                (customer_id, channel.value),
            ).fetchone()
        topic = a.topic
        if open_row is None:
            tier, language = db.execute(
                "SELECT tier, language FROM customers WHERE id = %s", (customer_id,)
            ).fetchone() or ("", "")
            guess = routing.guess(db, f"{subject.strip()}\n{text}", language)
            decision = routing.current_rules(db).decide(guess.intent, channel, tier, guess.language)
            contact_id = scalar(
                db,
                "INSERT INTO contacts(customer_id, channel, subject, intent, intent_source, "
                "language, priority, status, created_at, updated_at, sla_due_at, "
                "last_inbound_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
                (
                    customer_id,
                    channel.value,
                    topic,
                    guess.intent,
                    guess.source,
                    guess.language,
                    decision.priority.rank,
                    "new",
                    sent,
                    now,
                    sent + decision.sla_seconds,
                    sent,
                ),
            )
            rows.log_change(db, now, "contact", contact_id, "created", me.name)
        else:
            contact_id = int(open_row["id"])
            status = "open" if open_row["status"] in ("pending", "snoozed") else open_row["status"]
            db.execute(
                "UPDATE contacts SET status = %s, snoozed_until = NULL, "
                "last_inbound_at = greatest(coalesce(last_inbound_at, 0), %s), updated_at = %s, "
                "version = version + 1 WHERE id = %s",
                (status, sent, now, contact_id),
            )
            rows.log_change(db, now, "contact", contact_id, "inbound", me.name)
        message_id = scalar(
            db,
            "INSERT INTO messages(customer_id, contact_id, direction, channel, author, body, at, "
            "external_id) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
            (customer_id, contact_id, "inbound", channel.value, value, text, sent, external_id),
        )
        event_kind, summary, payload = a.event(message_id)
        db.execute(
            "INSERT INTO events(customer_id, at, kind, channel, source, summary, payload, "
            "contact_id, external_id) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (customer_id, sent, event_kind, channel.value, "inbound", summary, payload,
             contact_id, external_id),
        )  # fmt: skip
        if external_id is not None:
            db.execute(
                "INSERT INTO inbound_receipts(channel, external_id, message_id, contact_id, "
                "customer_id, created_customer, at) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                (
                    channel.value,
                    external_id,
                    message_id,
                    contact_id,
                    customer_id,
                    int(created_customer),
                    now,
                ),
            )
        # offered to an operator with the skill and room, when one is online (before the
        # audit entries: the audit chain's lock comes after every row lock)
        routed = routing.route(db, contact_id, now, me.name) if open_row is None else None
        created = (created_customer, open_row is None)
        a.audit(audit.record, db, actor, message_id, customer_id, contact_id, created)
        if routed is not None:
            routing.audit_routed(db, Actor(me.name, origin="routing"), now, routed)
        message = db.execute(
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE id = %s", (message_id,)
        ).fetchone()
        contact = read_contact(db, contact_id)
    return InboundResult(
        message=rows.message(message),
        contact=contact,
        customer_id=customer_id,
        created_customer=created_customer,
        created_contact=open_row is None,
    )
