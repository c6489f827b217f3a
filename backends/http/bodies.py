"""Request and answer bodies: values to JSON bytes and back, with msgspec.

msgspec (C) writes dataclasses, enums, tuples and UTC datetimes itself and
rebuilds typed models in one pass: about ten times faster than `json` plus
`codec`'s generic conversion, which is most of what a 200-event timeline
costs on the wire. Where msgspec's text could differ from the portable path
(`codec.to_json` + `json.dumps`: a time not in UTC or with microseconds, NaN,
a type msgspec does not know) the portable path writes the body, and a body
msgspec cannot read into the type goes through `codec.from_json`, so the
answer is the same either way.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import itertools
import json
import math
import operator
import re
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, get_args, get_origin

import msgspec

from backends.http.codec import from_json, optional_inner, portable_encode, to_json

_ENCODER = msgspec.json.Encoder()


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


_SCALARS = frozenset({str, int, bool, type(None)})


def encode(value: Any) -> bytes:
    """The JSON body for a result: msgspec's bytes, or the portable path's where they could differ."""
    if _native(value):
        try:
            return _ENCODER.encode(value)
        except (TypeError, ValueError, OverflowError):
            pass
    return portable_encode(to_json(value))


def _native(value: Any) -> bool:
    """True when msgspec writes `value` as `to_json` + `json.dumps` would (the same JSON).

    They differ only on a time that is not whole-second UTC, a non-finite float
    (json.dumps writes NaN, msgspec null) and types msgspec does not know. Model
    fields are checked column by column (one pass per field over all the events
    of a page, not one call per event); free-form values (payloads) are packed
    once with msgpack, which keeps floats and times as such, and looked at there.
    """
    loose: list[Any] = []
    return _check_values([value], loose) and (not loose or _loose_ok(loose))


_UTC_ONLY = frozenset({UTC})
_get_tzinfo = operator.attrgetter("tzinfo")
_get_microsecond = operator.attrgetter("microsecond")


def _check_values(values: list[Any], loose: list[Any]) -> bool:
    """Check values of any types: models by class, times here, the rest into `loose`."""
    types = set(map(type, values))
    for tp in types:
        same = values if len(types) == 1 else [v for v in values if type(v) is tp]
        if tp in _SCALARS or (isinstance(tp, type) and issubclass(tp, enum.StrEnum)):
            continue
        if tp is datetime:
            if not _utc_seconds(same):
                return False
        elif dataclasses.is_dataclass(tp):
            if not _check_models(tp, same, loose):
                return False
        elif tp is tuple or tp is list:
            if not _check_values(list(itertools.chain.from_iterable(same)), loose):
                return False
        else:
            loose.extend(same)  # floats, dicts, anything else: packed and looked at once
    return True


def _check_models(cls: type, items: list[Any], loose: list[Any]) -> bool:
    """Check many instances of one model class, one field at a time."""
    for get, kind in _plan(cls):
        column = list(map(get, items))
        if kind == "time":
            ok = _utc_seconds(list(filter(None, column)))
        elif kind == "float":
            ok = _finite(column)
        elif kind == "model":
            ok = _check_values([v for v in column if v is not None], loose)
        elif kind == "models":
            ok = _check_values(list(itertools.chain.from_iterable(filter(None, column))), loose)
        else:
            loose.extend(column)
            ok = True
        if not ok:
            return False
    return True


@functools.cache
def _plan(cls: type) -> tuple[tuple[Callable[[Any], Any], str], ...]:
    """The fields of a model that need a look, and how (plain ones need none)."""
    hints = _hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        tp = optional_inner(hints.get(f.name, Any))
        if tp in (int, str, bool) or (isinstance(tp, type) and issubclass(tp, enum.StrEnum)):
            continue  # the portable encoder passes these through unchanged too
        if tp is datetime:
            kind = "time"
        elif tp is float:
            kind = "float"
        elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
            kind = "model"
        elif get_origin(tp) is tuple and get_args(tp)[1:] == (Ellipsis,):
            item = optional_inner(get_args(tp)[0])
            if item in (int, str, bool) or (
                isinstance(item, type) and issubclass(item, enum.StrEnum)
            ):
                continue
            kind = "models" if isinstance(item, type) and dataclasses.is_dataclass(item) else "any"
        else:
            kind = "any"
        plan.append((operator.attrgetter(f.name), kind))
    return tuple(plan)


def _utc_seconds(times: list[Any]) -> bool:
    """Every one a datetime in UTC, to the second (as the store makes them)."""
    if not times:
        return True
    if set(map(type, times)) != {datetime}:
        return False
    return _UTC_ONLY.issuperset(map(_get_tzinfo, times)) and not any(map(_get_microsecond, times))


def _finite(numbers: list[Any]) -> bool:
    """No NaN or infinity among numbers (None allowed)."""
    present = [n for n in numbers if n is not None]
    if not present:
        return True
    if not {int, float}.issuperset(map(type, present)):
        return False
    try:
        return math.isfinite(math.fsum(present))
    except OverflowError:  # finite but huge: let the portable path write them
        return False


_PACKER = msgspec.msgpack.Encoder()
# In msgpack, a float64 is 0xcb + 8 big-endian bytes: NaN and +-infinity have all
# exponent bits set (7f f or ff f); a time is the timestamp extension (type -1 = 0xff).
_NON_FINITE = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")
_TIMESTAMPS = (re.compile(rb"\xd6\xff"), re.compile(rb"\xd7\xff"), re.compile(rb"\xc7\x0c\xff"))


def _loose_ok(values: list[Any]) -> bool:
    """Free-form values hold only what both encoders write alike (a false alarm only costs
    the portable path)."""
    try:
        packed = _PACKER.encode(values)
    except (TypeError, ValueError, OverflowError):
        return False
    if _NON_FINITE.search(packed):
        return False
    return not any(p.search(packed) for p in _TIMESTAMPS)


@functools.lru_cache(maxsize=512)
def _typed_decoder(tp: Any) -> msgspec.json.Decoder[Any] | None:
    try:
        return msgspec.json.Decoder(tp)
    except (TypeError, ValueError):  # a type msgspec cannot build: the generic path
        return None


def decoder(tp: Any) -> Callable[[bytes], Any]:
    """A function from a JSON body to a value of type `tp` (as `from_json` would build it).

    It raises ValueError for a body that is not JSON and InvalidInput for one that
    does not fit the type.
    """
    return _decoders(tp)


@functools.lru_cache(maxsize=512)
def _decoders(tp: Any) -> Callable[[bytes], Any]:
    typed = _typed_decoder(tp)

    def decode(raw: bytes) -> Any:
        if typed is not None:
            try:
                return typed.decode(raw)
            except msgspec.MsgspecError:
                pass  # not this shape, or NaN: the lenient path says what is wrong
        return from_json(tp, loads(raw))

    return decode


def loads(raw: bytes) -> Any:
    """Parsed JSON (ValueError when it is not JSON); accepts what `json.loads` accepts."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return json.loads(raw)
