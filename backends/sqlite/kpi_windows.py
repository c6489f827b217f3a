"""The windowed KPI queries: one clock per KPI, read from the hourly rollup for whole hours
and from the contacts (one covering index per clock) for the partial hours at the edges.

The rollup tables `kpi_hourly` and `kpi_agent_hourly` (migration 0004) are kept exact by
triggers on contacts; `Window.rollup = False` reads every contact instead (the tests
compare both).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from backends.models import Channel, KpiBucket


class Window:
    """A report's window as store timestamps, its bucket width and channel filter."""

    def __init__(
        self, since: int, until: int, now: int, bucket: KpiBucket, channel: Channel | None
    ) -> None:
        self.since, self.until, self.now = since, until, now
        self.bucket = bucket
        self.width = bucket.seconds
        self.channel = channel
        self.rollup = True  # False: read every contact (the tests compare both ways)

    def starts(self) -> list[int]:
        """The start of every trend bucket that overlaps the window."""
        first = self.since // self.width
        last = (self.until - 1) // self.width
        return [b * self.width for b in range(first, last + 1)]


NEVER = 9999999999  # must match the expression of index stats_sla and the rollup triggers
SLA_SETTLED = f"min(coalesce(first_response_at, resolved_at, {NEVER}), sla_due_at)"


class Spec:
    """A windowed KPI: its clock-stop column over contacts (one covering index) and the
    matching sums of the hourly rollup `kpi_hourly` (migration 0004)."""

    def __init__(
        self,
        stop: str,
        index: str,
        fields: tuple[str, ...],
        rollup: tuple[str, ...],
        where: str = "",
    ) -> None:
        self.stop, self.index, self.fields, self.rollup = stop, index, fields, rollup
        self.where = where


ARRIVALS = Spec(
    "created_at",
    "stats_created",
    (
        "count(*)",
        "count(*) FILTER (WHERE status <> 'resolved' AND first_response_at IS NULL)",
        "count(*) FILTER (WHERE status = 'resolved' AND first_response_at IS NULL)",
    ),
    ("arrivals", "unanswered", "abandoned"),
)
ASA = Spec(
    "assigned_at",
    "stats_assigned",
    ("count(*)", "sum(max(assigned_at - created_at, 0))"),
    ("assigned", "asa_sum"),
)
FRT = Spec(
    "first_response_at",
    "stats_first_response",
    ("count(*)", "sum(max(first_response_at - created_at, 0))"),
    ("first_replies", "frt_sum"),
)
RESOLVED = Spec(
    "resolved_at",
    "stats_resolved",
    (
        "count(*)",
        "sum(max(resolved_at - created_at, 0))",
        "count(assigned_at)",
        "sum(max(resolved_at - assigned_at, 0))",
    ),
    ("resolved", "resolution_sum", "handled", "aht_sum"),
)
SLA = Spec(
    SLA_SETTLED,
    "stats_sla",
    ("count(*) FILTER (WHERE coalesce(first_response_at, resolved_at) <= sla_due_at)", "count(*)"),
    ("sla_met", "sla_met + sla_breached"),
    where="sla_due_at IS NOT NULL AND ",
)
AGENT_REPLIES = Spec("first_response_at", "stats_first_response", ("count(*)",), ("first_replies",))
AGENT_RESOLVED = Spec(
    "resolved_at",
    "stats_resolved",
    ("count(*)", "count(assigned_at)", "sum(max(resolved_at - assigned_at, 0))"),
    ("resolved", "handled", "aht_sum"),
)
HOUR = 3600


def windowed(
    db: sqlite3.Connection,
    w: Window,
    spec: Spec,
    upper: int | None = None,
    by_agent: bool = False,
) -> dict[Any, list[int]]:
    """Bucket start (or, by_agent, assignee) -> the spec's sums over [since, upper or until).

    Whole hours come from the rollup; the contacts are read only for the partial
    hours at either edge (or for the whole window when it spans no whole hour).
    """
    table = "kpi_agent_hourly" if by_agent else "kpi_hourly"
    group = "assignee" if by_agent else f"hour * {HOUR} / ? * ?"
    base_group = "assignee" if by_agent else f"{spec.stop} / ? * ?"
    group_params = [] if by_agent else [w.width, w.width]
    where = spec.where + ("assignee IS NOT NULL AND " if by_agent else "")
    hi = w.until if upper is None else upper
    out: dict[Any, list[int]] = {}

    def add(found: list[sqlite3.Row]) -> None:
        for r in found:
            acc = out.setdefault(r[0], [0] * len(spec.fields))
            for i in range(len(spec.fields)):
                acc[i] += r[i + 1] or 0

    chan, chan_params = "", []
    if w.channel is not None:
        chan, chan_params = " AND channel = ?", [w.channel.value]
    edges = [(w.since, hi)]
    first_hour, end_hour = -(-w.since // HOUR), hi // HOUR
    if w.rollup and end_hour > first_hour:
        edges = [(w.since, first_hour * HOUR), (end_hour * HOUR, hi)]
        sums = ", ".join(f"sum({c})" for c in spec.rollup)
        add(
            db.execute(
                f"SELECT {group} AS b, {sums} FROM {table} "
                f"WHERE hour >= ? AND hour < ?{chan} GROUP BY b",
                (*group_params, first_hour, end_hour, *chan_params),
            ).fetchall()
        )
    for lo, up in edges:
        if lo < up:
            add(
                db.execute(
                    f"SELECT {base_group} AS b, {', '.join(spec.fields)} "
                    f"FROM contacts INDEXED BY {spec.index} "
                    f"WHERE {where}{spec.stop} >= ? AND {spec.stop} < ?{chan} GROUP BY b",
                    (*group_params, lo, up, *chan_params),
                ).fetchall()
            )
    return out
