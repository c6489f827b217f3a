"""Source records' fields kept as values against a shape (`backends.record_fields`).

`source_records.fields` holds an imported record's values (as text, or a JSON list) and
`source_records.shape` the id of its keys in `record_shapes`; a record with no shape (one
written before schema 17, an inbound record, one whose keys do not look like field names)
holds its JSON object as received. Readers select `FIELDS` with `SHAPE_JOIN` (`r`: the
`source_records` row): the record's text exactly as it was received and stored before.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from functools import lru_cache

from backends import record_fields

#: The record's fields as JSON text, for a query on `source_records r` with `SHAPE_JOIN`.
FIELDS = "vista_record_fields(r.fields, s.keys, r.source_id)"
SHAPE_JOIN = "LEFT JOIN record_shapes s ON s.id = r.shape"

#: Keys a shape may hold: names of fields (a header's, an object's: a letter or underscore,
#: then letters, digits, spaces, dots, hyphens), never values. A record with any other key
#: (an e-mail, a number, a date used as a key) is kept as received, so that shapes stay few;
#: an erasure drops a shape that only the erased records had.
_FIELD_NAME = re.compile(r"[^\W\d][\w .\-]{0,63}\Z")


@lru_cache(maxsize=1024)
def _names_only(shape: str) -> bool:
    return all(map(_FIELD_NAME.match, record_fields.keys_of(json.loads(shape))))


def packed(records: Iterable[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """(values text, shape text) of each record's (JSON text, source_id); (text, None):
    kept as it is."""
    out: list[tuple[str, str | None]] = []
    for text, source_id in records:
        parts = record_fields.pack(text, source_id)
        if parts is None or not _names_only(parts[0]):
            out.append((text, None))
        else:
            out.append((parts[1], parts[0]))
    return out


def shape_ids(db: sqlite3.Connection, shapes: Iterable[str | None]) -> dict[str | None, int | None]:
    """The id of each shape in `record_shapes` (added where new), in this transaction."""
    out: dict[str | None, int | None] = {None: None}
    for shape in set(shapes) - {None}:
        row = db.execute("SELECT id FROM record_shapes WHERE keys = ?", (shape,)).fetchone()
        if row is None:
            row = (db.execute("INSERT INTO record_shapes(keys) VALUES (?)", (shape,)).lastrowid,)
        out[shape] = int(row[0])
    return out


def encode(db: sqlite3.Connection, records: list[tuple[str, str]]) -> list[tuple[str, int | None]]:
    """(fields, shape id) as `source_records` stores each record's (JSON text, source_id)."""
    rows = packed(records)
    ids = shape_ids(db, (shape for _, shape in rows))
    return [(values, ids[shape]) for values, shape in rows]


def forget_unused(db: sqlite3.Connection, shapes: Iterable[int]) -> int:
    """Drop the shapes no record holds any longer (after an erasure); the number dropped."""
    gone = 0
    for shape in set(shapes):
        gone += db.execute(
            "DELETE FROM record_shapes WHERE id = ? AND NOT EXISTS "
            "(SELECT 1 FROM source_records WHERE shape = ?)",
            (shape, shape),
        ).rowcount
    return gone
