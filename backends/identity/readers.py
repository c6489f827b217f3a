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


def _csv_rows(raw: BinaryIO) -> Iterator[Row]:
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
        yield line, dict(zip(header, values, strict=True)), ""


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


def _json_rows(raw: BinaryIO, chunk: int = 1 << 16) -> Iterator[Row]:
    """Objects of a top-level JSON array, decoded one at a time."""
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
        pos = end
        if len(buf) > 4 * chunk and pos > chunk:
            buf, pos = buf[pos:], 0
        if not isinstance(value, dict):
            yield start_line, None, "expected a JSON object"
            continue
        yield start_line, value, ""


def open_input(path: str | Path) -> BinaryIO:
    """Open an import file for reading (InvalidInput if it cannot be)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInput(f"no such file: {p}")
    try:
        return open(p, "rb")
    except OSError as e:
        raise InvalidInput(f"cannot read {p}: {e.strerror}") from e
