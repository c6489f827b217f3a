"""Supervisor KPI timings: every KPI query on a big store, target <= 50 ms each.

    .venv/bin/vista demo --customers 1000000 --db /tmp/big.db   # once, several minutes
    .venv/bin/python bench/stats_bench.py --db /tmp/big.db

Each KPI query of backends/sqlite/stats.py is timed on its own (median and p95 of
--runs runs, warm cache) for a 24-hour, a 7-day and a 30-day window ending at the
store's "now" (when the demo was generated), plus the whole `stats()` report and
`at_risk()`. `measure()` returns the rows for bench/run.py to reuse.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends.models import Channel
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.kpi_windows import ASA, FRT
from backends.sqlite.stats import StatsQueries

TARGET_MS = 50.0
WINDOWS = (("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)))


def _ms(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm the page cache and the statement cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def store_now(backend: SQLiteBackend) -> datetime:
    """The demo's "now": when its agents were created (the generator's clock)."""
    with backend.store.read() as db:
        ts = db.execute("SELECT max(created_at) FROM agents").fetchone()[0]
    return datetime.fromtimestamp(ts, UTC)


class _Timed:
    """A connection stand-in that runs and fetches each statement, timing it alone."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.times: list[float] = []

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        start = time.perf_counter()
        rows = self.db.execute(sql, params).fetchall()
        self.times.append((time.perf_counter() - start) * 1000)
        return _Rows(rows)


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchall(self) -> list[Any]:
        return self.rows

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


def measure(db_path: Path, runs: int = 15) -> list[tuple[str, list[float]]]:
    """(metric, samples in ms) for each KPI SQL statement and window, and the whole report."""
    backend = SQLiteBackend(db_path, agent="anna", read_only=True)
    now = store_now(backend)
    rows: list[tuple[str, list[float]]] = []
    q = StatsQueries
    try:
        with backend.store.read() as db:
            for label, length in WINDOWS:
                for channel in (None, Channel.EMAIL):
                    w = backend._window(now - length, now, channel, None, now)
                    tag = f"{label}{'/email' if channel else ''}"

                    def points() -> dict[int, dict[str, Any]]:
                        return {s: {} for s in w.starts()}  # noqa: B023

                    kpis: dict[str, Callable[[Any], object]] = {
                        "arrivals/unanswered/abandoned": lambda c: q._arrivals(c, w, points()),  # noqa: B023
                        "ASA": lambda c: q._duration(c, w, points(), ASA, "asa"),  # noqa: B023
                        "FRT": lambda c: q._duration(c, w, points(), FRT, "frt"),  # noqa: B023
                        "AHT/resolution": lambda c: q._resolved(c, w, points()),  # noqa: B023
                        "SLA": lambda c: q._sla(c, w, points(), 900),  # noqa: B023
                        "CSAT/NPS": lambda c: q._surveys(c, w, points()),  # noqa: B023
                        "backlog (live)": lambda c: q._backlog(c, w),  # noqa: B023
                        "agents": lambda c: q._agents(c, w, 25, 900),  # noqa: B023
                    }
                    for name, fn in kpis.items():
                        if label != "24h" and name == "backlog (live)":
                            continue  # live: the window does not change it
                        fn(db)  # warm the page cache
                        per_statement: list[list[float]] = []
                        for _ in range(runs):
                            timed = _Timed(db)
                            fn(timed)
                            per_statement.append(timed.times)
                        names = STATEMENTS.get(name, ())
                        for i, samples in enumerate(zip(*per_statement, strict=True)):
                            part = f" {names[i]}" if i < len(names) else ""
                            rows.append((f"{name}{part} [{tag}]", list(samples)))
        for label, length in WINDOWS:

            def report(length: timedelta = length) -> object:
                return backend.stats(now - length, now, now=now)

            rows.append((f"whole stats() report [{label}]", _ms(report, runs)))
        rows.append(("at_risk(30 min, 50)", _ms(lambda: backend.at_risk(30, now=now), runs)))
        rows.append(
            (
                "at_risk(30 min, incl. breached)",
                _ms(lambda: backend.at_risk(30, include_breached=True, now=now), runs),
            )
        )
    finally:
        backend.close()
    return rows


#: Names of the statements a KPI method runs, in order, where it runs more than one.
KPI_NAMES = (
    "arrivals/unanswered/abandoned",
    "ASA",
    "FRT",
    "AHT/resolution",
    "SLA",
    "CSAT/NPS",
    "backlog (live)",
    "agents",
)
_EDGES = ("rollup", "edge 1", "edge 2")
STATEMENTS = {
    "arrivals/unanswered/abandoned": _EDGES,
    "ASA": _EDGES,
    "FRT": _EDGES,
    "AHT/resolution": _EDGES,
    "SLA": ("settled: rollup", "settled: edge 1", "settled: edge 2", "live"),
    "agents": (
        "live load",
        "replies: rollup",
        "replies: edge 1",
        "replies: edge 2",
        "resolved: rollup",
        "resolved: edge 1",
        "resolved: edge 2",
        "names",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a big demo database")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with SQLiteBackend(args.db, agent="anna", read_only=True) as b, b.store.read() as db:
        contacts = db.execute("SELECT count(*) FROM contacts").fetchone()[0]
    print(
        f"{args.db}: {contacts:,} contacts; {args.runs} runs each; target p95 <= "
        f"{TARGET_MS:g} ms per KPI query"
    )
    print(f"{'query [window]':<48} {'p50 ms':>8} {'p95 ms':>8}  ok")
    worst = 0.0
    summary: dict[tuple[str, str], float] = {}
    for metric, samples in measure(args.db, args.runs):
        p50 = statistics.median(samples)
        p95 = sorted(samples)[max(0, round(0.95 * (len(samples) - 1)))]
        single = not metric.startswith(("whole", "at_risk"))
        if single:
            worst = max(worst, p95)
            kpi = next(k for k in KPI_NAMES if metric.startswith(k))
            window = metric.rsplit("[", 1)[1].rstrip("]")
            summary[(kpi, window)] = max(summary.get((kpi, window), 0.0), p95)
        ok = "" if not single else ("yes" if p95 <= TARGET_MS else "NO")
        print(f"{metric:<48} {p50:8.2f} {p95:8.2f}  {ok}")
    print("\nslowest statement of each KPI, p95 ms (all channels / e-mail only):")
    print(f"{'KPI':<32}" + "".join(f"{label:>16}" for label, _ in WINDOWS))
    for kpi in KPI_NAMES:
        cells = []
        for label, _ in WINDOWS:
            vals = [summary.get((kpi, f"{label}{suffix}")) for suffix in ("", "/email")]
            cells.append(" / ".join("-" if v is None else f"{v:.1f}" for v in vals))
        print(f"{kpi:<32}" + "".join(f"{c:>16}" for c in cells))
    print(
        f"slowest KPI query p95: {worst:.2f} ms "
        f"({'within' if worst <= TARGET_MS else 'OVER'} {TARGET_MS:g} ms)"
    )


if __name__ == "__main__":
    main()
