"""`vista migrate`: move a SQLite store into PostgreSQL, whole, and check the copy."""

from __future__ import annotations

from typing import Annotated

import typer

from backends import copy_store
from console.cli.kit import JsonOpt, handles_errors
from console.cli.output import emit_json, fail, stderr, stdout, table


@handles_errors
def migrate(
    source: Annotated[
        str, typer.Option("--from", help="The SQLite store to copy: sqlite:///PATH or a path.")
    ],
    target: Annotated[
        str, typer.Option("--to", help="The PostgreSQL database: postgresql://USER@HOST/DB.")
    ],
    json_: JsonOpt = False,
) -> None:
    """Copy a SQLite store whole into PostgreSQL (customers, source records, identities,
    links, timeline, contacts, messages, tokens, journal, change feed), then compare row
    counts and a sample of rows. Safe to re-run: rows are merged by key."""

    def progress(name: str, rows: int) -> None:
        if not json_:
            done = f"copied {name}: {rows:,} rows" if rows >= 0 else f"{name}…"
            stderr.print(done, markup=False, highlight=False)

    report = copy_store(source, target, progress=progress)
    problems = report.problems
    if json_:
        emit_json(
            {
                "tables": [
                    {"table": t.table, "source": t.source, "target": t.target,
                     "sampled": t.sampled, "mismatched": t.mismatched}
                    for t in report.tables
                ],
                "problems": problems,
            }
        )  # fmt: skip
    else:
        table(
            None,
            ("table", "source rows", "target rows", "sampled"),
            ((t.table, f"{t.source:,}", f"{t.target:,}", str(t.sampled)) for t in report.tables),
        )
        if not problems:
            stdout.print("the copy is whole: counts and samples match", markup=False)
    if problems:
        fail("the copy differs from the source: " + "; ".join(problems[:5]))


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
