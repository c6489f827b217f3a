"""`POST /api/v1/imports`: an admin sends a source system's file; the server imports it.

The body (CSV, JSON Lines or a JSON array) is streamed to a temporary file
next to the store, never held in memory, then handed to the import pipeline's
public entry point (`backends.sqlite.identity.importer.run_import`) with the same
options and checks as `vista import`. The answer is the report `vista import
--json` prints.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from backends.base import InvalidInput
from console.server.asgi_body import receive_chunks

MAX_IMPORT_BYTES = 2 << 30  # 2 GiB per request
MAX_MAPPING_CHARS = 16_000

#: Body formats by Content-Type, when the request does not name one.
_FORMATS = {
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json": "json",
}


def body_format(given: str | None, content_type: str) -> str:
    """The file format: as named, else from the Content-Type (InvalidInput if neither says)."""
    if given:
        if given not in ("csv", "jsonl", "json"):
            raise InvalidInput(f"unknown format {given!r}; use csv, jsonl or json")
        return given
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _FORMATS:
        return _FORMATS[media]
    raise InvalidInput(
        "cannot tell the file's format: send Content-Type text/csv, application/x-ndjson "
        "or application/json, or pass format=csv|jsonl|json"
    )


async def spool(
    receive: Callable[[], Awaitable[dict[str, Any]]], directory: Path, suffix: str
) -> Path:
    """Write the request body to a new temporary file in `directory`; its path.

    Raises:
        InvalidInput: the body is over MAX_IMPORT_BYTES, or the client went away.
    """
    fd, name = tempfile.mkstemp(prefix=".vista-import-", suffix=f".{suffix}", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = 0
            too_big = f"the file is over {MAX_IMPORT_BYTES >> 20} MiB"
            async for chunk in receive_chunks(receive, MAX_IMPORT_BYTES, too_big):
                size += len(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput("the request body is empty: send the file to import")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def check(kwargs: dict[str, Any], content_type: str) -> str:
    """Check a request's options before its file is read; the file format.

    Raises:
        InvalidInput: a bad source name, kind, region, encoding, format or mapping size.
    """
    from backends.identity.phones import check_region
    from backends.identity.readers import check_encoding
    from backends.sqlite.identity.importer import check_source

    check_source(kwargs["source"])
    if kwargs.get("kind", "customers") not in ("customers", "events"):
        raise InvalidInput(f"unknown kind {kwargs['kind']!r}; use customers or events")
    check_region(kwargs.get("default_region", "IT"))
    check_encoding(kwargs.get("encoding"))
    if len(kwargs.get("mapping") or "") > MAX_MAPPING_CHARS:
        raise InvalidInput(f"the mapping is over {MAX_MAPPING_CHARS} characters")
    return body_format(kwargs.get("format"), content_type)


def run(store_path: Path, file: Path, fmt: str, actor: str, kwargs: dict[str, Any]) -> Any:
    """Import `file` into the store as `actor` (in a worker thread); the report as JSON.

    Raises:
        InvalidInput: an unreadable file or mapping, or (strict) a bad row.
        Unavailable: the store cannot be written.
    """
    from backends.sqlite.identity.importer import ImportOptions, run_import
    from backends.sqlite.store import Store

    kind = kwargs.get("kind", "customers")
    region = kwargs.get("default_region", "IT")
    with _mapping(kwargs.get("mapping"), kind, store_path.parent) as mapping:
        fields: dict[str, Any] = {
            "source": kwargs["source"],
            "kind": kind,
            "fmt": fmt,
            "mapping": mapping,
            "id_column": kwargs.get("id_column"),
            "default_region": region.upper(),
            "strict": bool(kwargs.get("strict", False)),
            "encoding": kwargs.get("encoding") or None,
        }
        if "workers" in ImportOptions.__dataclass_fields__:
            fields["workers"] = 0  # never fork the server process: rows are prepared inline
        options = ImportOptions(**fields)
        store = Store(store_path)  # its own connection: a bulk load grows its page cache
        try:
            report = run_import(store, file, options, actor=actor)
        finally:
            store.close()
    return report.to_json()


@contextlib.contextmanager
def _mapping(text: str | None, kind: str, directory: Path) -> Iterator[Any]:
    """The mapping a request's TOML text describes (the identity mapping without one)."""
    from backends.identity.mapping import load_mapping

    if not text:
        yield load_mapping(None, kind)
        return
    fd, name = tempfile.mkstemp(prefix=".vista-mapping-", suffix=".toml", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            mapping = load_mapping(name, kind)
        except InvalidInput as e:  # the server's temporary file is none of the client's business
            raise InvalidInput(
                e.message.replace(f"mapping file {name}", "mapping").replace(name, "mapping")
            ) from None
        yield mapping
    finally:
        Path(name).unlink(missing_ok=True)
