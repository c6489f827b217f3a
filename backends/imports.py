"""The options of `Backend.import_file`, checked alike by every backend and by the server
(which checks them before it reads an uploaded file)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backends.base import InvalidInput
from backends.identity.phones import check_region
from backends.identity.readers import check_encoding
from backends.models import BadRow, ImportResult

if TYPE_CHECKING:
    from pathlib import Path

    from backends.identity.pipeline import ImportOptions, ImportReport

KINDS = ("customers", "events")
FORMATS = ("csv", "jsonl", "json")
_SOURCE_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.")


def check_source(name: str) -> str:
    """A source name: lower-case letters, digits, `-`, `_`, `.` (InvalidInput otherwise)."""
    value = name.strip().lower()
    if not value or not set(value) <= _SOURCE_OK or len(value) > 40:
        raise InvalidInput(f"bad source name {name!r}: use letters, digits, '-', '_' or '.'")
    return value


def check_options(
    *, source: str, kind: str, fmt: str | None, default_region: str, encoding: str | None
) -> tuple[str, str, str | None]:
    """(source, region, encoding) of an import, checked and normalised.

    Raises:
        InvalidInput: a bad source name, kind, format, region or encoding.
    """
    checked = check_source(source)
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}; use customers or events")
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use csv, jsonl or json")
    region = check_region(default_region)
    return checked, region, check_encoding(encoding) if encoding else None


def result(report: ImportReport) -> ImportResult:
    """The contract's frozen report of an import."""
    return ImportResult(
        source=report.source,
        kind=report.kind,
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped,
        customers_created=report.customers_created,
        auto_merges=report.auto_merges,
        suggestions=report.suggestions,
        seconds=round(report.seconds, 3),
        import_id=report.import_id,
        held=report.held,
        bad_rows=tuple(BadRow(line, reason) for line, reason in report.bad),
    )


#: `Backend.import_file`'s import options a caller may leave out, with their values.
DEFAULTS: dict[str, Any] = {
    "kind": "customers",
    "fmt": None,
    "mapping": None,
    "id_column": None,
    "default_region": "IT",
    "encoding": None,
    "strict": False,
}


def import_options(
    *,
    source: str,
    kind: str,
    fmt: str | None,
    mapping: str | Path | None,
    id_column: str | None,
    default_region: str,
    encoding: str | None,
    strict: bool,
    workers: int | None,
) -> ImportOptions:
    """`Backend.import_file`'s arguments checked (see `check_options`), the mapping read.

    Raises:
        InvalidInput: a bad option or mapping.
    """
    from backends.identity.mapping import load_mapping
    from backends.identity.pipeline import ImportOptions

    source, region, encoding = check_options(
        source=source, kind=kind, fmt=fmt, default_region=default_region, encoding=encoding
    )
    return ImportOptions(
        source=source,
        kind=kind,
        fmt=fmt,
        mapping=load_mapping(mapping, kind),
        id_column=id_column,
        default_region=region,
        strict=strict,
        encoding=encoding,
        workers=workers,
    )
