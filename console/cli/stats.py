"""`vista stats` (supervisor KPIs over a window) and `vista wallboard` (the wall screen)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from backends.base import InvalidInput
from backends.models import KpiBucket, KpiReport, utcnow
from console.cli import output
from console.cli.kit import STATE, JsonOpt, TimeOpt, channel_option, handles_errors, parse_time
from console.cli.output import emit_json, table
from console.format import duration, left
from console.kpi_text import kpi_lines, spark, window_title
from console.safe_text import clean


def _bucket(value: str | None) -> KpiBucket | None:
    if value is None:
        return None
    try:
        return KpiBucket(value.strip().lower())
    except ValueError as e:
        raise InvalidInput(f"unknown bucket {clean(value)!r}; use hour or day") from e


def _print_report(report: KpiReport, at_risk: tuple[Any, ...], within: int, overdue: bool) -> None:
    out = output.stdout
    out.print(f"KPIs {window_title(report)}", markup=False, highlight=False)
    table(
        None,
        ("KPI", "value", "detail", "trend"),
        (
            (k.label, k.value, k.detail, spark(k.trend) if k.trend else "")
            for k in kpi_lines(report)
        ),
    )
    b = report.backlog
    sla = report.sla
    out.print(
        f"Now: {b.total:,} unresolved ({b.unassigned:,} unassigned), "
        f"{sla.breached_open:,} unanswered past SLA, {sla.due_soon:,} due within "
        f"{report.at_risk_seconds // 60} min",
        markup=False,
        highlight=False,
    )
    table("Backlog by channel", tuple(b.by_channel), [tuple(b.by_channel.values())])
    table("Backlog by priority", tuple(b.by_priority), [tuple(b.by_priority.values())])
    table("Backlog by age", tuple(b.by_age), [tuple(b.by_age.values())])
    table(
        f"Agents (overloaded: more than {report.max_open} open)",
        (
            "agent",
            "open",
            "pending",
            "breached",
            "at risk",
            "oldest open",
            "first replies",
            "resolved",
            "AHT",
            "load",
        ),
        (
            (
                a.agent,
                a.open,
                a.pending,
                a.breached,
                a.at_risk,
                duration((report.now - a.oldest_open_at).total_seconds())
                if a.oldest_open_at
                else "",
                a.first_responses,
                a.resolved,
                duration(a.aht_seconds),
                "OVERLOADED" if a.overloaded else "",
            )
            for a in report.agents
        ),
    )
    if at_risk:
        table(
            f"At risk: unanswered, SLA due within {within} min{' or overdue' if overdue else ''}",
            ("id", "channel", "priority", "due", "assignee", "customer", "subject"),
            (
                (
                    c.id,
                    c.channel.value,
                    c.priority.value,
                    left(c.seconds_left),
                    c.assignee or "",
                    c.customer_name,
                    c.subject,
                )
                for c in at_risk
            ),
        )
    else:
        out.print(
            f"At risk: no unanswered contact falls due within {within} min",
            markup=False,
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add `stats` and `wallboard` to the `vista` command."""

    @app.command("stats")
    @handles_errors
    def stats(
        since: TimeOpt = None,
        until: TimeOpt = None,
        channel: Annotated[
            str | None,
            typer.Option(help="Only this channel: email, chat, phone, whatsapp, sms, web."),
        ] = None,
        bucket: Annotated[
            str | None,
            typer.Option(help="Trend per hour or day (default: hour up to 48 hours, else day)."),
        ] = None,
        within: Annotated[
            int,
            typer.Option(
                help="At risk: list unanswered contacts due within this many minutes.",
                min=0,
                max=10080,
            ),
        ] = 30,
        max_open: Annotated[
            int,
            typer.Option(
                help="An agent holding more open contacts than this is overloaded.", min=0
            ),
        ] = 25,
        limit: Annotated[
            int, typer.Option(help="At most this many at-risk contacts.", min=1, max=500)
        ] = 20,
        overdue: Annotated[
            bool,
            typer.Option("--overdue", help="Also list unanswered contacts already past their SLA."),
        ] = False,
        json_: JsonOpt = False,
    ) -> None:
        """Supervisor KPIs over a window (default: the last 24 hours), with the live backlog,
        agent load and the contacts about to breach their SLA. Read-only."""
        now = utcnow()
        until_dt = parse_time(until, now) if until else None
        since_dt = parse_time(since, now) if since else None
        backend = STATE.backend()
        report = backend.stats(
            since_dt,
            until_dt,
            channel=channel_option(channel),
            bucket=_bucket(bucket),
            max_open=max_open,
            at_risk_minutes=within,
            now=now,
        )
        risky = backend.at_risk(
            within, limit=limit, channel=channel_option(channel), include_breached=overdue, now=now
        )
        if json_:
            emit_json({**report.to_json(), "at_risk": [c.to_json() for c in risky]})
            return
        _print_report(report, risky, within, overdue)

    @app.command("wallboard")
    @handles_errors
    def wallboard(
        channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
        refresh: Annotated[
            float, typer.Option(help="Seconds between refreshes.", min=2.0, max=3600.0)
        ] = 15.0,
        within: Annotated[
            int, typer.Option(help="At risk: SLA due within this many minutes.", min=0, max=10080)
        ] = 30,
        max_open: Annotated[
            int, typer.Option(help="Overloaded above this many open contacts.", min=0)
        ] = 25,
        unmask: Annotated[
            bool,
            typer.Option("--unmask", help="Show customer names and subjects (masked by default)."),
        ] = False,
    ) -> None:
        """A compact, auto-refreshing, read-only full-screen KPI board for a wall or tmux pane.
        Customer personal data is masked unless --unmask. Press q to quit."""
        from console.screens.wallboard import Wallboard  # Textual loads only when it is used

        STATE.read_only = True  # a wall screen never changes data: the store refuses writes too
        backend = STATE.backend()
        Wallboard(
            backend,
            channel=channel_option(channel),
            refresh_seconds=refresh,
            within=within,
            max_open=max_open,
            unmask=unmask,
        ).run()
