"""A customer's provenance as stored: each profile field's source record, time and losers.

Provenance is `field -> {"source", "source_id", "record_id", "at", "losers"[, "values"]}`;
most fields of a customer come from the same two or three records. Stored as is, a
customer's provenance was about 700 bytes, repeating each record's source, id and time per
field. `dumps` writes the packed form: the records once, in a list under the key `"~"`,
and each field as `[record index, losers]` (`[record index, losers, values]`), or as the
record index alone where it has no losers and no values; the profile's own fields are
named by short codes (`~f` for `first_name`: no profile field starts with a tilde). An
entry of any other shape (an agent's correction: `{"source": "agent:NAME", "at",
"losers"}`) stays as it is. `loads` reads every form back to the full one (the packed form
of schema 15 too), so every reader sees the same mapping whichever form a store holds.
"""

from __future__ import annotations

import json
from typing import Any

from backends.identity.jsontext import dumps as _dumps

#: The key of the packed form's record list (no profile field starts with a tilde).
RECORDS = "~"
_ORIGIN = ("source", "source_id", "record_id", "at")
_PLAIN = frozenset({*_ORIGIN, "losers"})
_WITH_VALUES = frozenset({*_PLAIN, "values"})
#: The packed form's names of the profile's fields (any other field keeps its name).
_CODES = {
    "first_name": "~f",
    "last_name": "~l",
    "birth_date": "~b",
    "emails": "~e",
    "phones": "~p",
    "addresses": "~a",
    "language": "~g",
    "tier": "~t",
    "segment": "~s",
}
_NAMES = {code: name for name, code in _CODES.items()}


def pack(provenance: dict[str, Any]) -> dict[str, Any]:
    """The packed form of a full provenance mapping (see the module docstring)."""
    if RECORDS in provenance:  # packed already (the form of schema 15: packed again)
        provenance = unpack(provenance)
    origins: dict[tuple[Any, ...], int] = {}
    fields: dict[str, Any] = {}
    for name, info in provenance.items():
        keys = info.keys() if isinstance(info, dict) else ()
        if keys != _PLAIN and keys != _WITH_VALUES:
            fields[name] = info
            continue
        origin = tuple(info[k] for k in _ORIGIN)
        index = origins.setdefault(origin, len(origins))
        entry: int | list[Any] = index
        if info["losers"] or "values" in info:
            entry = [index, info["losers"]]
            if "values" in info:
                entry.append(info["values"])
        fields[name] = entry
    if not origins:
        return fields
    return {RECORDS: [list(o) for o in origins], **{_CODES.get(k, k): v for k, v in fields.items()}}


def unpack(stored: dict[str, Any]) -> dict[str, Any]:
    """The full provenance mapping of a stored one, packed or not."""
    origins = stored.get(RECORDS)
    if not isinstance(origins, list):
        return stored
    out: dict[str, Any] = {}
    for code, entry in stored.items():
        if code == RECORDS:
            continue
        name = _NAMES.get(code, code)
        if type(entry) is int:
            out[name] = {**dict(zip(_ORIGIN, origins[entry], strict=True)), "losers": []}
        elif isinstance(entry, list) and len(entry) in (2, 3):
            info = dict(zip(_ORIGIN, origins[entry[0]], strict=True))
            info["losers"] = entry[1]
            if len(entry) == 3:
                info["values"] = entry[2]
            out[name] = info
        else:
            out[name] = entry
    return out


def dumps(provenance: dict[str, Any]) -> str:
    """Provenance as the store keeps it: packed compact JSON."""
    return _dumps(pack(provenance))


def loads(text: str | None) -> dict[str, Any]:
    """The full provenance mapping of a stored text (packed or not; empty: `{}`)."""
    value = json.loads(text or "{}")
    return unpack(value) if isinstance(value, dict) else {}


def expand(text: str | None) -> str:
    """A stored text in the full form (for a store that keeps provenance unpacked)."""
    if not text or f'"{RECORDS}"' not in text:
        return text or "{}"
    return json.dumps(loads(text), ensure_ascii=False, separators=(",", ":"))
