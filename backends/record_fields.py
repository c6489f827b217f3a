"""A source record's fields as the SQLite store keeps them: the values, against a shape.

A source record is kept as received, a JSON object (`{"id":"C1","first_name":"Mario",...}`).
Every record of a file repeats the same keys, about half of its text. The store keeps the
keys once, as a *shape* (`["id","first_name",...]`, a nested object's keys as
`["shipping",["line1","city"]]`, and a key whose value is the record's own id, its
`source_id`, as `["id",0]`) in a table of its own, and a record as its other values in
that order, nested ones included: as text separated by a unit separator (U+001F, after a
record separator, U+001E) where every value is a string without those two characters,
else as a JSON list. `unpack` gives back the object's text exactly as `jsontext.dumps`
writes it, key order included, so every reader sees the same record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from backends.identity.jsontext import dumps

Shape = list[Any]  # of str (a key), [str, Shape] (an object's key) and [str, 0] (the id's)
_TEXT = "\x1e"  # a record kept as text starts with it
_SEP = "\x1f"  # between its values
OWN_ID = 0  # in a shape: the value is the record's source_id


def split(fields: dict[str, Any], source_id: str) -> tuple[Shape, list[Any]]:
    """(shape, values) of an object: the values in the shape's order, nested ones
    flattened, the value that is the record's own id left out."""
    values: list[Any] = []

    def walk(obj: dict[str, Any]) -> Shape:
        shape: Shape = []
        for key, value in obj.items():
            if type(value) is dict:
                shape.append([key, walk(value)])
            elif type(value) is str and value == source_id:
                shape.append([key, OWN_ID])
            else:
                shape.append(key)
                values.append(value)
        return shape

    return walk(fields), values


def rebuild(shape: Shape, values: Iterator[Any], source_id: str) -> dict[str, Any]:
    """The object a shape and its values stand for."""
    out: dict[str, Any] = {}
    for key in shape:
        if type(key) is list:
            out[key[0]] = source_id if key[1] == OWN_ID else rebuild(key[1], values, source_id)
        else:
            out[key] = next(values)
    return out


def keys_of(shape: Shape) -> list[str]:
    """Every key a shape holds, a nested object's included."""
    out: list[str] = []
    for key in shape:
        if type(key) is list:
            out.append(key[0])
            if key[1] != OWN_ID:
                out.extend(keys_of(key[1]))
        else:
            out.append(key)
    return out


def pack(text: str, source_id: str) -> tuple[str, str] | None:
    """(shape text, values text) of a record's JSON text; None for a text that is not a
    JSON object (kept as it is)."""
    try:
        fields = json.loads(text)
    except (TypeError, ValueError):
        return None
    if type(fields) is not dict:
        return None
    shape, values = split(fields, source_id)
    if values and all(type(v) is str and _TEXT not in v and _SEP not in v for v in values):
        return dumps(shape), _TEXT + _SEP.join(values)
    return dumps(shape), dumps(values)


@lru_cache(maxsize=256)
def _shape(text: str) -> Shape:
    value: Shape = json.loads(text)
    return value


def loads(values: str, shape: str | None, source_id: str) -> Any:
    """The record a stored text stands for, parsed (no shape: the text parsed as it is)."""
    if shape is None:
        return json.loads(values)
    items = values[1:].split(_SEP) if values.startswith(_TEXT) else json.loads(values)
    return rebuild(_shape(shape), iter(items), source_id)


def unpack(values: str, shape: str | None, source_id: str) -> str:
    """A record's JSON text from its stored values and shape text (no shape: as stored)."""
    if shape is None:
        return values
    return dumps(loads(values, shape, source_id))
