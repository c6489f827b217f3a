"""Supervisor KPIs over the SQLite store: every figure is computed in SQL.

Windowed KPIs sum the hourly rollup for whole hours and read the contacts through
one covering index per clock for the partial hours (backends/sqlite/kpi_windows.py);
they group by trend bucket, and the window totals are the sums of the buckets. Live
figures (backlog, agent load, at risk) read partial indexes of unresolved contacts.
The clocks are defined in the README ("KPI definitions"); in short:

- ASA: created_at -> assigned_at, counted when assigned_at is in the window.
- FRT: created_at -> first_response_at, counted when the first reply is in the window.
- AHT: assigned_at -> resolved_at, counted when resolved_at is in the window.
- Resolution: created_at -> resolved_at, counted when resolved_at is in the window.
- SLA: met when the first reply (or, without one, the resolution) came by
  sla_due_at; counted when that outcome became known inside the window.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from backends import limits, records
from backends.base import InvalidInput
from backends.models import (
    AgentLoad,
    AtRiskContact,
    BacklogKpi,
    Channel,
    ContactStatus,
    DurationKpi,
    KpiBucket,
    KpiReport,
    KpiTrendPoint,
    Priority,
    Role,
    SatisfactionKpi,
    SlaKpi,
)
from backends.sqlite.kpi_windows import (
    AGENT_REPLIES,
    AGENT_RESOLVED,
    ARRIVALS,
    ASA,
    FRT,
    RESOLVED,
    SLA,
    Spec,
    Window,
    windowed,
)
from backends.sqlite.store import Store

#: The longest window and the most trend points a report may ask for.
MAX_WINDOW_DAYS = 400
MAX_TREND_POINTS = 2000
#: Live backlog age buckets: (label, upper bound in seconds, exclusive).
AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("<1h", 3600),
    ("1-4h", 4 * 3600),
    ("4-24h", 86400),
    ("1-3d", 3 * 86400),
    (">3d", 2**62),
)


def _avg(total: float | None, count: int) -> float | None:
    return round(total / count, 1) if count and total is not None else None


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


class StatsQueries:
    """Mixin for SQLiteBackend: the read-only KPI methods of the Backend contract."""

    store: Store
    clock: Callable[[], datetime]
    #: Sum the hourly rollup for whole hours (False: read every contact; for tests).
    use_rollup: bool = True

    # -- contract ---------------------------------------------------------------

    def stats(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        channel: Channel | None = None,
        bucket: KpiBucket | None = None,
        max_open: int = 25,
        at_risk_minutes: int = 15,
        now: datetime | None = None,
    ) -> KpiReport:
        """Every supervisor KPI over [since, until) (see Backend.stats)."""
        w = self._window(since, until, channel, bucket, now)
        horizon = self._horizon(at_risk_minutes)
        points: dict[int, dict[str, Any]] = {start: {} for start in w.starts()}
        with self.store.read() as db:
            arrivals = self._arrivals(db, w, points)
            asa = self._duration(db, w, points, ASA, "asa")
            frt = self._duration(db, w, points, FRT, "frt")
            handle, resolution = self._resolved(db, w, points)
            sla = self._sla(db, w, points, horizon)
            satisfaction = self._surveys(db, w, points)
            backlog = self._backlog(db, w)
            agents = self._agents(db, w, max_open, horizon)
        return KpiReport(
            since=records.ts(w.since),
            until=records.ts(w.until),
            now=records.ts(w.now),
            bucket=w.bucket,
            channel=w.channel,
            arrivals=arrivals[0],
            asa=asa,
            first_response=frt,
            handle=handle,
            resolution=resolution,
            sla=sla,
            unanswered=arrivals[1],
            abandoned=arrivals[2],
            abandon_rate=_ratio(arrivals[2], arrivals[0]),
            backlog=backlog,
            satisfaction=satisfaction,
            agents=agents,
            max_open=max_open,
            at_risk_seconds=horizon,
            trend=tuple(_point(start, p) for start, p in sorted(points.items())),
        )

    def at_risk(
        self,
        within_minutes: int = 30,
        *,
        limit: int = 50,
        channel: Channel | None = None,
        include_breached: bool = False,
        now: datetime | None = None,
    ) -> tuple[AtRiskContact, ...]:
        """Unanswered open contacts due within N minutes (see Backend.at_risk)."""
        if not 1 <= limit <= 500:
            raise InvalidInput(f"limit must be between 1 and 500 (got {limit})")
        horizon = self._horizon(within_minutes)
        now_ts = records.to_ts(now or self.clock())
        where = "c.status <> 'resolved' AND c.first_response_at IS NULL AND c.sla_due_at <= ?"
        params: list[Any] = [now_ts + horizon]
        if not include_breached:
            where += " AND c.sla_due_at >= ?"
            params.append(now_ts)
        if channel is not None:
            where += " AND c.channel = ?"
            params.append(Channel(channel).value)
        with self.store.read() as db:
            found = db.execute(
                "SELECT c.id, c.channel, c.customer_id, c.subject, c.priority, c.status, "
                "c.created_at, c.sla_due_at, c.assignee, "
                "trim(cu.first_name || ' ' || cu.last_name) AS customer_name "
                "FROM contacts c INDEXED BY stats_unanswered_due "
                "JOIN customers cu ON cu.id = c.customer_id "
                f"WHERE {where} ORDER BY c.sla_due_at, c.priority DESC, c.id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return tuple(
            AtRiskContact(
                id=r["id"],
                channel=Channel(r["channel"]),
                customer_id=r["customer_id"],
                customer_name=r["customer_name"],
                subject=r["subject"],
                priority=Priority.from_rank(r["priority"]),
                status=ContactStatus(r["status"]),
                created_at=records.ts(r["created_at"]),
                sla_due_at=records.ts(r["sla_due_at"]),
                seconds_left=r["sla_due_at"] - now_ts,
                assignee=r["assignee"],
            )
            for r in found
        )

    def agent_load(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        max_open: int = 25,
        at_risk_minutes: int = 15,
        now: datetime | None = None,
    ) -> tuple[AgentLoad, ...]:
        """Live open work and window output per agent (see Backend.agent_load)."""
        w = self._window(since, until, None, None, now)
        with self.store.read() as db:
            return self._agents(db, w, max_open, self._horizon(at_risk_minutes))

    # -- arguments ------------------------------------------------------------------

    def _window(
        self,
        since: datetime | None,
        until: datetime | None,
        channel: Channel | None,
        bucket: KpiBucket | None,
        now: datetime | None,
    ) -> Window:
        now_dt = now or self.clock()
        until_dt = until or now_dt
        since_dt = since or until_dt - timedelta(hours=24)
        for value in (now_dt, until_dt, since_dt):
            if value.tzinfo is None:
                raise InvalidInput(f"time {value.isoformat()} has no time zone")
        if since_dt >= until_dt:
            raise InvalidInput("the window is empty: since must be before until")
        if until_dt - since_dt > timedelta(days=MAX_WINDOW_DAYS):
            raise InvalidInput(f"the window is longer than {MAX_WINDOW_DAYS} days")
        if bucket is None:
            bucket = KpiBucket.HOUR if until_dt - since_dt <= timedelta(hours=48) else KpiBucket.DAY
        w = Window(
            records.to_ts(since_dt),
            records.to_ts(until_dt),
            records.to_ts(now_dt),
            KpiBucket(bucket),
            Channel(channel) if channel is not None else None,
        )
        w.rollup = self.use_rollup
        if (w.until - 1) // w.width - w.since // w.width + 1 > MAX_TREND_POINTS:
            raise InvalidInput(
                f"a trend per {w.bucket.value} over this window has more than "
                f"{MAX_TREND_POINTS} points; use a day bucket"
            )
        return w

    @staticmethod
    def _horizon(minutes: int) -> int:
        if not 0 <= minutes <= limits.AT_RISK_MAX_MINUTES:
            raise InvalidInput(f"the at-risk horizon must be 0..10080 minutes (got {minutes})")
        return minutes * 60

    # -- queries ------------------------------------------------------------------------

    @staticmethod
    def _arrivals(
        db: sqlite3.Connection, w: Window, points: dict[int, dict[str, Any]]
    ) -> tuple[int, int, int]:
        """Arrivals, still unanswered, abandoned (resolved without a reply): by created_at."""
        found = windowed(db, w, ARRIVALS)
        totals = [0, 0, 0]
        for b, (n, unanswered, abandoned) in found.items():
            points[b].update(arrivals=n, abandoned=abandoned)
            totals = [totals[0] + n, totals[1] + unanswered, totals[2] + abandoned]
        return totals[0], totals[1], totals[2]

    @staticmethod
    def _duration(
        db: sqlite3.Connection,
        w: Window,
        points: dict[int, dict[str, Any]],
        spec: Spec,
        name: str,
    ) -> DurationKpi:
        """An average clock (ASA or FRT) over the contacts whose clock stopped in the window."""
        count = total = 0
        for b, (n, t) in windowed(db, w, spec).items():
            points[b][f"{name}_seconds"] = _avg(t, n)
            if name == "frt":
                points[b]["first_responses"] = n
            count, total = count + n, total + t
        return DurationKpi(count, _avg(total, count))

    @staticmethod
    def _resolved(
        db: sqlite3.Connection, w: Window, points: dict[int, dict[str, Any]]
    ) -> tuple[DurationKpi, DurationKpi]:
        """Handle time (assigned -> resolved) and resolution time (created -> resolved)."""
        n = res = handled = aht = 0
        for b, (bn, bres, bhandled, baht) in windowed(db, w, RESOLVED).items():
            points[b].update(
                resolved=bn,
                resolution_seconds=_avg(bres, bn),
                aht_seconds=_avg(baht, bhandled),
            )
            n, res, handled, aht = n + bn, res + bres, handled + bhandled, aht + baht
        return DurationKpi(handled, _avg(aht, handled)), DurationKpi(n, _avg(res, n))

    @staticmethod
    def _sla(
        db: sqlite3.Connection, w: Window, points: dict[int, dict[str, Any]], horizon: int
    ) -> SlaKpi:
        """Met / breached by the time the outcome became known; live breached and due soon."""
        met = breached = 0
        # an outcome is known once it happened: never later than now
        for b, (b_met, n) in windowed(db, w, SLA, upper=min(w.until, w.now + 1)).items():
            points[b].update(sla_met=b_met, sla_breached=n - b_met, sla_attainment=_ratio(b_met, n))
            met, breached = met + b_met, breached + n - b_met
        # live: unanswered and unresolved, past due or due within the horizon
        live_where = "status <> 'resolved' AND first_response_at IS NULL AND sla_due_at <= ?"
        live_params: list[Any] = [w.now, w.now, w.now + horizon]
        if w.channel is not None:
            live_where += " AND channel = ?"
            live_params.append(w.channel.value)
        live = db.execute(
            "SELECT count(*) FILTER (WHERE sla_due_at < ?) AS breached, "
            "count(*) FILTER (WHERE sla_due_at >= ?) AS soon "
            f"FROM contacts INDEXED BY stats_unanswered_due WHERE {live_where}",
            live_params,
        ).fetchone()
        return SlaKpi(
            met=met,
            breached=breached,
            attainment=_ratio(met, met + breached),
            breached_open=live["breached"],
            due_soon=live["soon"],
        )

    @staticmethod
    def _surveys(
        db: sqlite3.Connection, w: Window, points: dict[int, dict[str, Any]]
    ) -> SatisfactionKpi:
        """CSAT and NPS from the survey events received in the window."""
        chan = ""
        params: list[Any] = [w.since, w.until]
        if w.channel is not None:
            chan = " AND s.channel = ?"
            params.append(w.channel.value)
        # survey_scores holds the valid scores of survey events (migration 0004's triggers)
        found = db.execute(
            "SELECT s.at / ? * ? AS b, count(s.csat) AS cn, sum(s.csat) AS cs, "
            "count(*) FILTER (WHERE s.csat >= 4) AS happy, count(s.nps) AS nn, "
            "count(*) FILTER (WHERE s.nps >= 9) AS pro, "
            "count(*) FILTER (WHERE s.nps BETWEEN 7 AND 8) AS pas, "
            "count(*) FILTER (WHERE s.nps <= 6) AS det "
            "FROM survey_scores s INDEXED BY survey_scores_at "
            f"WHERE s.at >= ? AND s.at < ?{chan} GROUP BY b",
            (w.width, w.width, *params),
        ).fetchall()
        t = dict.fromkeys(("cn", "cs", "happy", "nn", "pro", "pas", "det"), 0)
        for r in found:
            points[r["b"]]["csat_avg"] = _avg(r["cs"], r["cn"])
            for k in t:
                t[k] += r[k] or 0
        nps = round(100 * (t["pro"] - t["det"]) / t["nn"], 1) if t["nn"] else None
        return SatisfactionKpi(
            csat_responses=t["cn"],
            csat_avg=_avg(t["cs"], t["cn"]) if t["cn"] else None,
            csat_percent=round(100 * t["happy"] / t["cn"], 1) if t["cn"] else None,
            nps_responses=t["nn"],
            promoters=t["pro"],
            passives=t["pas"],
            detractors=t["det"],
            nps=nps,
        )

    @staticmethod
    def _backlog(db: sqlite3.Connection, w: Window) -> BacklogKpi:
        """Unresolved contacts now, by channel, priority and age (time since created_at)."""
        # ages are ranges of created_at: counted per range, grouped in index order (no sort)
        ages: list[str] = []
        params: list[Any] = []
        upper = None
        for i, (_, bound) in enumerate(AGE_BUCKETS):
            lower = w.now - bound  # younger than `bound`: created after now - bound
            cond = "created_at > ?" + (" AND created_at <= ?" if upper is not None else "")
            ages.append(f"count(*) FILTER (WHERE {cond}) AS age{i}")
            params += [lower] + ([upper] if upper is not None else [])
            upper = lower
        where = "status <> 'resolved'"
        if w.channel is not None:
            where += " AND channel = ?"
            params.append(w.channel.value)
        found = db.execute(
            f"SELECT channel, priority, count(*) AS n, {', '.join(ages)}, "
            "count(*) FILTER (WHERE assignee IS NULL) AS unassigned "
            f"FROM contacts INDEXED BY stats_open WHERE {where} GROUP BY channel, priority",
            params,
        ).fetchall()
        by_channel = dict.fromkeys(
            [w.channel.value] if w.channel is not None else [c.value for c in Channel], 0
        )
        by_priority = dict.fromkeys([p.value for p in reversed(Priority)], 0)
        by_age = dict.fromkeys([label for label, _ in AGE_BUCKETS], 0)
        total = unassigned = 0
        for r in found:
            by_channel[r["channel"]] = by_channel.get(r["channel"], 0) + r["n"]
            prio = Priority.from_rank(r["priority"]).value
            by_priority[prio] += r["n"]
            for i, (label, _) in enumerate(AGE_BUCKETS):
                by_age[label] += r[f"age{i}"]
            total += r["n"]
            unassigned += r["unassigned"]
        return BacklogKpi(total, unassigned, by_channel, by_priority, by_age)

    @staticmethod
    def _agents(
        db: sqlite3.Connection, w: Window, max_open: int, horizon: int
    ) -> tuple[AgentLoad, ...]:
        """Per agent: live open work (held now) and first replies / resolutions in the window."""
        if max_open < 0:
            raise InvalidInput(f"max_open must be 0 or more (got {max_open})")
        chan, chan_params = "", []
        if w.channel is not None:
            chan, chan_params = " AND channel = ?", [w.channel.value]
        live = db.execute(
            "SELECT assignee, count(*) AS open, sum(status = 'pending') AS pending, "
            "sum(status = 'snoozed') AS snoozed, "
            "sum(first_response_at IS NULL AND sla_due_at < ?) AS breached, "
            "sum(first_response_at IS NULL AND sla_due_at >= ? AND sla_due_at <= ?) AS at_risk, "
            "min(created_at) AS oldest FROM contacts INDEXED BY stats_held "
            f"WHERE status <> 'resolved' AND assignee IS NOT NULL{chan} GROUP BY assignee",
            (w.now, w.now, w.now + horizon, *chan_params),
        ).fetchall()
        responded = windowed(db, w, AGENT_REPLIES, by_agent=True)
        resolved = windowed(db, w, AGENT_RESOLVED, by_agent=True)
        people = db.execute("SELECT name, display_name, role FROM agents").fetchall()
        names = {r["name"]: r["display_name"] for r in people}
        rows_by: dict[str, dict[str, Any]] = {
            r["name"]: {} for r in people if r["role"] != Role.SUPERVISOR.value
        }
        for r in live:
            rows_by.setdefault(r["assignee"], {}).update(
                open=r["open"],
                pending=r["pending"],
                snoozed=r["snoozed"],
                breached=r["breached"],
                at_risk=r["at_risk"],
                oldest_open_at=records.ts(r["oldest"]),
            )
        for name, (n,) in responded.items():
            if n:
                rows_by.setdefault(name, {})["first_responses"] = n
        for name, (n, handled, aht) in resolved.items():
            if n:
                rows_by.setdefault(name, {}).update(resolved=n, aht_seconds=_avg(aht, handled))
        loads = [
            AgentLoad(
                agent=name,
                display_name=names.get(name, name),
                overloaded=v.get("open", 0) > max_open,
                **v,
            )
            for name, v in rows_by.items()
        ]
        loads.sort(key=lambda a: (-a.open, -a.breached, a.agent))
        return tuple(loads)


def _point(start: int, values: dict[str, Any]) -> KpiTrendPoint:
    return KpiTrendPoint(start=datetime.fromtimestamp(start, UTC), **values)
