"""`Backend.import_file` on the SQLite store: options checked, then the import pipeline.

The file is imported on a connection of its own (a bulk load grows its page cache,
which the backend's connections should not keep), as the acting agent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backends.base import InvalidInput
from backends.imports import import_options, result
from backends.models import ImportResult
from backends.sqlite import audit
from backends.sqlite.identity.importer import run_import
from backends.sqlite.store import Store


def import_file(
    store_path: Path,
    path: Path,
    *,
    actor: str,
    audit_actor: audit.Actor | None = None,
    source: str,
    kind: str = "customers",
    fmt: str | None = None,
    mapping: str | Path | None = None,
    id_column: str | None = None,
    default_region: str = "IT",
    encoding: str | None = None,
    strict: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_bad: Callable[[int, str], None] | None = None,
) -> ImportResult:
    """Import `path` into the store at `store_path` (see `Backend.import_file`).

    Raises:
        InvalidInput: a bad option, mapping or file; with `strict`, the first bad row.
        Unavailable: the store cannot be written.
    """
    options = import_options(
        source=source,
        kind=kind,
        fmt=fmt,
        mapping=mapping,
        id_column=id_column,
        default_region=default_region,
        encoding=encoding,
        strict=strict,
        workers=workers,
    )
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    store = Store(store_path)
    try:
        report = run_import(
            store,
            path,
            options,
            actor=actor,
            audit_actor=audit_actor,
            progress=progress,
            on_bad=on_bad,
        )
    finally:
        store.close()
    return result(report)
