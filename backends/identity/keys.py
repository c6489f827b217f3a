"""What a record is matched on and what it is found by: probe keys and identifier rows."""

from __future__ import annotations

from backends.identity.features import Features

#: Identity kinds that are matched on (the rest are kept, not compared).
PROBE_KINDS = ("email", "phone", "visitor_id", "loyalty_card")


def found_by_name(f: Features) -> bool:
    """Whether a record is compared with the records of its name (`n:` keys, the names
    swapped too): one with no e-mail and no phone, which little else may find (names,
    birth date and address only, their values typed apart)."""
    return not f.emails and not f.phones


def is_name_key(key: tuple[str, str]) -> bool:
    return key[0] == "key" and key[1].startswith("n:")


def probe_keys(f: Features, blocks: list[str] | None = None) -> list[tuple[str, str]]:
    """(kind, value) pairs a record is matched on: identifiers, then blocking keys ('key').

    `blocks`: `f.block_keys()`, when known already.
    """
    keys = [("email", e) for e in f.emails] + [("phone", p) for p, _k in f.phones]
    if f.visitor_id:
        keys.append(("visitor_id", f.visitor_id))
    if f.loyalty_card:
        keys.append(("loyalty_card", f.loyalty_card))
    keys += [("key", k) for k in (f.block_keys() if blocks is None else blocks)]
    if found_by_name(f) and f.fk != f.lk and len(f.fk) > 1 and len(f.lk) > 1:
        keys.append(("key", f"n:{f.fk}|{f.lk}"))  # first name and surname swapped
    return keys


def identity_values(source: str, source_id: str, f: Features) -> list[tuple[str, str, str]]:
    """(kind, normalised value, raw form) of each `identities` row of a record."""
    out = [("external_id", f"{source}:{source_id}", source_id)]
    # an e-mail's raw form is as the source typed it (lower case): the normalised value may
    # drop what a provider ignores (dots in a Gmail address), which the customer still uses
    shown = f.shown if len(f.shown) == len(f.emails) else f.emails
    out += [("email", e, raw) for e, raw in zip(f.emails, shown, strict=True)]
    out += [("phone", p, p) for p, _k in f.phones]
    out += [("whatsapp_id", w, w) for w in f.whatsapp]
    if f.visitor_id:
        out.append(("visitor_id", f.visitor_id, f.visitor_id))
    if f.loyalty_card:
        out.append(("loyalty_card", f.loyalty_card, f.loyalty_card))
    return out
