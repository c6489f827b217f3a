"""`vista import`, `vista identity ...` and `vista export links`: identity resolution from the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from backends.base import InvalidInput
from console.cli import output
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, emit_jsonl, fail, table
from console.format import when

identity_app = typer.Typer(
    help="Identity resolution: suggestions, merge, split, explain.", no_args_is_help=True
)
export_app = typer.Typer(help="Export data for audit and integration.", no_args_is_help=True)

MAX_BAD_SHOWN = 20
CustomerArg = Annotated[int, typer.Argument(metavar="CUSTOMER", help="Customer id.")]


@mutating
@handles_errors
def import_cmd(
    path: Annotated[
        Path, typer.Argument(help="The file to import (CSV, JSON Lines or JSON array).")
    ],
    source: Annotated[str, typer.Option("--source", help="Source system name, e.g. crm, webshop.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, jsonl or json (default: by file extension)."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="TOML file mapping columns to Vista fields.")
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column", help="Column holding the source's record id (default: source_id or id)."
        ),
    ] = None,
    default_region: Annotated[
        str, typer.Option("--default-region", help="Country code for phones written without +CC.")
    ] = "IT",
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="The file's text encoding, e.g. cp1252 or latin-1 (default: the mapping's, "
            "else UTF-8).",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Abort at the first bad row, with nothing written.")
    ] = False,
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="customers (source records) or events (attached to customers)."
        ),
    ] = "customers",
    json_: JsonOpt = False,
) -> None:
    """Import customer records (or events) from one source system and resolve identities."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    backend = STATE.backend(write=True)  # only the default store is made on first use
    shown = 0

    def on_bad(line: int, reason: str) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_BAD_SHOWN:
            output.stderr.print(
                Text(f"vista: warning: {path.name} line {line}: {reason} (skipped)"), soft_wrap=True
            )

    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=output.stderr,
            transient=True,
            disable=json_ or not output.stderr.is_terminal,
        ) as bar:
            task = bar.add_task(f"import {source}", total=None)
            report = backend.import_file(
                path,
                source=source,
                kind=kind,
                fmt=fmt,
                mapping=mapping,
                id_column=id_column,
                default_region=default_region,
                encoding=encoding,
                strict=strict,
                progress=lambda done, total: bar.update(task, completed=done, total=total or 1),
                on_bad=on_bad,
            )
    except KeyboardInterrupt:
        fail(
            "import interrupted: whole batches are kept and the store is consistent; "
            "run the same command again to finish it (imports are idempotent)",
            130,
        )
    if report.skipped > MAX_BAD_SHOWN:
        output.stderr.print(
            Text(f"vista: warning: {report.skipped - MAX_BAD_SHOWN} more bad row(s) skipped")
        )
    if json_:
        emit_json(report)
        return
    rate = report.rows / report.seconds if report.seconds else 0
    line = (
        f"Imported {report.rows:,} rows from {path.name} as {report.source} {report.kind}: "
        f"{report.created:,} new, {report.updated:,} updated, {report.unchanged:,} unchanged, "
        f"{report.skipped:,} skipped"
    )
    if report.kind == "customers":
        line += (
            f"; {report.customers_created:,} new customers, {report.auto_merges:,} merges, "
            f"{report.suggestions:,} suggestions"
        )
    output.stdout.print(Text(f"{line} in {report.seconds:.1f} s ({rate:,.0f} rows/s)"))


@identity_app.command("suggestions")
@handles_errors
def suggestions_cmd(
    limit: Annotated[int, typer.Option(help="At most this many (a page).", min=1, max=500)] = 50,
    after: Annotated[
        str, typer.Option(help="Start after this cursor (the last line's, for the next page).")
    ] = "",
    json_: JsonOpt = False,
) -> None:
    """Customers that may be one person, most likely first, with the reason (below the
    automatic threshold); --after pages on past the first --limit."""
    found = STATE.backend().identity_suggestions(limit, after)
    if json_:
        emit_jsonl(found)
        return
    table(
        "Suggestions: vista identity merge A B to accept",
        ("id", "A", "name A", "B", "name B", "probability", "reason"),
        (
            (s.id, s.customer_a, s.name_a, s.customer_b, s.name_b, f"{s.score:.4f}", s.reason)
            for s in found
        ),
    )
    if len(found) == limit:
        output.stdout.print(
            Text(f"next page: vista identity suggestions --after {found[-1].cursor}")
        )


@identity_app.command("model")
@handles_errors
def model_cmd(json_: JsonOpt = False) -> None:
    """The match model in use: each comparison's levels with m, u and weight (log2 m/u)."""
    model = STATE.backend().identity_model()
    if json_:
        emit_json(model)
        return
    trained = (
        f"version {model.version}, trained on {model.records:,} records ({model.pairs:,} "
        f"candidate pairs)"
        if model.version
        else "version 0: the defaults (not yet trained on this store)"
    )
    output.stdout.print(
        Text(
            f"Match model {trained}; prior {model.prior:.3g}; link at probability "
            f">= {model.link_probability}, suggest at >= {model.suggest_probability}"
        )
    )
    table(
        "Comparisons",
        ("comparison", "level", "m", "u", "weight (bits)"),
        (
            (lv.comparison, lv.level, f"{lv.m:.4f}", f"{lv.u:.3g}", f"{lv.weight:+.2f}")
            for lv in model.levels
        ),
    )
    table(
        "Guards (evidence; twins and namesakes learnt from the data)",
        ("guard", "weight (bits)"),
        ((name, f"{w:+.1f}") for name, w in model.guards.items()),
    )


@identity_app.command("train")
@mutating
@handles_errors
def train_cmd(json_: JsonOpt = False) -> None:
    """Estimate a new version of the match model from the stored records and use it."""
    model = STATE.backend().train_identity_model()
    if json_:
        emit_json(model)
        return
    output.stdout.print(
        Text(
            f"Trained match model version {model.version} on {model.records:,} records "
            f"({model.pairs:,} candidate pairs); vista identity model shows it"
        )
    )


@identity_app.command("merge")
@mutating
@handles_errors
def merge_cmd(
    keep: Annotated[int, typer.Argument(metavar="A", help="The customer that stays.")],
    other: Annotated[int, typer.Argument(metavar="B", help="The customer merged into A.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the journal).")] = "",
    json_: JsonOpt = False,
) -> None:
    """Merge customer B into A (journaled: split the same records to undo)."""
    entry = STATE.backend(write=True).merge_customers(keep, other, reason=reason)
    if json_:
        emit_json(entry)
        return
    output.stdout.print(
        Text(
            f"Merged customer {entry.other_id} into {entry.customer_id} (journal {entry.id}); "
            f"undo: vista identity split {entry.customer_id} {' '.join(entry.records)}"
        )
    )


@identity_app.command("split")
@mutating
@handles_errors
def split_cmd(
    customer: CustomerArg,
    records: Annotated[
        list[str],
        typer.Argument(metavar="RECORD...", help="Records to split off, as SOURCE:SOURCE_ID."),
    ],
    json_: JsonOpt = False,
) -> None:
    """Move records out of a customer into their own (undoes a merge of those records)."""
    entry = STATE.backend(write=True).split_customer(customer, tuple(records))
    if json_:
        emit_json(entry)
        return
    output.stdout.print(
        Text(
            f"Split {len(entry.records)} record(s) off customer {entry.customer_id} into customer "
            f"{entry.other_id} (journal {entry.id})"
        )
    )


@identity_app.command("reject")
@mutating
@handles_errors
def reject_cmd(
    suggestion: Annotated[int, typer.Argument(metavar="SUGGESTION", help="Suggestion id.")],
) -> None:
    """Mark a suggestion wrong: its records are kept apart from now on."""
    STATE.backend(write=True).reject_suggestion(suggestion)
    output.stdout.print(Text(f"Rejected suggestion {suggestion}"))


@identity_app.command("explain")
@handles_errors
def explain_cmd(customer: CustomerArg, json_: JsonOpt = False) -> None:
    """Which source records and which links made this customer, and its merge/split journal."""
    found = STATE.backend().explain_customer(customer)
    if json_:
        emit_json(found)
        return
    table(
        f"Customer {customer}: source records",
        ("record", "source", "source id", "received"),
        ((r.record_id, r.source, r.source_id, when(r.received_at)) for r in found.records),
    )
    table(
        "Links",
        ("record A", "record B", "kind", "score", "reason", "by"),
        (
            (x.record_a, x.record_b, x.kind, f"{x.score:.2f}", x.reason, x.actor)
            for x in found.links
        ),
    )
    if found.changes:
        table(
            "Changed by re-imports",
            ("record", "when", "field", "old", "new"),
            (
                (c.record, when(c.at), name, _short(old), _short(new))
                for c in found.changes
                for name, (old, new) in c.changed.items()
            ),
        )
    if found.journal:
        table(
            "Journal",
            ("id", "when", "action", "customer", "other", "records", "by"),
            (
                (
                    j.id,
                    when(j.at),
                    j.action,
                    j.customer_id,
                    j.other_id,
                    " ".join(j.records),
                    j.actor,
                )
                for j in found.journal
            ),
        )


@identity_app.command("provenance")
@handles_errors
def provenance_cmd(customer: CustomerArg, json_: JsonOpt = False) -> None:
    """Where each profile value came from: source, record, when, and the values that lost."""
    found = STATE.backend().provenance(customer)
    if json_:
        emit_jsonl(found)
        return
    table(
        f"Customer {customer}: provenance",
        ("field", "value", "source", "record", "when", "lost"),
        (
            (
                p.field,
                _short(p.value),
                p.source,
                p.source_id,
                when(p.at),
                "; ".join(_short(v) for v in p.losers),
            )
            for p in found
        ),
    )


def _short(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(str(v) for k, v in value.items() if v and k != "source")
    if isinstance(value, list):
        return "; ".join(_short(v) for v in value)
    return "" if value is None else str(value)


@export_app.command("links")
@handles_errors
def export_links(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
) -> None:
    """One row per source record: source, source_id, customer_id (streamed to stdout)."""
    import csv
    import json
    import sys

    if fmt not in ("csv", "jsonl"):
        raise InvalidInput(f"unknown --format {fmt!r}; use csv or jsonl")
    backend = STATE.backend()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(("source", "source_id", "customer_id"))
    after = 0
    while True:
        page = backend.record_links(after, 10_000)
        for link in page:
            cid = "" if link.customer_id is None else link.customer_id
            if fmt == "csv":
                writer.writerow((link.source, link.source_id, cid))
            else:
                sys.stdout.write(
                    json.dumps(
                        {
                            "source": link.source,
                            "source_id": link.source_id,
                            "customer_id": link.customer_id,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        if len(page) < 10_000:
            break
        after = page[-1].record_id
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add `import`, `identity` and `export` to the `vista` command."""
    app.command("import")(import_cmd)
    app.add_typer(identity_app, name="identity")
    app.add_typer(export_app, name="export")
