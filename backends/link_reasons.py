"""Why two records were linked (or suggested), as the store keeps it: known phrases as numbers.

A link's reason lists each comparison's level with its weight in bits (`same first name
(+6.2), same e-mail (+22.7), ...`): about 110 characters on each of the half a million
links of a million records. `pack` writes it as `~` and, per part, the phrase's number in
`PHRASES` followed by its weight (`~0+6.2,19+22.7,...`, about 40 characters); a reason
with a phrase not in the list is kept as written, and one that starts with `~` itself as
`~=` and the text. `unpack` reads every form back to the text.

`PHRASES` only ever grows at its end: a stored number must name the same phrase forever.
"""

from __future__ import annotations

import re

#: Phrases of the match model's levels and guards (backends/identity/model.py), numbered.
PHRASES: tuple[str, ...] = (
    "same first name",
    "similar first name",
    "first name alike",
    "first-name initial",
    "names swapped",
    "different first name",
    "same last name",
    "similar last name",
    "last name alike",
    "different last name",
    "same birth date",
    "birth date one digit or day/month apart",
    "different birth date",
    "same e-mail",
    "same family e-mail",
    "same e-mail user, other domain",
    "different e-mails",
    "same personal phone",
    "same landline",
    "different phones",
    "same address",
    "same address (typed apart)",
    "different street",
    "same postcode",
    "different postcode",
    "same city",
    "similar city",
    "different city",
    "same visitor id",
    "different visitor ids",
    "same loyalty card",
    "different loyalty cards",
    "guard: household",
    "guard: namesakes at this address (at best one of two)",
    "guard: namesakes at this address",  # with the learnt evidence as its weight
)
MARK = "~"
_NUMBER = {phrase: i for i, phrase in enumerate(PHRASES)}
#: One part of a reason: a phrase (the longest that fits), its weight if any, the separator.
_PART = re.compile(
    "("
    + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True))
    + r")(?: \(([+-]\d+\.\d)\))?(, |$)"
)
_PACKED = re.compile(r"(\d+)([+-]\d+\.\d)?")


def pack(reason: str) -> str:
    """A reason as the store keeps it (see the module docstring)."""
    parts: list[str] = []
    at = 0
    while at < len(reason):
        m = _PART.match(reason, at)
        if m is None:
            return f"{MARK}={reason}" if reason.startswith(MARK) else reason
        parts.append(f"{_NUMBER[m.group(1)]}{m.group(2) or ''}")
        at = m.end()
    packed = MARK + ",".join(parts)
    if not parts or unpack(packed) != reason:
        return f"{MARK}={reason}" if reason.startswith(MARK) else reason
    return packed


def unpack(stored: str | None) -> str:
    """The reason text of a stored one (packed or not)."""
    if not stored or not stored.startswith(MARK):
        return stored or ""
    if stored.startswith(MARK + "="):
        return stored[2:]
    out: list[str] = []
    for item in stored[1:].split(","):
        m = _PACKED.fullmatch(item)
        if m is None or int(m.group(1)) >= len(PHRASES):
            return stored  # not written by `pack`: as it is
        phrase = PHRASES[int(m.group(1))]
        out.append(f"{phrase} ({m.group(2)})" if m.group(2) else phrase)
    return ", ".join(out)
