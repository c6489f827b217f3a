"""Screen pop for every store: what a looked-up value is (a phone, an e-mail, an order number
or a name), and a customer's caller card. Pure: the stores find the customers.

A phone is normalised to E.164 (backends.identity) and found through the identities index,
as inbound messages are; an e-mail likewise; an order number by the orders table's key.
Anything else goes to the type-ahead search.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from backends.base import InvalidInput
from backends.identity import normalise
from backends.models import CallerCard, Contact, CustomerFacts, CustomerHit, LookupKind

#: What reads as a phone number: digits with the usual separators, an optional +.
PHONEISH = re.compile(r"^\+?[\d\s().\-/]{6,}$")
#: Open contacts listed per customer, newest first.
OPEN_CONTACTS = 10
MAX_LIMIT = 50
#: The columns of `customers` a caller card reads, in `card`'s order.
CARD_COLUMNS = (
    "id, first_name, last_name, emails, phones, segment, tier, language, tags, "
    "churn_risk, unhappy, lifetime_value, currency"
)


def classify(value: str, region: str) -> tuple[LookupKind, str]:
    """What `value` is read as, and its normalised form (the text itself for a name or an
    order number; which of those it is, only the store can tell)."""
    text = value.strip()
    if "@" in text:
        return LookupKind.EMAIL, normalise.email(text) or text.lower()
    if PHONEISH.match(text):
        e164, _ = normalise.phone(text, region)
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


def read_as(
    value: str, limit: int, as_kind: LookupKind | None, region: str
) -> tuple[str, LookupKind, str]:
    """(the text, the kind it is looked up as, its normalised form).

    Raises:
        InvalidInput: a bad limit, nothing to look up, or a value that is not the kind asked.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1..{MAX_LIMIT} (got {limit})")
    text = value.strip()
    if not text:
        raise InvalidInput("nothing to look up: give a phone number, e-mail, order number or name")
    kind, norm = classify(text, region)
    if as_kind is not None and as_kind is not kind:
        if as_kind is LookupKind.ORDER:
            kind, norm = LookupKind.ORDER, text.upper()
        elif as_kind is LookupKind.PHONE:
            raise InvalidInput(f"{text!r} is not a phone number")
        else:
            raise InvalidInput(f"{text!r} is not an e-mail address")
    if kind is LookupKind.EMAIL and "@" not in norm:
        raise InvalidInput(f"{text!r} is not a usable e-mail address")
    return text, kind, norm


def identity_keys(
    kind: LookupKind, text: str, norm: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The identity kinds and values a phone or e-mail is found by (empty: neither)."""
    if kind is LookupKind.PHONE:
        return ("phone", "whatsapp_id"), (norm,)
    if kind is LookupKind.EMAIL:
        return ("email",), tuple(dict.fromkeys((norm, text.lower())))
    return (), ()


def try_order(kind: LookupKind, found: Sequence[int], text: str) -> bool:
    """Whether the text is looked up as an order number too."""
    return kind is LookupKind.ORDER or (
        not found and kind is not LookupKind.EMAIL and any(c.isdigit() for c in text)
    )


def matches(
    ids: Sequence[int],
    matched: str,
    limit: int,
    as_kind: LookupKind | None,
    search: Callable[[str, int], tuple[CustomerHit, ...]],
    text: str,
) -> dict[int, str]:
    """The customers to show and how each matched: those found by identity or order, else
    (a partial number, a name, given as any kind) the type-ahead search's, best first."""
    if ids:
        return {cid: matched for cid in ids[:limit]}
    if as_kind is None:
        return {h.id: h.matched for h in search(text, limit)}
    return {}


def card(
    row: Sequence[Any], matched: str, contacts: tuple[Contact, ...], facts: CustomerFacts
) -> CallerCard:
    """A customer's caller card from a row of CARD_COLUMNS, their open contacts and facts."""
    emails, phones, tags = json.loads(row[3]), json.loads(row[4]), json.loads(row[8])
    flags = [f for f, on in (("churn_risk", row[9]), ("unhappy", row[10])) if on]
    flags.extend(str(t) for t in tags if str(t) not in flags)
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
        facts=facts,
    )
