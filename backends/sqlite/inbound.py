"""Inbound messages for the SQLite store: a customer wrote in on some channel.

The sender is resolved to a customer through the identities table (normalised
e-mail or E.164 phone); unknown senders get a new customer with a source record
of their own. The message joins the open contact on that channel, or opens one,
and goes on the timeline. A (channel, external id) seen before changes nothing.
A reply (In-Reply-To / References naming the external id of an outbound message
of a contact that is still open on that channel) joins that contact instead.
"""

from __future__ import annotations

import json
import sqlite3

from backends import inbound
from backends.identity.phones import phone_tokens
from backends.inbound import Arrival
from backends.models import Agent, Channel, InboundResult
from backends.sqlite import audit, routing, rows
from backends.sqlite import values as computed
from backends.sqlite.contacts import read_contact
from backends.sqlite.store import Store
from backends.text import plain

SLA_SECONDS = inbound.SLA_SECONDS
DEFAULT_REGION = inbound.DEFAULT_REGION


def find_customer(db: sqlite3.Connection, kind: str, value: str, raw: str) -> int | None:
    """The customer whose identities hold `value` (an e-mail, or a phone as phone or
    WhatsApp id), the most recently updated record's first; None when nobody's do."""
    kinds = ("email",) if kind == "email" else ("phone", "whatsapp_id")
    # the normalised value, and the plain lower-case form older imports stored
    values = tuple(dict.fromkeys((value, raw.strip().lower())))
    row = db.execute(
        f"SELECT r.customer_id FROM identities i JOIN source_records r ON r.id = i.record_id "
        f"WHERE i.kind IN ({','.join('?' * len(kinds))}) "
        f"AND i.value IN ({','.join('?' * len(values))}) "
        "AND r.customer_id IS NOT NULL ORDER BY r.updated_at DESC, r.id LIMIT 1",
        (*kinds, *values),
    ).fetchone()
    return None if row is None else int(row[0])


def create_customer(
    db: sqlite3.Connection, channel: Channel, kind: str, value: str, raw: str, name: str, now: int
) -> int:
    """A new customer for an unknown sender on `channel`, with an `inbound` source record
    holding the identifier, and its search row; its id."""
    first, _, last = name.strip().partition(" ")
    emails, phones = ([value], []) if kind == "email" else ([], [value])
    cur = db.execute(
        "INSERT INTO customers(first_name, last_name, emails, phones, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?)",
        (first, last.strip(), json.dumps(emails), json.dumps(phones), now, now),
    )
    customer_id = int(cur.lastrowid or 0)
    fields = {kind: raw, "channel": channel.value}
    if name.strip():
        fields.update(first_name=first, last_name=last.strip())
    cur = db.execute(
        "INSERT INTO source_records(source, source_id, customer_id, fields, received_at, "
        "updated_at) VALUES (?,?,?,?,?,?)",
        (
            "inbound",
            f"{kind}:{value}",
            customer_id,
            json.dumps(fields, ensure_ascii=False),
            now,
            now,
        ),
    )
    record_id = int(cur.lastrowid or 0)
    kinds = ["email"] if kind == "email" else ["phone"]
    if channel is Channel.WHATSAPP and kind == "phone":
        kinds.append("whatsapp_id")
    db.executemany(
        "INSERT OR IGNORE INTO identities(record_id, kind, value, raw) VALUES (?,?,?,?)",
        [(record_id, k, value, raw) for k in kinds],
    )
    db.execute(
        "INSERT INTO customer_search(rowid, name, emails, phones, orders) VALUES (?,?,?,?,?)",
        (customer_id, plain(name), " ".join(emails), phone_tokens(phones), ""),
    )
    return customer_id


def _threaded_contact(
    db: sqlite3.Connection, channel: Channel, ids: tuple[str, ...]
) -> sqlite3.Row | None:
    """The unresolved contact on `channel` one of whose outbound messages has one of `ids`."""
    return db.execute(
        "SELECT c.id, c.status, c.customer_id FROM messages m JOIN contacts c ON c.id = m.contact_id "
        f"WHERE m.direction = 'outbound' AND m.external_id IN ({','.join('?' * len(ids))}) "
        "AND c.channel = ? AND c.status <> 'resolved' ORDER BY m.at DESC, m.id DESC LIMIT 1",
        (*ids, channel.value),
    ).fetchone()


def deliver_inbound(store: Store, me: Agent, actor: audit.Actor, a: Arrival) -> InboundResult:
    """The SQLite store's writing of a customer's message (see `Backend.deliver_inbound`
    and backends/inbound.py), as `me` (a writer); the audit trail credits it to the
    channel, with `actor`'s token and origin."""
    channel, kind, value, text, subject = a.channel, a.kind, a.value, a.text, a.subject
    external_id, now, sent = a.external_id, a.now, a.sent
    with store.write() as db:
        if external_id is not None:
            seen = db.execute(
                "SELECT * FROM inbound_receipts WHERE channel = ? AND external_id = ?",
                (channel.value, external_id),
            ).fetchone()
            if seen is not None:
                message = db.execute(
                    "SELECT * FROM messages WHERE id = ?", (seen["message_id"],)
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
                "SELECT id, status FROM contacts WHERE customer_id = ? AND channel = ? "
                "AND status <> 'resolved' ORDER BY created_at DESC, id DESC LIMIT 1",
                (customer_id, channel.value),
            ).fetchone()
        topic = a.topic
        routed = False
        if open_row is None:
            profile = db.execute(
                "SELECT tier, language FROM customers WHERE id = ?", (customer_id,)
            ).fetchone()
            guess = routing.guess(db, f"{subject.strip()}\n{text}", profile["language"])
            decision = routing.current_rules(db).decide(
                guess.intent, channel, profile["tier"], guess.language
            )
            cur = db.execute(
                "INSERT INTO contacts(customer_id, channel, subject, intent, intent_source, "
                "language, priority, status, created_at, updated_at, sla_due_at, "
                "last_inbound_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
            contact_id = int(cur.lastrowid or 0)
            rows.log_change(db, now, "contact", contact_id, "created", me.name)
            routed = True
        else:
            contact_id = int(open_row["id"])
            status = "open" if open_row["status"] in ("pending", "snoozed") else open_row["status"]
            db.execute(
                "UPDATE contacts SET status = ?, snoozed_until = NULL, "
                "last_inbound_at = max(coalesce(last_inbound_at, 0), ?), updated_at = ?, "
                "version = version + 1 WHERE id = ?",
                (status, sent, now, contact_id),
            )
            rows.log_change(db, now, "contact", contact_id, "inbound", me.name)
        cur = db.execute(
            "INSERT INTO messages(contact_id, direction, channel, author, body, at, external_id) "
            "VALUES (?,?,?,?,?,?,?)",
            (contact_id, "inbound", channel.value, value, text, sent, external_id),
        )
        message_id = int(cur.lastrowid or 0)
        event_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0]
        event_kind, summary, payload = a.event(message_id)
        db.execute(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
            "contact_id, external_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (customer_id, sent, event_id, event_kind, channel.value, "inbound", summary, payload,
             contact_id, external_id),
        )  # fmt: skip
        computed.refresh(db, (customer_id,), computed.config_of(db, lenient=True), now)
        if external_id is not None:
            db.execute(
                "INSERT INTO inbound_receipts(channel, external_id, message_id, contact_id, "
                "customer_id, created_customer, at) VALUES (?,?,?,?,?,?,?)",
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
        created = (created_customer, open_row is None)
        a.audit(audit.record, db, actor, message_id, customer_id, contact_id, created)
        if routed:  # offered to an operator with the skill and room, when one is online
            routing.route(db, contact_id, now, me.name)
        message = db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        contact = read_contact(db, contact_id)
    return InboundResult(
        message=rows.message(message),
        contact=contact,
        customer_id=customer_id,
        created_customer=created_customer,
        created_contact=open_row is None,
    )
