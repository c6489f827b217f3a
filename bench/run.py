"""Vista's performance benchmark: `make bench` (1,000,000 customers) / `make bench-quick` (100,000).

Every figure is a median and p95 over repeated runs, printed as one table
(metric, value, target, pass/fail) and written to bench/results/latest.json.
Where a target is relative (console start-up), the baseline is measured in
the same run, because this machine's speed drifts 20-30% between runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends.sqlite.backend import SQLiteBackend
from console.demo import GENERATOR_VERSION

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"


@dataclass
class Result:
    metric: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    p50: float | None = None
    p95: float | None = None
    runs: int = 0
    note: str = ""


RESULTS_LIST: list[Result] = []


def timed(fn: Callable[[int], object], runs: int) -> list[float]:
    """Milliseconds of `runs` calls of fn(i)."""
    out = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def record(
    metric: str,
    samples: list[float],
    *,
    limit_p95: float | None = None,
    limit_p50: float | None = None,
    note: str = "",
) -> Result:
    p50, p95 = statistics.median(samples), pct(samples, 0.95)
    target, ok = "", None
    if limit_p95 is not None:
        target, ok = f"p95 <= {limit_p95:g} ms", p95 <= limit_p95
    elif limit_p50 is not None:
        target, ok = f"p50 <= {limit_p50:g} ms", p50 <= limit_p50
    r = Result(
        metric,
        round(p95 if limit_p50 is None else p50, 3),
        "ms",
        target,
        ok,
        round(p50, 3),
        round(p95, 3),
        len(samples),
        note,
    )
    RESULTS_LIST.append(r)
    return r


def add(
    metric: str, value: float, unit: str, target: str = "", ok: bool | None = None, note: str = ""
) -> None:
    RESULTS_LIST.append(Result(metric, round(value, 3), unit, target, ok, note=note))


# ----------------------------------------------------------------------------- database


def ensure_database(customers: int) -> Path:
    """The benchmark database, cached by size and generator version (bench/database.py)."""
    from bench import database

    path, seconds = database.ensure(
        DATA, customers, say=lambda text: print(text, file=sys.stderr, flush=True)
    )
    if seconds is not None:
        add(
            "demo generation (once, cached)",
            seconds,
            "s",
            note=f"{customers:,} customers, {path.stat().st_size / 1e9:.1f} GB",
        )
    return path


# ----------------------------------------------------------------------------- backend calls


def bench_backend(db: Path, customers: int, runs: int) -> None:
    rng = random.Random(1)
    backend = SQLiteBackend(db, agent="demo", read_only=True)
    # search: what operators type, prefix by prefix
    words = [
        "ro",
        "ros",
        "rossi",
        "giu",
        "giulia ro",
        "bian",
        "mar",
        "347",
        "333 12",
        "gmail",
        "de lu",
        "esposito",
        "ferr",
        "fr",
        "zo",
    ]
    record(
        "backend: search (type-ahead prefixes)",
        timed(lambda i: backend.search_customers(words[i % len(words)], 20), runs * 3),
        limit_p95=50,
    )
    # open a customer: profile + facts + 200 timeline events
    heavy = [
        r[0]
        for r in backend.store.conn.execute(
            "SELECT customer_id FROM events GROUP BY customer_id HAVING count(*) >= 200 LIMIT 200"
        )
    ]
    ids = heavy or [rng.randint(1, customers) for _ in range(200)]

    def open_customer(i: int, b: SQLiteBackend = backend) -> None:
        cid = ids[i % len(ids)]
        b.get_customer(cid)
        b.customer_facts(cid)
        b.timeline(cid, limit=200)

    record(
        "backend: open customer, warm (profile+facts+200 events)",
        timed(open_customer, runs * 3),
        limit_p95=100,
        note=f"{len(heavy)} customers with >= 200 events",
    )

    cold_ids = [rng.randint(1, customers) for _ in range(runs)]

    def open_cold(i: int) -> None:
        b = SQLiteBackend(db, agent="demo", read_only=True)  # empty page cache
        cid = cold_ids[i]
        b.get_customer(cid)
        b.customer_facts(cid)
        b.timeline(cid, limit=200)
        b.close()

    record(
        "backend: open customer, cold connection",
        timed(open_cold, runs),
        limit_p95=100,
        note="new connection (SQLite cache empty; OS cache may be warm)",
    )
    record(
        "backend: queue page (50 rows)",
        timed(lambda i: backend.queue(limit=50), runs * 3),
        limit_p50=2,
    )
    page = backend.queue(limit=50)
    deep = page
    for _ in range(20):
        if deep.next_cursor:
            deep = backend.queue(cursor=deep.next_cursor, limit=50)
    record(
        "backend: queue page deep in the list",
        timed(
            lambda i: backend.queue(cursor=deep.prev_cursor or page.next_cursor, limit=50), runs * 3
        ),
        limit_p50=2,
    )
    record("backend: queue count", timed(lambda i: backend.queue_count(), runs))
    backend.close()

    # queue refresh through the change feed: a write elsewhere, seen and re-read here
    writer = SQLiteBackend(db, agent="giulia")
    reader = SQLiteBackend(db, agent="demo", read_only=True)
    cursor = reader.changes(-1).cursor
    from backends.models import QueueQuery

    target = reader.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id

    def refresh(i: int) -> None:
        nonlocal cursor
        # claim on even runs, release on odd ones: the benchmark leaves the data as it found it
        (writer.claim if i % 2 == 0 else writer.release)(target)
        batch = reader.changes(cursor)
        assert batch.changes, "the change feed missed a write"
        cursor = batch.cursor
        reader.queue(limit=50)

    record(
        "backend: write seen through change feed + queue re-read",
        timed(refresh, runs),
        limit_p95=50,
        note="a claim or release elsewhere, then changes() + queue page",
    )
    if runs % 2:
        writer.release(target)
    writer.close()
    reader.close()


def bench_memory(db: Path, customers: int) -> None:
    """Peak RSS of a process that opens 1,000 customers in a row."""
    code = (
        "import random, sys\n"
        "from bench.rss import peak_rss_kb\n"
        "from backends.sqlite.backend import SQLiteBackend\n"
        f"b = SQLiteBackend({str(db)!r}, agent='demo', read_only=True)\n"
        "b.queue(limit=50)\n"
        "ready = peak_rss_kb()\n"
        "rng = random.Random(3)\n"
        f"for _ in range(1000):\n    cid = rng.randint(1, {customers})\n"
        "    b.get_customer(cid); b.customer_facts(cid); b.timeline(cid, limit=200)\n"
        "print(ready, peak_rss_kb())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    ready, after = (int(x) / 1024 for x in out.stdout.split())
    add("memory: backend process at ready", ready, "MB RSS")
    add(
        "memory: after opening 1,000 customers",
        after,
        "MB RSS",
        "<= ready + 30 MB",
        after <= ready + 30,
    )


def bench_identity(customers: int) -> None:
    """A short run of `make bench-identity` (bench/identity/run.py owns that benchmark)."""
    import re

    if customers < 1_000_000:
        add(
            "identity: import + resolution: see `make bench-identity`",
            0,
            "(skipped)",
            note="skipped in bench-quick to stay within its time budget",
        )
        return
    records = 50_000
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "identity" / "run.py"), "--records", str(records)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    rate = re.search(r"= ([\d,]+) records/s", out.stdout)
    f1 = re.search(r"precision: ([\d.]+)\s+recall: ([\d.]+)\s+F1: ([\d.]+)", out.stdout)
    if out.returncode != 0 or rate is None:
        add(
            "identity: import + resolution",
            0,
            "records/s",
            "completes",
            False,
            note=f"bench/identity/run.py failed: {out.stderr.strip()[-100:]}",
        )
        return
    add(
        "identity: import + resolution throughput",
        float(rate.group(1).replace(",", "")),
        "records/s",
        note=f"{records:,} records, 3 CLI imports incl. process start; "
        "`make bench-identity` for the full run",
    )
    if f1 is not None:
        add(
            "identity: pairwise F1",
            float(f1.group(3)),
            "",
            note=f"precision {f1.group(1)}, recall {f1.group(2)}",
        )


# ----------------------------------------------------------------------------- report


def report(customers: int, started: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Vista benchmark — {customers:,} customers", title_justify="left")
    for col in ("metric", "value", "p50", "p95", "target", "result"):
        table.add_column(col)
    for r in RESULTS_LIST:
        verdict = "" if r.ok is None else ("pass" if r.ok else "FAIL")
        table.add_row(
            r.metric,
            f"{r.value:g} {r.unit}",
            "" if r.p50 is None else f"{r.p50:g}",
            "" if r.p95 is None else f"{r.p95:g}",
            r.target,
            verdict,
        )
    Console(width=150).print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "customers": customers,
        "generator_version": GENERATOR_VERSION,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "seconds": round(time.perf_counter() - started, 1),
        "results": [asdict(r) for r in RESULTS_LIST],
    }
    (RESULTS / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {RESULTS / 'latest.json'} in {doc['seconds']} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--only", default="", help="comma-separated sections to run")
    args = parser.parse_args()
    started = time.perf_counter()
    db = ensure_database(args.customers)
    sections: dict[str, Callable[[], None]] = {
        "backend": lambda: bench_backend(db, args.customers, args.runs),
        "memory": lambda: bench_memory(db, args.customers),
    }
    try:
        from bench import desk_bench

        sections["desk"] = lambda: desk_bench.run(db, args.runs, RESULTS_LIST)
    except ImportError:
        pass
    if (ROOT / "bench" / "identity" / "run.py").exists():
        sections["identity"] = lambda: bench_identity(args.customers)
    try:
        from bench import console_bench

        sections["console"] = lambda: console_bench.run(db, args.runs, RESULTS_LIST)
    except ImportError:
        pass
    try:
        from bench import http_bench

        sections["http"] = lambda: http_bench.run(db, args.runs, RESULTS_LIST)
    except ImportError:
        pass
    try:
        from bench import webhook_bench

        sections["webhook"] = lambda: webhook_bench.run(db, args.runs, RESULTS_LIST)
    except ImportError:
        pass
    from bench import pg_bench

    sections["postgres"] = lambda: pg_bench.run(db, args.runs, RESULTS_LIST)
    from bench import routing_bench

    sections["routing"] = lambda: routing_bench.run(args.runs, RESULTS_LIST)
    wanted = [s for s in args.only.split(",") if s] or list(sections)
    for name in wanted:
        print(f"[{name}]", file=sys.stderr, flush=True)
        gc.collect()
        section_started = time.perf_counter()
        try:
            sections[name]()
        except Exception as error:  # noqa: BLE001 - one broken section must not hide the others
            import traceback

            traceback.print_exc()
            add(
                f"{name}: section failed",
                0,
                "",
                "completes",
                False,
                note=f"{type(error).__name__}: {error}"[:150],
            )
        print(
            f"[{name}] {time.perf_counter() - section_started:.0f} s", file=sys.stderr, flush=True
        )
    report(args.customers, started)


if __name__ == "__main__":
    main()
