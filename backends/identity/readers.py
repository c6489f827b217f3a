"""Streaming readers for import files: CSV, JSON Lines and JSON arrays, with line numbers.

Each reader yields `(line, row or None, problem)` one row at a time (bounded
memory whatever the file size); a row it cannot parse comes with a reason
instead of a row, so the importer can report it and go on. Files are UTF-8
(a byte-order mark is allowed) unless told otherwise; a row holding bytes that
are not text in the file's encoding is such a bad row, with the line it starts
on, never a crash or a half-decoded value.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from backends.base import InvalidInput

FORMATS = ("csv", "jsonl", "json")
Row = tuple[int, dict[str, Any] | None, str]

csv.field_size_limit(10 * 1024 * 1024)

#: What a byte that is not text in the file's encoding decodes to ("surrogateescape").
_BAD_BYTE = re.compile("[\udc80-\udcff]")


def undecodable(encoding: str) -> str:
    """The reason given for a row with bytes that are not text in `encoding`."""
    return (
        f"not {_label(encoding)} text (a file in another encoding needs --encoding, "
        f"e.g. --encoding cp1252)"
    )


def _label(encoding: str) -> str:
    return "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding


#: A JSON escape of a UTF-16 surrogate: half of a pair (an emoji, say), or a lone one,
#: which is not text (`_lone_surrogates`).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_B = re.compile(rb"\\u[dD][89a-fA-F]")
#: The reason given for a JSON row with an escaped lone surrogate.
LONE_SURROGATE = "a JSON escape of a lone UTF-16 surrogate (such as \\udcff), not text"


def _lone_surrogates(
    payload: str | bytes, value: Any, start: int = 0, end: int | None = None
) -> bool:
    """Whether the JSON text `payload[start:end]`, parsed as `value`, escapes a lone
    surrogate (a string SQLite cannot store). Quick when it escapes no surrogate at all."""
    pattern = _SURROGATE_ESCAPE_B if payload.__class__ is bytes else _SURROGATE_ESCAPE
    if pattern.search(payload, start, len(payload) if end is None else end) is None:  # type: ignore[arg-type]
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _tainted(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether `text[start:end]` holds a byte its encoding could not decode."""
    if end is None:
        return not text.isascii() and _BAD_BYTE.search(text, start) is not None
    return _BAD_BYTE.search(text, start, end) is not None


def check_encoding(name: str | None) -> str:
    """A text encoding's canonical name ("utf-8" when none is given).

    Raises:
        InvalidInput: not a text encoding Python knows.
    """
    if not name:
        return "utf-8"
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise InvalidInput(
            f"unknown encoding {name!r}: use a text encoding such as utf-8, "
            f"cp1252, latin-1 or utf-16"
        )
    return "utf-8" if info.name == "utf-8-sig" else info.name


def _text(raw: BinaryIO, encoding: str, newline: str | None = "") -> io.TextIOWrapper:
    """`raw` as text: UTF-8 with or without a byte-order mark, or `encoding`; bytes that are
    not text come through as lone surrogates (`_tainted`), so that rows say where they are."""
    return io.TextIOWrapper(
        raw,
        encoding="utf-8-sig" if encoding == "utf-8" else encoding,
        errors="surrogateescape",
        newline=newline,
    )


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


def read_rows(raw: BinaryIO, fmt: str, encoding: str = "utf-8") -> Iterator[Row]:
    """Rows of an open binary file in `fmt`, whose text is in `encoding`."""
    if fmt == "csv":
        return _csv_rows(raw, encoding=encoding)
    if fmt == "jsonl":
        return _jsonl_rows(raw, encoding)
    return _json_rows(raw, encoding=encoding)


def _csv_rows(raw: BinaryIO, as_values: bool = False, encoding: str = "utf-8") -> Iterator[Row]:
    """Rows of a CSV file; `as_values`: the header first, as `(1, names, "header")`, then
    each row as its list of values (`dict(zip(names, values))` makes the row).

    A row's line is the one it starts on (a quoted value may run over several)."""
    text = _text(raw, encoding)
    try:
        sample = text.readline()
    except UnicodeError as e:  # a multi-byte encoding's stream cut short, say
        raise InvalidInput(f"the file is not {_label(encoding)} text ({e})") from e
    if _tainted(sample):
        raise InvalidInput(f"line 1 (the header): {undecodable(encoding)}")
    delimiter = max((",", ";", "\t", "|"), key=sample.count)
    header = next(csv.reader([sample], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not header or not any(header):
        raise InvalidInput("the CSV file has no header row")
    if len(set(header)) != len(header):
        raise InvalidInput("the CSV header names a column twice")
    read = 1  # lines read so far (the header's was the first)
    bad = False  # a line read since the last row held undecodable bytes

    def lines() -> Iterator[str]:
        nonlocal read, bad
        for line in text:
            read += 1
            bad = bad or _tainted(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    if as_values:
        yield 1, header, "header"  # type: ignore[misc]
    while True:
        start = read + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            bad = False
            yield start, None, f"malformed CSV ({e})"
            continue
        except UnicodeError as e:
            yield start, None, f"not {_label(encoding)} text ({e})"
            return
        if bad:
            bad = False
            yield start, None, undecodable(encoding)
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != len(header):
            end = read
            runs = (
                f" (the row runs on to line {end}: a quote left open?)"
                if end > start and len(values) < len(header)
                else ""
            )
            yield start, None, f"expected {len(header)} columns, found {len(values)}{runs}"
            continue
        row = values if as_values else dict(zip(header, values, strict=True))
        yield start, row, ""  # type: ignore[misc]


def _jsonl_lines(raw: BinaryIO, encoding: str) -> Iterator[tuple[int, bytes | str]]:
    """(line number, line) of each line that is not blank: bytes for UTF-8 (decoded where
    they are parsed), else text."""
    if encoding == "utf-8":
        for number, data in enumerate(raw, start=1):
            if data.strip():
                yield number, data
        return
    for number, line in enumerate(_text(raw, encoding, newline="\n"), start=1):
        if line.strip():
            yield number, line


def _jsonl_rows(raw: BinaryIO, encoding: str = "utf-8") -> Iterator[Row]:
    for number, data in _jsonl_lines(raw, encoding):
        value, problem = decode_row("jsonl", None, data, encoding)
        yield number, value, problem


def _json_rows(
    raw: BinaryIO, chunk: int = 1 << 16, as_text: bool = False, encoding: str = "utf-8"
) -> Iterator[Row]:
    """Objects of a top-level JSON array, decoded one at a time (`as_text`: each object
    as its JSON text, to be decoded again elsewhere)."""
    decoder = json.JSONDecoder()
    text = _text(raw, encoding, newline=None)
    tainted = False  # some text read so far held undecodable bytes

    def read() -> str:
        nonlocal tainted
        try:
            more = text.read(chunk)
        except UnicodeError as e:  # a multi-byte encoding's stream cut short, say
            raise InvalidInput(f"line {line}: not {_label(encoding)} text ({e})") from e
        tainted = tainted or _tainted(more)
        return more

    pos, line = 0, 1
    buf = read()
    # skip to the opening bracket
    while True:
        stripped = buf.lstrip()
        line += buf[: len(buf) - len(stripped)].count("\n")
        buf = stripped
        if buf:
            break
        more = read()
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
            more = read()
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
                more = read()
                if not more:
                    yield line, None, f"invalid JSON ({e.msg})"
                    return
                buf, pos = buf[pos:] + more, 0
        start_line = line
        line += buf.count("\n", pos, end)
        text_of = buf[pos:end] if as_text else ""
        bad = tainted and _tainted(buf, pos, end)
        lone = not as_text and _lone_surrogates(buf, value, pos, end)
        pos = end
        if len(buf) > 4 * chunk and pos > chunk:
            buf, pos = buf[pos:], 0
        if bad:
            yield start_line, None, undecodable(encoding)
            continue
        if lone:
            yield start_line, None, LONE_SURROGATE
            continue
        if not isinstance(value, dict):
            yield start_line, None, "expected a JSON object"
            continue
        yield start_line, (text_of if as_text else value), ""  # type: ignore[misc]


class RawRows:
    """The rows of an import file as read, not yet decoded: the line of a JSON Lines file,
    the values of a CSV row, the text of a JSON array's object. `decode_row` finishes the
    job, in another process if need be; reading stays here, in file order."""

    def __init__(self, raw: BinaryIO, fmt: str, encoding: str = "utf-8") -> None:
        self.raw = raw
        self.fmt = fmt
        self.encoding = encoding
        self.header: list[str] | None = None  # a CSV file's column names, once read

    def __iter__(self) -> Iterator[tuple[int, Any, str]]:
        if self.fmt == "jsonl":
            for number, data in _jsonl_lines(self.raw, self.encoding):
                yield number, data, ""
            return
        if self.fmt == "json":
            yield from _json_rows(self.raw, as_text=True, encoding=self.encoding)
            return
        for line, values, problem in _csv_rows(self.raw, as_values=True, encoding=self.encoding):
            if problem == "header":
                self.header = values  # type: ignore[assignment]
                continue
            yield line, values, problem


def decode_row(
    fmt: str, header: list[str] | None, payload: Any, encoding: str = "utf-8"
) -> tuple[dict[str, Any] | None, str]:
    """A `RawRows` payload as the row `read_rows` would give, or (None, why not)."""
    if fmt == "csv":
        return dict(zip(header or (), payload, strict=True)), ""
    if fmt == "json":
        value = json.loads(payload)
        return (None, LONE_SURROGATE) if _lone_surrogates(payload, value) else (value, "")
    if payload.__class__ is str and _tainted(payload):
        return None, undecodable(encoding)
    try:
        value = json.loads(payload)
    except UnicodeDecodeError:
        return None, undecodable(encoding)
    except json.JSONDecodeError as e:
        return None, f"invalid JSON ({e})"
    if not isinstance(value, dict):
        return None, "expected a JSON object"
    if _lone_surrogates(payload, value):
        return None, LONE_SURROGATE
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
