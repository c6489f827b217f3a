"""Request and answer bodies: values to JSON bytes and back, with msgspec.

msgspec (C) writes dataclasses, enums, tuples and datetimes itself and
rebuilds typed models in one pass: about ten times faster than `json` plus
`codec`'s generic conversion, which is most of what a 200-event timeline
costs on the wire. Event payloads the store hands out as JSON text
(`backends.payload.Payload`) are sent as that text. What the store hands out (times in UTC to the second,
finite numbers, payloads parsed from JSON) is written exactly as the
portable path (`codec.to_json` + `json.dumps`) writes it. Other values are
written as valid JSON with the same meaning: a non-finite float as `null`
(JSON has no NaN), a time with its own offset or fraction of a second. A
type msgspec does not know takes the portable path, and a body msgspec
cannot read into the type goes through `codec.from_json`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from backends.http.codec import from_json, portable_encode, to_json
from backends.models import EventKind
from backends.payload import Payload, raw_json


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Payload):  # stored JSON text: sent as it is
        return msgspec.Raw(value.raw_json())
    raise TypeError(f"{type(value).__name__} is not a wire type")


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)


def encode(value: Any) -> bytes:
    """The JSON body for a result (msgspec; the portable path for types it does not know)."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError, OverflowError):
        return portable_encode(to_json(value))


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


# -- a timeline page straight from stored rows ---------------------------------------------
# Opening a customer sends 200 events. Building 200 `TimelineEvent` models only to write
# them out again is half of what the server spends on that answer, so the server writes
# the store's rows (`SQLiteBackend.timeline_rows`) through these mirrors instead: the same
# fields in the same order, the same values (a time as UTC, a payload as
# `Payload.raw_json` sends it), hence the same bytes as encoding the models
# (tests/backends/test_http_wire.py checks them byte for byte).


class _Event(msgspec.Struct):
    """The JSON of a `TimelineEvent`, field for field."""

    id: Any
    customer_id: Any
    at: datetime
    kind: str
    channel: Any
    source: Any
    summary: Any
    payload: msgspec.Raw
    contact_id: Any


class _Page(msgspec.Struct):
    """The JSON of a `TimelinePage`."""

    events: list[_Event]
    next_cursor: str | None


class _View(msgspec.Struct):
    """The JSON of a `CustomerView` (the profile and facts are models)."""

    customer: Any
    facts: Any
    timeline: _Page


_KIND_VALUES = frozenset(k.value for k in EventKind)


def timeline_page(rows: Sequence[tuple[Any, ...]], next_cursor: str | None) -> _Page | None:
    """A page of `rows.EVENT_COLUMNS` tuples ready to encode as a `TimelinePage`, or None
    when a row is not what a model would carry (an unknown kind): the caller then builds
    the models, which say what is wrong."""
    raw, stamp, kinds = msgspec.Raw, datetime.fromtimestamp, _KIND_VALUES
    events: list[_Event] = []
    add = events.append
    for r in rows:
        if r[3] not in kinds:
            return None
        add(_Event(r[0], r[1], stamp(r[2], UTC), r[3], r[4], r[5], r[6], raw(raw_json(r[7])), r[8]))
    return _Page(events, next_cursor)


def encode_view(customer: Any, facts: Any, page: _Page) -> bytes:
    """The body of a `CustomerView` whose timeline is a `timeline_page`."""
    return _ENCODER.encode(_View(customer, facts, page))


def encode_page(page: _Page) -> bytes:
    """The body of a `TimelinePage` made by `timeline_page`."""
    return _ENCODER.encode(page)
