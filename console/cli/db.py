"""`vista db`: look inside a local store file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backends import local_path
from console.cli.kit import STATE, JsonOpt, handles_errors
from console.cli.output import emit_json, fail, stdout, table

db_app = typer.Typer(help="Inspect a local SQLite store.", no_args_is_help=True)


def _path(db: Path | None) -> Path:
    if db is not None:
        return db
    return local_path(STATE.url, "vista db works on", "--db PATH")


DbOpt = Annotated[Path | None, typer.Option(help="Database file (default: the --backend file).")]


@db_app.command("init")
@handles_errors
def db_init(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Create an empty store (and its directory); an existing store is left as it is."""
    from backends.sqlite.store import SCHEMA_VERSION, Store

    path = _path(db)
    existed = path.exists()
    Store(path, create=True).close()  # migrates an older store; refuses a foreign file
    if json_:
        emit_json({"path": str(path), "created": not existed, "schema_version": SCHEMA_VERSION})
        return
    what = "already a Vista store" if existed else "created"
    stdout.print(f"{path}: {what} (schema {SCHEMA_VERSION})", markup=False, highlight=False)


@db_app.command("info")
@handles_errors
def db_info(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Schema version, size and row counts of a store file."""
    from backends.sqlite.admin import info

    found = info(_path(db))
    if json_:
        emit_json(found)
        return
    stdout.print(
        f"{found.path}: schema {found.schema_version} (this Vista: {found.code_schema_version}), "
        f"{found.size_bytes / 1e6:,.1f} MB, journal {found.journal_mode}",
        markup=False,
        highlight=False,
    )
    table(None, ("table", "rows"), ((name, f"{rows:,}") for name, rows in found.tables.items()))
    if found.schema_version < found.code_schema_version:
        stdout.print(
            f"older schema: open it once with this Vista (without --read-only) to upgrade it "
            f"to {found.code_schema_version}",
            markup=False,
            highlight=False,
        )


@db_app.command("check")
@handles_errors
def db_check(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Integrity and foreign-key check; exit 1 when the file has problems."""
    from backends.sqlite.admin import check

    path = _path(db)
    problems = check(path)
    if json_:
        emit_json({"path": str(path), "ok": not problems, "problems": problems})
    elif not problems:
        stdout.print(f"{path}: ok", markup=False, highlight=False)
    if problems:
        fail(f"{path}: {len(problems)} problem(s): {problems[0]}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
