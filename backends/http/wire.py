"""The HTTP API's wire format, for the client and the server alike: models, request bodies,
query strings and error bodies as JSON, with msgspec.

The models are `msgspec.Struct`s, so an answer is encoded in one C pass and decoded
straight into the models by a typed decoder (`decoder(tp)`) built from the contract's
return type; a request body is decoded by a small Struct built from the endpoint's body
parameters (`body_decoder`). Times travel as ISO 8601 text: what the store hands out (UTC,
to the second) is written `2026-11-20T10:00:00Z`, and a time sent as an argument is
written that way too. An event's stored payload (`backends.payload.Payload`) is sent as
its stored text. Numbers JSON has no words for (NaN, Infinity) are written as `null`.
"""

from __future__ import annotations

import enum
import functools
import json
import threading
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, get_args, get_origin

import msgspec

from backends import base, models
from backends.base import InvalidInput, VistaError
from backends.payload import Payload

if typing.TYPE_CHECKING:
    from backends.http.routes import Endpoint

_NONE = type(None)


# -- encoding ----------------------------------------------------------------------------


def _enc_hook(value: Any) -> Any:
    """What msgspec does not write itself: a stored payload (sent as its text), another
    read-only mapping, and a value with its own `to_json` (a token's or an import's report)."""
    if isinstance(value, Payload):
        return msgspec.Raw(value.raw_json())
    if isinstance(value, Mapping):
        return dict(value)
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    raise TypeError(f"{type(value).__name__} is not a wire type")


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)
#: Answers written by `json` (the portable path) so their bytes are the same either way.
_JSON_WRITTEN = (models.IdentityModel,)


def encode(value: Any) -> bytes:
    """The JSON body of an answer: a model, a tuple of models, a plain value or a dict.

    A value msgspec cannot write (an integer beyond 64 bits in a free-form mapping) is
    written by `json` from the models' plain form instead.
    """
    try:
        if isinstance(value, _JSON_WRITTEN):
            raise TypeError  # probabilities below 1e-4: msgspec writes 1e-7 where json 1e-07
        return _ENCODER.encode(value)
    except (TypeError, OverflowError, ValueError):
        plain = models.to_builtins(value)
        return json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _utc(value: datetime) -> datetime:
    """A time sent as an argument: UTC, to the second (the store's resolution)."""
    if value.tzinfo is None:
        return value  # the server says that a time needs a zone
    return value.astimezone(UTC).replace(microsecond=0)


def encode_body(fields: Mapping[str, Any]) -> bytes:
    """A request's JSON object body (times in UTC, to the second)."""
    return _ENCODER.encode(
        {k: _utc(v) if isinstance(v, datetime) else v for k, v in fields.items()}
    )


# -- decoding ----------------------------------------------------------------------------


def loads(raw: bytes) -> Any:
    """Parsed JSON, untyped (ValueError when it is not JSON); accepts what `json.loads`
    accepts (NaN, Infinity)."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return json.loads(raw)


#: Held while a decoder is built and while it decodes for the first time: msgspec fills in
#: a model class's type information on first use, and threads doing that at once for the
#: same classes crashed the process (a segfault under 200 threaded clients).
_FIRST_USE = threading.Lock()


def decoder(tp: Any) -> Callable[[bytes], Any]:
    """A function from a JSON body to a value of type `tp`.

    It raises ValueError for a body that is not JSON and InvalidInput for one that does not
    fit the type. Safe to call from many threads at once.
    """
    with _FIRST_USE:
        return _decoder(tp)


@functools.lru_cache(maxsize=256)
def _decoder(tp: Any) -> Callable[[bytes], Any]:
    if tp is Any or tp is object:
        return loads
    typed = msgspec.json.Decoder(_zoned(tp))
    name = getattr(tp, "__name__", str(tp))
    used = False

    def decode(raw: bytes) -> Any:
        nonlocal used
        if not used:
            with _FIRST_USE:
                value = decode_typed(raw)
                used = True  # only now: the others waited for the first decode to finish
                return value
        return decode_typed(raw)

    def decode_typed(raw: bytes) -> Any:
        try:
            try:
                return typed.decode(raw)
            except msgspec.DecodeError as e:
                # JSON msgspec refuses but Python's json reads (a number beyond a double in a
                # stored payload, NaN) is read the same way, then typed by msgspec
                try:
                    data = json.loads(raw)
                except ValueError:
                    raise e from None
                return msgspec.convert(data, typed.type)
        except msgspec.ValidationError as e:
            raise InvalidInput(f"malformed value for {name}: {e}") from e

    return decode


def _zoned(tp: Any) -> Any:
    """`tp` with every top-level `datetime` required to carry a time zone."""
    if tp is datetime:
        return Annotated[datetime, msgspec.Meta(tz=True)]
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = tuple(_zoned(a) for a in get_args(tp))
        return typing.Union[args]  # noqa: UP007 - built from a tuple of types
    return tp


# -- request bodies ----------------------------------------------------------------------


class _Body:
    """The decoder of one endpoint's JSON object body into its keyword arguments."""

    def __init__(self, ep: Endpoint) -> None:
        self.where = f"{ep.method} {ep.url_path}"
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for p in ep.params():
            if p.where != "body":
                continue
            if p.required:
                fields.append((p.name, _zoned(p.type)))
            else:
                fields.append((p.name, _zoned(p.type) | msgspec.UnsetType, msgspec.UNSET))
        self.names = tuple(f[0] for f in fields)
        self.struct = msgspec.defstruct(
            f"{ep.operation_id}_body", fields, kw_only=True, forbid_unknown_fields=True
        )
        self.decoder = msgspec.json.Decoder(self.struct)

    def __call__(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            raw = b"{}"
        try:
            try:
                body = self.decoder.decode(raw)
            except msgspec.ValidationError as e:
                if "got `float`" not in str(e):
                    raise
                body = self._integral(raw, e)
            except msgspec.DecodeError as e:
                # JSON msgspec refuses but Python's json reads (an escaped lone surrogate,
                # NaN) is read the same way, so the operation says what is wrong with it
                try:
                    data = json.loads(raw)
                except ValueError:
                    raise InvalidInput(f"the request body is not JSON: {e}") from e
                body = msgspec.convert(data, self.struct)
        except msgspec.ValidationError as e:
            raise InvalidInput(self._say(str(e))) from e
        out = {}
        for name in self.names:
            value = getattr(body, name)
            if value is not msgspec.UNSET:
                out[name] = value
        return out

    def _integral(self, raw: bytes, error: msgspec.ValidationError) -> Any:
        """The body read again with whole numbers written as floats (`3.0`, `1e2`) as
        integers, as JSON Schema counts them; `error` when that does not fit either."""
        try:
            return msgspec.convert(json.loads(raw, parse_float=_whole), self.struct)
        except (ValueError, RecursionError, msgspec.ValidationError):
            raise error from None

    def _say(self, error: str) -> str:
        """msgspec's account of a body that does not fit, in the API's words."""
        field = error.rpartition("`")[0].rpartition("`")[2]
        if error.startswith("Object missing required field"):
            return f"missing field {field!r} in the request body"
        if error.startswith("Object contains unknown field"):
            return f"unknown parameter(s) for {self.where}: {field}"
        what, at, where = error.partition(" - at `$.")
        if not at:
            if what.startswith("Expected `object`"):
                return "the request body must be a JSON object"
            return f"malformed request body: {what}"
        return f"malformed value for {where.rstrip('`')}: {what}"


def _whole(text: str) -> float | int:
    """A JSON number's value: an int when it is whole (`2.0`), else a float."""
    value = float(text)
    return int(value) if value.is_integer() else value


@functools.cache
def body_decoder(ep: Endpoint) -> Callable[[bytes], dict[str, Any]]:
    """A function from endpoint `ep`'s request body to its keyword arguments (the ones the
    body leaves out are not there). It raises InvalidInput for a body that is not a JSON
    object, misses a required field, has one the endpoint does not know, or a value that
    does not fit its type."""
    return _Body(ep)


# -- times and query strings -------------------------------------------------------------


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 time with a zone (`Z` or an offset).

    Raises:
        InvalidInput: not such a time.
    """
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise InvalidInput(
            f"malformed time {text!r}: use ISO 8601, e.g. 2026-11-20T10:00:00Z"
        ) from e
    if value.tzinfo is None:
        raise InvalidInput(f"time {text!r} has no time zone")
    return value


def optional_inner(tp: Any) -> Any:
    """`X` for `X | None`, else `tp` unchanged."""
    if get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in get_args(tp) if a is not _NONE]
        if len(rest) == 1:
            return rest[0]
    return tp


def query_text(value: Any) -> str:
    """One value as query-string (or path) text: enums by value, times as UTC `Z` text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return models.to_builtins(value)  # type: ignore[no-any-return]
    return str(value)


def query_values(value: Any) -> list[str]:
    """A value as repeated query-string values (an empty tuple is one empty value)."""
    if value is None:
        return []
    if isinstance(value, tuple | list | frozenset | set):
        return [query_text(v) for v in value] or [""]
    return [query_text(value)]


def from_query(tp: Any, values: list[str]) -> Any:
    """Decode repeated query-string values into `tp`.

    Raises:
        InvalidInput: a value does not fit.
    """
    inner = optional_inner(tp)
    try:
        if get_origin(inner) is tuple:
            args = get_args(inner)
            item = args[0] if args else str
            # empty values are left out, so one empty value means none
            return tuple(_from_text(item, v) for v in values if v)
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


# -- capabilities ------------------------------------------------------------------------

#: On a `GET /me` answer: what the store behind the server can do at best (its kind's
#: `Backend.CAPABILITIES`), so a client offers only features the server can serve.
CAPABILITIES_HEADER = "x-vista-capabilities"


def encode_capabilities(caps: base.Capability) -> str:
    """The flags' names, comma-separated (`WRITE,KPIS`; empty for none)."""
    return ",".join(sorted(flag.name for flag in caps if flag.name))


def decode_capabilities(text: str) -> base.Capability:
    """The flags `encode_capabilities` named; a name this side does not know (a newer
    server's feature) is left out, as no front end here could offer it."""
    caps = base.Capability.NONE
    for name in text.split(","):
        flag = base.Capability.__members__.get(name.strip())
        if flag is not None:
            caps |= flag
    return caps


# -- errors ------------------------------------------------------------------------------

#: Error classes by name, for rebuilding an error body on the client.
ERRORS: dict[str, type[VistaError]] = {
    cls.__name__: cls
    for cls in vars(base).values()
    if isinstance(cls, type) and issubclass(cls, VistaError)
}
#: Model classes by name, for rebuilding the `current` state of a Conflict.
MODELS: dict[str, type[msgspec.Struct]] = {
    name: cls
    for name, cls in vars(models).items()
    if isinstance(cls, type) and issubclass(cls, models.Model) and cls is not models.Model
}


def error_body(error: VistaError) -> bytes:
    """The JSON body of an error answer: `{"error": {type, title, message, current?,
    current_type?}}` (a Conflict carries the state that won)."""
    body: dict[str, Any] = {
        "type": type(error).__name__,
        "title": error.title,
        "message": error.message,
    }
    current = getattr(error, "current", None)
    if isinstance(current, msgspec.Struct):
        body["current"] = current
        body["current_type"] = type(current).__name__
    return encode({"error": body})


class ErrorAnswer(msgspec.Struct):
    """The `error` object of an error answer, as far as it is there."""

    type: str | None = None
    title: str | None = None
    message: str | None = None
    current: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # empty: absent
    current_type: str | None = None

    def current_model(self) -> Any:
        """The Conflict's winning state as its model (None when absent or unreadable)."""
        model = MODELS.get(self.current_type or "")
        if model is None or not len(self.current):
            return None
        try:
            return decoder(model)(self.current)
        except (ValueError, VistaError):
            return None


class _ErrorEnvelope(msgspec.Struct):
    error: ErrorAnswer | None = None


_ERROR_DECODER = msgspec.json.Decoder(_ErrorEnvelope)


def read_error(raw: bytes) -> ErrorAnswer:
    """An error answer's `error` object (empty when the body is not one: a proxy's page)."""
    try:
        return _ERROR_DECODER.decode(raw).error or ErrorAnswer()
    except msgspec.DecodeError:
        return ErrorAnswer()
