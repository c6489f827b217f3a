"""Streaming readers for import files: CSV, JSON Lines and JSON arrays, with line numbers.

Each reader yields `(line, row or None, problem)` one row at a time (bounded
memory whatever the file size); a row it cannot parse comes with a reason
instead of a row, so the importer can report it and go on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from backends.base import InvalidInput

FORMATS = ("csv", "jsonl", "json")
Row = tuple[int, dict[str, Any] | None, str]

csv.field_size_limit(10 * 1024 * 1024)


def detect_format(path: Path, given: str | None) -> str:
    """The format named, or the one the file name says.

    Raises:
        InvalidInput: unknown format, or none given for an unknown extension.
    """
    if given:
        if given not in FORMATS:
            raise InvalidInput(f"unknown format {given!r}; use one of {', '.join(FORMATS)}")
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "tsv", "txt"):
        return "csv"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "json":
        return "json"
    raise InvalidInput(f"cannot tell the format of {path.name}: pass --format csv|jsonl|json")


def read_rows(raw: BinaryIO, fmt: str) -> Iterator[Row]:
    """Rows of an open binary file in `fmt`."""
    if fmt == "csv":
        return _csv_rows(raw)
    if fmt == "jsonl":
        return _jsonl_rows(raw)
    return _json_rows(raw)


def _csv_rows(raw: BinaryIO, as_values: bool = False) -> Iterator[Row]:
    """Rows of a CSV file; `as_values`: the header first, as `(1, names, "header")`, then
    each row as its list of values (`dict(zip(names, values))` makes the row)."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
    try:
        sample = text.readline()
    except UnicodeDecodeError as e:
        raise InvalidInput(f"the file is not UTF-8 text ({e.reason})") from e
    delimiter = max((",", ";", "\t", "|"), key=sample.count)
    header = next(csv.reader([sample], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not header or not any(header):
        raise InvalidInput("the CSV file has no header row")
    if len(set(header)) != len(header):
        raise InvalidInput("the CSV header names a column twice")
    reader = csv.reader(text, delimiter=delimiter)
    if as_values:
        yield 1, header, "header"  # type: ignore[misc]
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            line = reader.line_num + 1
            yield line, None, f"malformed CSV ({e})"
            continue
        except UnicodeDecodeError as e:
            yield reader.line_num + 1, None, f"not UTF-8 text ({e.reason})"
            return
        line = reader.line_num + 1
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != len(header):
            yield line, None, f"expected {len(header)} columns, found {len(values)}"
            continue
        row = values if as_values else dict(zip(header, values, strict=True))
        yield line, row, ""  # type: ignore[misc]


def _jsonl_rows(raw: BinaryIO) -> Iterator[Row]:
    for number, data in enumerate(raw, start=1):
        if not data.strip():
            continue
        try:
            value = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            yield number, None, f"invalid JSON ({e})"
            continue
        if not isinstance(value, dict):
            yield number, None, "expected a JSON object"
            continue
        yield number, value, ""


def _json_rows(raw: BinaryIO, chunk: int = 1 << 16, as_text: bool = False) -> Iterator[Row]:
    """Objects of a top-level JSON array, decoded one at a time (`as_text`: each object
    as its JSON text, to be decoded again elsewhere)."""
    decoder = json.JSONDecoder()
    text = io.TextIOWrapper(raw, encoding="utf-8-sig")
    buf = text.read(chunk)
    pos, line = 0, 1
    # skip to the opening bracket
    while True:
        stripped = buf.lstrip()
        line += buf[: len(buf) - len(stripped)].count("\n")
        buf = stripped
        if buf:
            break
        more = text.read(chunk)
        if not more:
            raise InvalidInput("the JSON file is empty")
        buf = more
    if not buf.startswith("["):
        raise InvalidInput("a JSON import file must hold an array of objects")
    pos = 1
    while True:
        # skip whitespace and commas, counting lines
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf):
                break
            more = text.read(chunk)
            if not more:
                yield line, None, "the JSON array is not closed"
                return
            buf, pos = buf[pos:] + more, 0
        if buf[pos] == "]":
            return
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as e:
                more = text.read(chunk)
                if not more:
                    yield line, None, f"invalid JSON ({e.msg})"
                    return
                buf, pos = buf[pos:] + more, 0
        start_line = line
        line += buf.count("\n", pos, end)
        text_of = buf[pos:end] if as_text else ""
        pos = end
        if len(buf) > 4 * chunk and pos > chunk:
            buf, pos = buf[pos:], 0
        if not isinstance(value, dict):
            yield start_line, None, "expected a JSON object"
            continue
        yield start_line, (text_of if as_text else value), ""  # type: ignore[misc]


class RawRows:
    """The rows of an import file as read, not yet decoded: the line of a JSON Lines file,
    the values of a CSV row, the text of a JSON array's object. `decode_row` finishes the
    job, in another process if need be; reading stays here, in file order."""

    def __init__(self, raw: BinaryIO, fmt: str) -> None:
        self.raw = raw
        self.fmt = fmt
        self.header: list[str] | None = None  # a CSV file's column names, once read

    def __iter__(self) -> Iterator[tuple[int, Any, str]]:
        if self.fmt == "jsonl":
            for number, data in enumerate(self.raw, start=1):
                if data.strip():
                    yield number, data, ""
            return
        if self.fmt == "json":
            yield from _json_rows(self.raw, as_text=True)
            return
        for line, values, problem in _csv_rows(self.raw, as_values=True):
            if problem == "header":
                self.header = values  # type: ignore[assignment]
                continue
            yield line, values, problem


def decode_row(fmt: str, header: list[str] | None, payload: Any) -> tuple[dict[str, Any] | None, str]:
    """A `RawRows` payload as the row `read_rows` would give, or (None, why not)."""
    if fmt == "csv":
        return dict(zip(header or (), payload, strict=True)), ""
    if fmt == "json":
        return json.loads(payload), ""
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"invalid JSON ({e})"
    if not isinstance(value, dict):
        return None, "expected a JSON object"
    return value, ""


def open_input(path: str | Path) -> BinaryIO:
    """Open an import file for reading (InvalidInput if it cannot be)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInput(f"no such file: {p}")
    try:
        return open(p, "rb")
    except OSError as e:
        raise InvalidInput(f"cannot read {p}: {e.strerror}") from e
