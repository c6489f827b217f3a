"""How the store keeps identity rows compactly: blocking keys as codes, raw forms only
where they differ.

**Blocking keys**: a 64-bit code per key, names left as text. A blocking key (`nd:ross|m|1980-02-03`, `a:20121|via roma 1`) is only ever looked up by
equality, so the store keeps an 8-byte code of it instead of its 18 characters (half the
size of `match_keys` and its index). Name keys (`n:rossi|mario`) stay text: the term
frequencies of first names and surnames are counted from them. Two keys sharing a code
(about one pair in 10^11 at a million records) only put two blocks together, which the
comparison then tells apart.

**Raw forms** of identifiers (`identities.raw`, as the source typed it) are kept only where
they differ from what a reader can tell: an empty raw form reads as the normalised value
(`+393331234567`, an e-mail without capitals), or for an external id as the record's own
`source_id`. `RAW` is the column expression that reads it back (`i`: identities, `r`: the
record's `source_records` row).

**External ids**: a record's own id (`external_id` `crm:C123`) is its `source_records`
(source, source_id), which that table's unique index already holds; it is not kept in
`identities` (a third of its rows). `EXTERNAL_IDS` reads them as identity rows (kind,
value, raw, source) from `source_records r`, for the imported records (those with
features: a record a message or call created has no external id); `OWN_EXTERNAL_ID`
tells such a row in `identities` (from a store written before).
"""

from __future__ import annotations

from hashlib import blake2b

#: Keys kept as text (their prefix).
TEXT_KEYS = "n:"


def key_code(key: str) -> int | str:
    """What `match_keys.key` holds for the blocking key `key`."""
    if key.startswith(TEXT_KEYS):
        return key
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def index_order(row: tuple[int | str, int]) -> tuple[bool, int | str, int]:
    """Sort key of a (code, record id) row in SQLite's order (integers before text)."""
    code, rid = row
    return code.__class__ is str, code, rid


RAW = (
    "CASE WHEN i.raw <> '' THEN i.raw WHEN i.kind = 'external_id' THEN r.source_id ELSE i.value END"
)

EXTERNAL_IDS = (
    "SELECT 'external_id', r.source || ':' || r.source_id, r.source_id, r.source "
    "FROM source_records r WHERE EXISTS (SELECT 1 FROM record_features f "
    "WHERE f.record_id = r.id)"
)
OWN_EXTERNAL_ID = "i.kind = 'external_id' AND i.value = r.source || ':' || r.source_id"


def stored_raw(kind: str, value: str, raw: str, source_id: str) -> str:
    """What `identities.raw` holds for an identifier's raw form (see `RAW`)."""
    if raw == value or (kind == "external_id" and raw == source_id):
        return ""
    return raw
