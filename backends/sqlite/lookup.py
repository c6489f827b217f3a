"""Screen pop for the SQLite store: who a phone number, e-mail or order number is, in one read.

What the value is read as, and the caller card, are backends.lookup's; this module finds
the customers: through the identities index, the orders table's key, or the type-ahead
search. Each match comes back as a `CallerCard` with the open contacts and the key facts
(last order, an unfinished checkout), so a ringing phone needs no second request.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from backends import lookup as pure
from backends.models import CallerCard, CustomerFacts, CustomerHit, Lookup, LookupKind
from backends.sqlite import rows
from backends.sqlite.inbound import DEFAULT_REGION

MAX_LIMIT = pure.MAX_LIMIT


def classify(value: str) -> tuple[LookupKind, str]:
    """What `value` is read as, and its normalised form (backends.lookup.classify)."""
    return pure.classify(value, DEFAULT_REGION)


requested = pure.requested


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
    text, kind, norm = pure.read_as(value, limit, as_kind, DEFAULT_REGION)
    ids: list[int] = []
    matched = kind.value
    kinds, values = pure.identity_keys(kind, text, norm)
    if kinds:
        ids = _by_identity(db, kinds, values)
    if pure.try_order(kind, ids, text):
        order = db.execute(
            "SELECT customer_id FROM orders WHERE number = ?", (text.upper(),)
        ).fetchone()
        if order is not None:
            kind, norm, matched, ids = LookupKind.ORDER, text.upper(), "order", [int(order[0])]
    hits = pure.matches(ids, matched, limit, as_kind, search, text)
    cards = tuple(card for cid, how in hits.items() if (card := _card(db, cid, how, facts)))
    return Lookup(query=text, kind=kind, value=norm, matches=cards)


def _card(
    db: sqlite3.Connection, customer_id: int, matched: str, facts: Callable[[int], CustomerFacts]
) -> CallerCard | None:
    row = db.execute(
        f"SELECT {pure.CARD_COLUMNS} FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        return None
    contacts = tuple(
        rows.contact(r)
        for r in db.execute(
            f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} "
            "WHERE c.customer_id = ? AND c.status <> 'resolved' "
            "ORDER BY c.created_at DESC, c.id DESC LIMIT ?",
            (customer_id, pure.OPEN_CONTACTS),
        )
    )
    return pure.card(row, matched, contacts, facts(customer_id))
