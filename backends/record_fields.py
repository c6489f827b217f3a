"""A source record's fields as the SQLite store keeps them: the values, against a shape.

A source record is kept as received, a JSON object (`{"id":"C1","first_name":"Mario",...}`).
Every record of a file repeats the same keys, about half of its text. The store keeps the
keys once, as a *shape* (`["id","first_name",...]`, a nested object's keys as
`["shipping",["line1","city"]]`) in a table of its own, and a record as the list of its
values in that order (`["C1","Mario",...]`). `unpack` gives back the object's text exactly
as `jsontext.dumps` writes it, key order included, so every reader sees the same record.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from backends.identity.jsontext import dumps

Shape = list[Any]  # of str (a key) and [str, Shape] (a key whose value is an object)


def shape_of(fields: dict[str, Any]) -> Shape:
    """The shape of an object: its keys in order, a nested object's with its own shape."""
    return [[k, shape_of(v)] if type(v) is dict else k for k, v in fields.items()]


def values_of(fields: dict[str, Any]) -> list[Any]:
    """The object's values in its shape's order (a nested object's as a list likewise)."""
    return [values_of(v) if type(v) is dict else v for v in fields.values()]


def rebuild(shape: Shape, values: list[Any]) -> dict[str, Any]:
    """The object a shape and its values stand for."""
    out: dict[str, Any] = {}
    for key, value in zip(shape, values, strict=True):
        if type(key) is list:
            out[key[0]] = rebuild(key[1], value)
        else:
            out[key] = value
    return out


def keys_of(shape: Shape) -> list[str]:
    """Every key a shape holds, a nested object's included."""
    out: list[str] = []
    for key in shape:
        if type(key) is list:
            out.append(key[0])
            out.extend(keys_of(key[1]))
        else:
            out.append(key)
    return out


def split(text: str) -> tuple[Shape, list[Any]] | None:
    """(shape, values) of a record's JSON text; None for a text that is not a JSON object
    (kept as it is)."""
    try:
        fields = json.loads(text)
    except (TypeError, ValueError):
        return None
    if type(fields) is not dict:
        return None
    return shape_of(fields), values_of(fields)


@lru_cache(maxsize=256)
def _shape(text: str) -> Shape:
    value: Shape = json.loads(text)
    return value


def unpack(values: str, shape: str | None) -> str:
    """A record's JSON text from its stored values and shape text (no shape: as stored)."""
    if shape is None:
        return values
    return dumps(rebuild(_shape(shape), json.loads(values)))


def loads(values: str, shape: str | None) -> Any:
    """The record a stored text stands for, parsed (no shape: the text parsed as it is)."""
    if shape is None:
        return json.loads(values)
    return rebuild(_shape(shape), json.loads(values))
