"""An event's free-form payload as the store keeps it: JSON text, parsed on first use.

A customer view carries 200 events; most of their payloads are never looked at
(the timeline shows summaries) or only passed on (the HTTP server sends them
as they are stored). `Payload` is a read-only mapping that keeps the stored
text and parses it the first time a key, the length or the items are asked
for. It compares equal to a dict with the same items, and `raw_json()` gives
the text to send without parsing it when it is plain JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def _no_number(_name: str) -> None:
    return None


def parse(text: str) -> dict[str, Any]:
    """A stored payload as a dict: NaN and Infinity a source wrote read as null (JSON has no
    such numbers); a value that is not an object is kept under "value"."""
    import msgspec  # here: the console's start-up does not need it (cached after the first)

    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = json.loads(text, parse_constant=_no_number)
    if isinstance(value, dict):
        return value
    return {} if value is None else {"value": value}


class Payload(Mapping[str, Any]):
    """A read-only mapping over stored JSON text, parsed once, on first use."""

    __slots__ = ("_data", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._data: dict[str, Any] | None = None

    def _parsed(self) -> dict[str, Any]:
        data = self._data
        if data is None:
            data = self._data = parse(self._text)
        return data

    def __getitem__(self, key: str) -> Any:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def __contains__(self, key: object) -> bool:
        return key in self._parsed()

    def get(self, key: str, default: Any = None) -> Any:
        return self._parsed().get(key, default)

    def __repr__(self) -> str:
        return repr(self._parsed())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Payload, (self._text,))

    def raw_json(self) -> str | bytes:
        """The payload as JSON to send (see `raw_json`)."""
        if self._data is None:
            return raw_json(self._text)
        import msgspec

        return msgspec.json.encode(self._data)


def raw_json(text: str) -> str | bytes:
    """A stored payload as the JSON to send (for `msgspec.Raw`): the stored text itself
    when it is a plain JSON object (no parsing, no copy), else the parsed value written
    again as bytes."""
    # json.dumps writes NaN and Infinity, which JSON has no words for
    if text[:1] == "{" and "NaN" not in text and "Infinity" not in text:
        return text
    import msgspec

    return msgspec.json.encode(parse(text))
