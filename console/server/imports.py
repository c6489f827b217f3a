"""`POST /api/v1/imports`: an admin sends a source system's file; the server imports it.

The body (CSV, JSON Lines or a JSON array) is streamed to a temporary file, never
held in memory, then handed to `Backend.import_file` of the admin's backend with
the same options and checks as `vista import`. The answer is the report `vista
import --json` prints.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from backends.base import Backend, InvalidInput
from backends.imports import check_options
from backends.models import ImportResult
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
    receive: Callable[[], Awaitable[dict[str, Any]]], directory: Path | None, suffix: str
) -> Path:
    """Write the request body to a new temporary file in `directory` (None: the system's
    temporary directory); its path.

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
    check_options(
        source=kwargs["source"],
        kind=kwargs.get("kind", "customers"),
        fmt=kwargs.get("format"),
        default_region=kwargs.get("default_region", "IT"),
        encoding=kwargs.get("encoding"),
    )
    if len(kwargs.get("mapping") or "") > MAX_MAPPING_CHARS:
        raise InvalidInput(f"the mapping is over {MAX_MAPPING_CHARS} characters")
    return body_format(kwargs.get("format"), content_type)


def run(backend: Backend, file: Path, fmt: str, kwargs: dict[str, Any]) -> ImportResult:
    """Import `file` through `backend` (in a worker thread); the report.

    Raises:
        InvalidInput: an unreadable file or mapping, or (strict) a bad row.
        Unavailable: the store cannot be written.
    """
    kind = kwargs.get("kind", "customers")
    with _mapping(kwargs.get("mapping"), file.parent) as mapping:
        try:
            return backend.import_file(
                file,
                source=kwargs["source"],
                kind=kind,
                fmt=fmt,
                mapping=mapping,
                id_column=kwargs.get("id_column"),
                default_region=kwargs.get("default_region", "IT"),
                encoding=kwargs.get("encoding") or None,
                strict=bool(kwargs.get("strict", False)),
            )
        except InvalidInput as e:  # the server's temporary file is none of the client's business
            if mapping is None or str(mapping) not in e.message:
                raise
            name = str(mapping)
            raise InvalidInput(
                e.message.replace(f"mapping file {name}", "mapping").replace(name, "mapping")
            ) from None


@contextlib.contextmanager
def _mapping(text: str | None, directory: Path) -> Iterator[Path | None]:
    """A mapping file holding a request's TOML text, while the import runs (None without)."""
    if not text:
        yield None
        return
    fd, name = tempfile.mkstemp(prefix=".vista-mapping-", suffix=".toml", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
