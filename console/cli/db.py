"""`vista db`: look inside a store file (a backend with the INSPECT capability)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backends import local_path, open_backend
from backends.base import Backend, Capability, InvalidInput, VistaError
from backends.models import StoreInfo
from console.cli.kit import STATE, JsonOpt, handles_errors
from console.cli.output import emit_json, fail, stdout, table

db_app = typer.Typer(
    help="Inspect a store: a SQLite file, or a PostgreSQL database (--backend postgresql://).",
    no_args_is_help=True,
)


def _store(db: Path | None) -> Backend:
    """The store to look inside, read-only, an older schema too (not upgraded)."""
    if db is not None:
        url: str | None = str(db)
    else:
        from console.settings import configured_backend

        url = STATE.url or configured_backend()
    backend = open_backend(url, agent=STATE.agent, token=STATE.token, read_only=True, inspect=True)
    if Capability.INSPECT not in backend.capabilities:
        backend.close()
        raise InvalidInput(
            f"vista db works on a store, not on a server ({backend.location}): use --db PATH "
            "or --backend postgresql://…"
        )
    return backend


DbOpt = Annotated[Path | None, typer.Option(help="Database file (default: the --backend file).")]


@db_app.command("init")
@handles_errors
def db_init(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Create an empty store (and its directory); an existing store is left as it is."""
    from console.settings import configured_backend

    url = str(db) if db is not None else (STATE.url or configured_backend())
    path = local_path(url, "vista db init makes", "--db PATH")
    existed = path.exists()
    # migrates an older store; refuses a file that is not one
    with open_backend(str(path), agent=STATE.agent, create=True) as backend:
        found = backend.store_info()
    if json_:
        emit_json(
            {"path": str(path), "created": not existed, "schema_version": found.schema_version}
        )
        return
    what = "already a Vista store" if existed else "created"
    stdout.print(f"{path}: {what} (schema {found.schema_version})", markup=False, highlight=False)


@db_app.command("info")
@handles_errors
def db_info(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Schema version, size and row counts (a server database: estimates, and bytes per
    table) of a store."""
    with _store(db) as backend:
        found = backend.store_info()
    if json_:
        emit_json(found)
        return
    server = bool(found.table_bytes)  # a database server's, not a file's
    stdout.print(
        f"{found.path}: schema {found.schema_version} (this Vista: {found.code_schema_version}), "
        f"{found.size_bytes / 1e6:,.1f} MB, "
        + (found.journal_mode if server else f"journal {found.journal_mode}"),
        markup=False,
        highlight=False,
    )
    if server:
        table(
            None,
            ("table", "rows (estimate)", "MB"),
            (
                (name, f"{rows:,}", f"{found.table_bytes.get(name, 0) / 1e6:,.1f}")
                for name, rows in found.tables.items()
            ),
        )
    else:
        table(None, ("table", "rows"), ((name, f"{rows:,}") for name, rows in found.tables.items()))
    if found.schema_version < found.code_schema_version:
        stdout.print(
            _older(found.schema_version, found.code_schema_version), markup=False, highlight=False
        )


def _older(version: int, code_version: int) -> str:
    """What to do with a store of an older schema than this Vista's."""
    return (
        f"older schema ({version}, this Vista: {code_version}): open it once without "
        "--read-only (vista serve or another command) to upgrade it"
    )


@db_app.command("check")
@handles_errors
def db_check(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Integrity checks (a file: SQLite's integrity and foreign keys; a server database: the
    audit chain, rows pointing nowhere, id sequences, invalid indexes); exit 1 on problems."""
    with _store(db) as backend:
        path = backend.location
        problems = list(backend.check_store())
        try:
            found: StoreInfo | None = backend.store_info()
        except VistaError:  # a damaged file: the problems say what is wrong
            found = None
    versions = (
        {}
        if found is None
        else {
            "schema_version": found.schema_version,
            "code_schema_version": found.code_schema_version,
        }
    )
    if json_:
        emit_json({"path": str(path), "ok": not problems, "problems": problems, **versions})
    elif not problems:
        stdout.print(f"{path}: ok", markup=False, highlight=False)
    if not json_ and found is not None and found.schema_version < found.code_schema_version:
        stdout.print(
            _older(found.schema_version, found.code_schema_version), markup=False, highlight=False
        )
    if problems:
        fail(f"{path}: {len(problems)} problem(s): {problems[0]}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
