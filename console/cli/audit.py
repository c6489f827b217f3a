"""`vista audit`: the audit trail (admins), page by page, and `vista audit verify`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from backends.models import AuditEntry, utcnow
from console.cli.kit import STATE, JsonOpt, TimeOpt, handles_errors, parse_time
from console.cli.output import emit_json, emit_jsonl, fail, stderr, stdout, table
from console.format import when
from console.safe_text import clean

audit_app = typer.Typer(
    help="The audit trail (admins): who did what, when, with before and after values.",
    invoke_without_command=True,
)


def _changes(entry: AuditEntry) -> str:
    if entry.erased and entry.action != "erase":
        return "(values erased)"
    parts = [
        f"{field}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}"
        for field, (old, new) in entry.changes.items()
    ]
    text = "; ".join(parts) or ", ".join(f"{k}={v}" for k, v in entry.detail.items())
    return clean(text[:160])


def audit_list(
    ctx: typer.Context,
    customer: Annotated[
        int | None, typer.Option(metavar="ID", help="Only entries about this customer.")
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(help="Only entries by this agent (channel:sms for inbound, dispatcher)."),
    ] = None,
    since: TimeOpt = None,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after the page that printed this cursor.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.", min=1, max=1000)] = 50,
    json_: JsonOpt = False,
) -> None:
    """The audit trail, newest first (JSON Lines with --json); the cursor to continue
    from is printed on stderr when there is more."""
    if ctx.invoked_subcommand is not None:
        return
    start = parse_time(since, utcnow()) if since else None
    page = STATE.backend().audit_log(
        customer_id=customer, agent=agent, since=start, cursor=cursor, limit=limit
    )
    if json_:
        emit_jsonl(page.entries)
    else:
        table(
            None,
            ("seq", "at", "agent", "origin", "action", "object", "customer", "changes"),
            (
                (
                    e.seq,
                    when(e.at),
                    clean(e.agent) + (f" ({clean(e.token)})" if e.token else ""),
                    e.origin,
                    clean(e.action),
                    f"{e.object_type} {clean(e.object_id)}",
                    "" if e.customer_id is None else e.customer_id,
                    _changes(e),
                )
                for e in page.entries
            ),
        )
    if page.next_cursor:
        stderr.print(f"more: --cursor {page.next_cursor}", markup=False)


def audit_verify(json_: JsonOpt = False) -> None:
    """Walk the audit trail's hash chain; exit code 1 names the first broken entry."""
    check = STATE.backend().verify_audit()
    if json_:
        emit_json(check)
    elif check.ok:
        stdout.print(f"audit trail intact: {check.checked} entries verified", markup=False)
    if not check.ok:
        fail(f"audit trail broken at entry {check.broken_seq}: {check.problem}")


def register(app: typer.Typer) -> None:
    """Add the `audit` group."""
    audit_app.command("verify")(handles_errors(audit_verify))
    audit_app.callback(invoke_without_command=True)(handles_errors(audit_list))
    app.add_typer(audit_app, name="audit")
