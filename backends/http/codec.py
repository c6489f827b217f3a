"""JSON <-> Python values by type hint: the models' `from_json`, query strings, error bodies.

Models serialise with their own `to_json()`; this module rebuilds them from
the type hints of the dataclass (nested models, tuples, enums, datetimes), so
a model added to `backends.models` needs no code here.
The bytes on the wire are `backends.http.bodies`' job (msgspec, with this
module's conversions as the portable fallback).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar, get_args, get_origin

from backends import base, models
from backends.base import InvalidInput, VistaError
from backends.models import _jsonable

T = TypeVar("T")
_NONE = type(None)


def to_json(value: Any) -> Any:
    """A plain JSON-able value: models, enums, datetimes, tuples and mappings converted."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls: type = type(value)
        return _encoder(cls)(value)
    if isinstance(value, tuple | list) and value and dataclasses.is_dataclass(value[0]):
        first: type = type(value[0])
        encode = _encoder(first)
        return [encode(v) if type(v) is first else _jsonable(v) for v in value]
    return _jsonable(value)


_PLAIN = (int, str, float, bool, int | None, str | None, float | None, bool | None)


def _datetime_text(value: datetime | None) -> str | None:
    """The models' time format (UTC, to the second, `Z`), without strftime's cost."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat()[:19] + "Z"


def _enum_value(value: enum.Enum | None) -> Any:
    return None if value is None else value.value


@functools.lru_cache(maxsize=512)
def _field_encoder(tp: Any) -> Callable[[Any], Any] | None:
    """A converter for values of type `tp`; None when they are JSON already."""
    if tp in _PLAIN:
        return None
    inner = optional_inner(tp)
    if inner is datetime:
        return _datetime_text
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return _enum_value
    if isinstance(inner, type) and dataclasses.is_dataclass(inner):
        encode = _encoder(inner)
        return lambda v: None if v is None else encode(v)
    if get_origin(inner) is tuple:
        args = get_args(inner)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _field_encoder(args[0])
            if item is None:
                return list
            return lambda v: [item(x) for x in v]
    if get_origin(inner) in (Mapping, dict) and get_args(inner)[1:] == (Any,):
        # free-form payloads (parsed JSON): passed as they are; `json_default` catches the rest
        return None
    return _jsonable


def json_default(value: Any) -> Any:
    """`json.dumps(default=...)`: what a free-form payload may hold besides JSON."""
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    converted = _jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return converted


@functools.cache
def _encoder(cls: type) -> Callable[[Any], dict[str, Any]]:
    """A fast `to_json` for one model class, built once from its type hints."""
    hints = _hints(cls)
    fields = [(f.name, _field_encoder(hints[f.name])) for f in dataclasses.fields(cls)]

    def encode(value: Any) -> dict[str, Any]:
        if type(value) is not cls:  # a subclass: take the generic road
            return _jsonable(value)  # type: ignore[no-any-return]
        out = {}
        for name, convert in fields:
            item = getattr(value, name)
            out[name] = item if convert is None else convert(item)
        return out

    return encode


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (typing.Union, types.UnionType)


def optional_inner(tp: Any) -> Any:
    """`X` for `X | None`, else `tp` unchanged."""
    if _is_union(tp):
        rest = [a for a in get_args(tp) if a is not _NONE]
        if len(rest) == 1:
            return rest[0]
    return tp


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 time with a zone (`Z` or an offset)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise InvalidInput(
            f"malformed time {text!r}: use ISO 8601, e.g. 2026-11-20T10:00:00Z"
        ) from e
    if value.tzinfo is None:
        raise InvalidInput(f"time {text!r} has no time zone")
    return value


def from_json(tp: Any, data: Any) -> Any:
    """Rebuild a value of type `tp` from its JSON form.

    Raises:
        InvalidInput: the data does not fit the type.
    """
    try:
        return _decoder(tp)(data)
    except VistaError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise InvalidInput(f"malformed value for {getattr(tp, '__name__', tp)}: {e}") from e


def _checked(kind: type) -> Callable[[Any], Any]:
    def check(data: Any) -> Any:
        if data is not None and (type(data) is not kind):
            if kind is float and type(data) is int:
                return float(data)
            raise TypeError(f"expected {kind.__name__}, got {data!r}")
        return data

    return check


@functools.lru_cache(maxsize=512)
def _decoder(tp: Any) -> Callable[[Any], Any]:
    """A decoding function for `tp`, built once: models decode field by field."""
    inner = optional_inner(tp)
    if inner in (int, str, float, bool):
        return _checked(inner)
    if isinstance(inner, type) and dataclasses.is_dataclass(inner):
        hints = _hints(inner)
        fields = [(f.name, _decoder(hints[f.name])) for f in dataclasses.fields(inner) if f.init]
        cls = inner

        def model(data: Any) -> Any:
            if data is None:
                return None
            if not isinstance(data, dict):
                raise TypeError(f"expected an object for {cls.__name__}")
            return cls(**{name: dec(data[name]) for name, dec in fields if name in data})

        return model
    if get_origin(inner) is tuple:
        args = get_args(inner)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])

            def many(data: Any) -> Any:
                if data is None:
                    return None
                if not isinstance(data, list | tuple):
                    raise TypeError(f"expected a list, got {type(data).__name__}")
                return tuple(item(v) for v in data)

            return many
    if inner is datetime:
        return lambda data: None if data is None else parse_datetime(str(data))
    if get_origin(inner) in (Mapping, dict) and get_args(inner)[1:] == (Any,):

        def free_form(data: Any) -> Any:  # a payload: parsed JSON is already what it holds
            if data is not None and not isinstance(data, dict):
                raise TypeError(f"expected an object, got {type(data).__name__}")
            return data

        return free_form
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return lambda data: None if data is None else inner(data)
    return lambda data: _decode(tp, data)


def _decode(tp: Any, data: Any) -> Any:
    if tp is Any or tp is object:
        return data
    if data is None:
        return None
    if _is_union(tp):
        errors: list[Exception] = []
        for arg in get_args(tp):
            if arg is _NONE:
                continue
            try:
                return _decode(arg, data)
            except (TypeError, ValueError, KeyError, InvalidInput) as e:
                errors.append(e)
        raise ValueError(f"{data!r} fits none of {tp}: {errors}")
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is typing.Literal:
        if data not in args:
            raise ValueError(f"{data!r} is not one of {args}")
        return data
    if origin is tuple:
        if not isinstance(data, list | tuple):
            raise TypeError(f"expected a list, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in data)
        if not args:
            return tuple(data)
        return tuple(_decode(a, v) for a, v in zip(args, data, strict=True))
    if origin in (list, set, frozenset):
        inner = args[0] if args else Any
        return origin(_decode(inner, v) for v in data)
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        value_tp = args[1] if len(args) == 2 else Any
        return {k: _decode(value_tp, v) for k, v in data.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            if not isinstance(data, dict):
                raise TypeError(f"expected an object for {tp.__name__}")
            hints = _hints(tp)
            kwargs = {
                f.name: _decode(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.init and f.name in data
            }
            return tp(**kwargs)
        if issubclass(tp, enum.Enum):
            return tp(data)
        if tp is datetime:
            return parse_datetime(str(data))
        if tp is date:
            return date.fromisoformat(str(data))
        if tp is bool:
            if not isinstance(data, bool):
                raise TypeError(f"expected true or false, got {data!r}")
            return data
        if tp is int:
            if isinstance(data, bool) or not isinstance(data, int):
                raise TypeError(f"expected an integer, got {data!r}")
            return data
        if tp is float:
            if isinstance(data, bool) or not isinstance(data, int | float):
                raise TypeError(f"expected a number, got {data!r}")
            return float(data)
        if tp is str:
            if not isinstance(data, str):
                raise TypeError(f"expected a string, got {data!r}")
            return data
    return data


# -- query strings ---------------------------------------------------------------


def query_values(tp: Any, value: Any) -> list[str]:
    """A value as repeated query-string values (an empty tuple is one empty value)."""
    if value is None:
        return []
    if isinstance(value, tuple | list | frozenset | set):
        return [_scalar_text(v) for v in value] or [""]
    return [_scalar_text(value)]


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    plain = _jsonable(value)
    return str(plain)


def from_query(tp: Any, values: list[str]) -> Any:
    """Decode repeated query-string values into `tp`.

    Raises:
        InvalidInput: a value does not fit.
    """
    inner = optional_inner(tp)
    origin = get_origin(inner)
    try:
        if origin is tuple:
            args = get_args(inner)
            item = args[0] if args else str
            if values == [""]:
                return ()
            return tuple(_from_text(item, v) for v in values)
        return _from_text(inner, values[-1])
    except VistaError:
        raise
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"malformed query value {values[-1]!r}: {e}") from e


def _from_text(tp: Any, text: str) -> Any:
    tp = optional_inner(tp)
    if tp is bool:
        low = text.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError("expected true or false")
    if tp is int:
        return int(text)
    if tp is float:
        return float(text)
    if tp is datetime:
        return parse_datetime(text)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(text)
    if get_origin(tp) is typing.Literal:
        if text not in get_args(tp):
            raise ValueError(f"expected one of {get_args(tp)}")
        return text
    return text


# -- errors ----------------------------------------------------------------------

#: Error classes by name, for rebuilding an error body on the client.
ERRORS: dict[str, type[VistaError]] = {
    cls.__name__: cls
    for cls in vars(base).values()
    if isinstance(cls, type) and issubclass(cls, VistaError)
}
#: Model classes by name, for rebuilding the `current` state of a Conflict.
MODELS: dict[str, type] = {
    name: cls
    for name, cls in vars(models).items()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls)
}


def error_body(error: VistaError) -> dict[str, Any]:
    """The JSON body of an error answer."""
    body: dict[str, Any] = {
        "type": type(error).__name__,
        "title": error.title,
        "message": error.message,
    }
    current = getattr(error, "current", None)
    if current is not None and dataclasses.is_dataclass(current):
        body["current"] = to_json(current)
        body["current_type"] = type(current).__name__
    return {"error": body}


def portable_encode(payload: Any) -> bytes:
    """`json.dumps` of an already JSON-able value (free-form parts through `json_default`)."""
    return json.dumps(
        payload, ensure_ascii=False, separators=(",", ":"), default=json_default
    ).encode("utf-8")
