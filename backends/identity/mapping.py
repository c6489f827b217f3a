"""Mapping files: which columns of a source system hold which Vista field.

A mapping is TOML:

    id_column = "CustomerNo"        # the source's record id (default: id, source_id)
    default_region = "DE"           # country for phones written without +CC
    encoding = "cp1252"             # the files' text encoding (default: UTF-8)
    [fields]
    first_name = "Vorname"
    email = ["Mail", "Mail2"]       # several columns: several values
    street = "address.line1"        # a dotted path reaches into nested JSON
    [identity]                      # optional: matching and survivorship settings

Columns already named like a Vista field need no mapping; other columns are
kept in the stored record as received but not used for matching.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.base import InvalidInput
from backends.identity.features import CANONICAL_FIELDS, MULTI_FIELDS
from backends.identity.phones import check_region
from backends.identity.readers import check_encoding

#: Canonical fields of an imported event.
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "at",
    "kind",
    "channel",
    "summary",
    "email",
    "phone",
    "visitor_id",
    "customer_id",
    "customer_source",
    "number",
    "status",
    "total",
    "payload",
)
DEFAULT_ID_COLUMNS = ("source_id", "id")


@dataclass(frozen=True)
class Mapping:
    """Vista field -> source columns (each a name or a dotted path)."""

    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    id_column: str | None = None
    default_region: str | None = None
    identity: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None  # the files' text encoding (`vista import --encoding` wins)

    def apply(self, row: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
        """The canonical view of `row`: mapped columns first, then canonically named ones."""
        out: dict[str, Any] = {}
        for name in known:
            if name in row and row[name] not in (None, ""):
                out[name] = row[name]
        for name, columns in self.fields.items():
            values = [v for v in (_get(row, c) for c in columns) if v not in (None, "")]
            if not values:
                continue
            if len(values) == 1:
                out[name] = values[0]
            elif name in MULTI_FIELDS:  # several e-mails or phones
                out[name] = values
            else:  # one value written over several columns (house number, street): joined
                out[name] = " ".join(str(v).strip() for v in values)
        return out

    def source_id(self, row: dict[str, Any], override: str | None) -> tuple[str, str]:
        """(id, column it came from); id is "" when missing."""
        columns = (
            (override,)
            if override
            else ((self.id_column,) if self.id_column else DEFAULT_ID_COLUMNS)
        )
        for column in columns:
            assert column is not None
            value = _get(row, column)
            if value not in (None, ""):
                return str(value).strip(), column
        return "", " or ".join(c for c in columns if c)


def _get(row: dict[str, Any], path: str) -> Any:
    if path in row:
        return row[path]
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def load_mapping(path: str | Path | None, kind: str = "customers") -> Mapping:
    """Read a mapping file (None: the identity mapping).

    Raises:
        InvalidInput: unreadable TOML, an unknown Vista field, or a bad column entry.
    """
    if path is None:
        return Mapping()
    p = Path(path).expanduser()
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except FileNotFoundError as e:
        raise InvalidInput(f"no such mapping file: {p}") from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise InvalidInput(f"cannot read mapping file {p}: {e}") from e
    known = CANONICAL_FIELDS if kind == "customers" else EVENT_FIELDS
    fields: dict[str, tuple[str, ...]] = {}
    for name, columns in data.get("fields", {}).items():
        if name not in known:
            raise InvalidInput(
                f"mapping file {p}: unknown Vista field {name!r}; known: {', '.join(known)}"
            )
        if isinstance(columns, str):
            columns = [columns]
        if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns):
            raise InvalidInput(f"mapping file {p}: {name} must be a column name or a list of them")
        fields[name] = tuple(columns)
    unknown = set(data) - {"fields", "id_column", "default_region", "encoding", "identity"}
    if unknown:
        raise InvalidInput(
            f"mapping file {p}: unknown setting {min(unknown)!r} (a mapping has "
            "id_column, default_region, encoding, [fields] and [identity])"
        )
    region = data.get("default_region")
    encoding = data.get("encoding")
    try:
        region = check_region(str(region)) if region else None
        encoding = check_encoding(str(encoding)) if encoding else None
    except InvalidInput as e:
        raise InvalidInput(f"mapping file {p}: {e}") from e
    return Mapping(fields, data.get("id_column"), region, data.get("identity", {}), encoding)
