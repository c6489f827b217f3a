"""Screen pop for the SQLite store: who a phone number, e-mail or order number is, in one read.

A phone is normalised to E.164 (backends.identity) and found through the identities
index, as inbound messages are; an e-mail likewise; an order number by the orders
table's key. Anything else goes to the type-ahead search. Each match comes back as a
`CallerCard`: the profile's tier, segment and flags, the open contacts and the key facts
(last order, an unfinished checkout), so a ringing phone needs no second request.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable

from backends.base import InvalidInput
from backends.identity import normalise
from backends.models import CallerCard, CustomerFacts, CustomerHit, Lookup, LookupKind
from backends.sqlite import rows
from backends.sqlite.inbound import DEFAULT_REGION

#: What reads as a phone number: digits with the usual separators, an optional +.
PHONEISH = re.compile(r"^\+?[\d\s().\-/]{6,}$")
#: Open contacts listed per customer, newest first.
OPEN_CONTACTS = 10
MAX_LIMIT = 50


def classify(value: str) -> tuple[LookupKind, str]:
    """What `value` is read as, and its normalised form (the text itself for a name or an
    order number; which of those it is, only the store can tell)."""
    text = value.strip()
    if "@" in text:
        return LookupKind.EMAIL, normalise.email(text) or text.lower()
    if PHONEISH.match(text):
        e164, _ = normalise.phone(text, DEFAULT_REGION)
        if e164:
            return LookupKind.PHONE, e164
    return LookupKind.TEXT, text


def requested(value: str, *, phone: str, email: str, order: str) -> tuple[LookupKind | None, str]:
    """The one value asked for and the kind it was given as (None: `value`, any kind).

    Raises:
        InvalidInput: none given, or more than one.
    """
    given = [
        (kind, text)
        for kind, text in (
            (None, value),
            (LookupKind.PHONE, phone),
            (LookupKind.EMAIL, email),
            (LookupKind.ORDER, order),
        )
        if text.strip()
    ]
    if len(given) != 1:
        raise InvalidInput(
            "give one value to look up: a phone, an e-mail, an order number or a name"
            if not given
            else "give only one of value, phone, email and order"
        )
    return given[0]


def _by_identity(
    db: sqlite3.Connection, kinds: tuple[str, ...], values: tuple[str, ...]
) -> list[int]:
    """Customers holding one of `values` as one of `kinds`: the one with the most such
    records first, then the most recently updated."""
    found = db.execute(
        "SELECT r.customer_id, count(*) AS n, max(r.updated_at) AS latest "
        "FROM identities i JOIN source_records r ON r.id = i.record_id "
        f"WHERE i.kind IN ({','.join('?' * len(kinds))}) "
        f"AND i.value IN ({','.join('?' * len(values))}) AND r.customer_id IS NOT NULL "
        "GROUP BY r.customer_id ORDER BY n DESC, latest DESC, r.customer_id",
        (*kinds, *values),
    ).fetchall()
    return [int(r[0]) for r in found]


def lookup(
    db: sqlite3.Connection,
    value: str,
    limit: int,
    facts: Callable[[int], CustomerFacts],
    search: Callable[[str, int], tuple[CustomerHit, ...]],
    as_kind: LookupKind | None = None,
) -> Lookup:
    """The SQLite implementation of `Backend.lookup` on the read transaction `db`;
    `facts` and `search` are the backend's own (customer_facts, search_customers)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1..{MAX_LIMIT} (got {limit})")
    text = value.strip()
    if not text:
        raise InvalidInput("nothing to look up: give a phone number, e-mail, order number or name")
    kind, norm = classify(text)
    if as_kind is not None and as_kind is not kind:
        if as_kind is LookupKind.ORDER:
            kind, norm = LookupKind.ORDER, text.upper()
        elif as_kind is LookupKind.PHONE:
            raise InvalidInput(f"{text!r} is not a phone number")
        else:
            raise InvalidInput(f"{text!r} is not an e-mail address")
    if kind is LookupKind.EMAIL and "@" not in norm:
        raise InvalidInput(f"{text!r} is not a usable e-mail address")
    ids: list[int] = []
    matched = kind.value
    if kind is LookupKind.PHONE:
        ids = _by_identity(db, ("phone", "whatsapp_id"), (norm,))
    elif kind is LookupKind.EMAIL:
        ids = _by_identity(db, ("email",), tuple(dict.fromkeys((norm, text.lower()))))
    if kind is LookupKind.ORDER or (
        not ids and kind is not LookupKind.EMAIL and any(c.isdigit() for c in text)
    ):
        order = db.execute(
            "SELECT customer_id FROM orders WHERE number = ?", (text.upper(),)
        ).fetchone()
        if order is not None:
            kind, norm, matched, ids = LookupKind.ORDER, text.upper(), "order", [int(order[0])]
    hits: dict[int, str] = {}
    if ids:
        hits = {cid: matched for cid in ids[:limit]}
    elif as_kind is None:  # a partial number, a name: the type-ahead search, best first
        hits = {h.id: h.matched for h in search(text, limit)}
    cards = tuple(card for cid, how in hits.items() if (card := _card(db, cid, how, facts)))
    return Lookup(query=text, kind=kind, value=norm, matches=cards)


def _card(
    db: sqlite3.Connection, customer_id: int, matched: str, facts: Callable[[int], CustomerFacts]
) -> CallerCard | None:
    row = db.execute(
        "SELECT id, first_name, last_name, emails, phones, segment, tier, language, tags, "
        "churn_risk, unhappy, lifetime_value, currency FROM customers WHERE id = ?",
        (customer_id,),
    ).fetchone()
    if row is None:
        return None
    emails, phones, tags = json.loads(row[3]), json.loads(row[4]), json.loads(row[8])
    flags = [f for f, on in (("churn_risk", row[9]), ("unhappy", row[10])) if on]
    flags.extend(str(t) for t in tags if str(t) not in flags)
    contacts = tuple(
        rows.contact(r)
        for r in db.execute(
            f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} "
            "WHERE c.customer_id = ? AND c.status <> 'resolved' "
            "ORDER BY c.created_at DESC, c.id DESC LIMIT ?",
            (customer_id, OPEN_CONTACTS),
        )
    )
    return CallerCard(
        id=row[0],
        name=f"{row[1]} {row[2]}".strip(),
        tier=row[6],
        segment=row[5],
        language=row[7],
        email=emails[0] if emails else "",
        phone=phones[0] if phones else "",
        flags=tuple(flags),
        churn_risk=bool(row[9]),
        lifetime_value=row[11],
        currency=row[12],
        matched=matched,
        open_contacts=contacts,
        facts=facts(customer_id),
    )
