"""The PostgreSQL section of `make bench`: the same demo store in PostgreSQL, beside SQLite.

A throwaway cluster (tests/postgres_server.py's, with durable settings: fsync and
synchronous commit on, 1 GB of shared buffers) takes the benchmark store through
`vista migrate`, as a user would move theirs (timed). Then `vista serve` on each store,
on loopback, is timed the same way, call by call alternating between the two servers so
that both see the same moments of a shared machine: customer view (profile, facts, 200
events), queue page, search. Last, 200 simulated operators against two servers on each
store, steady and with one server SIGKILLed halfway (bench/pg_load_bench.py).
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_bench import store_customers

#: The benchmark cluster is durable, as a team's would be; the tests' trades that for speed.
SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
}
SEARCH_WORDS = ("ro", "ros", "rossi", "giu", "giulia ro", "bian", "mar", "347", "gmail", "fr")
FULL_SIZE = 1_000_000


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Served:
    """`vista serve` processes on one store, with operator tokens (revoked on close)."""

    def __init__(self, backend_url: str, servers: int = 1, operators: int = 1) -> None:
        from backends import open_backend
        from backends.models import Role
        from bench.http_bench import free_port, start_server

        self.admin = open_backend(backend_url, agent="admin")
        agents = [
            a.name for a in self.admin.agents() if a.role is Role.OPERATOR and not a.disabled
        ][: max(1, operators)]
        # one person per simulated operator, as in a contact centre (the demo has a handful)
        agents += [f"bench-op-{i}" for i in range(len(agents), operators)]
        stamp = f"{os.getpid()}-{time.time_ns()}"
        self.names = [f"bench-{stamp}-{i}" for i in range(len(agents))]
        self.tokens = [
            self.admin.create_token(name, Role.OPERATOR, agent).token
            for name, agent in zip(self.names, agents, strict=True)
        ]
        self.processes: list[subprocess.Popen[str]] = []
        self.urls: list[str] = []
        try:
            for _ in range(servers):
                port = free_port()
                self.processes.append(start_server(backend_url, port))
                self.urls.append(f"http://127.0.0.1:{port}")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        from backends.base import VistaError

        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for name in self.names:
            try:
                self.admin.revoke_token(name)
            except VistaError as e:
                _say(f"  could not revoke the benchmark token {name}: {e}")
        self.admin.close()


def load_on(
    db: Path,
    backend_url: str,
    operators: int,
    seconds: float,
    *,
    kill: bool = True,
    activity: bool = False,
) -> dict[str, Any]:
    """The load runs (steady, then with `kill` one server killed) on the store `backend_url`
    names; `activity`: PostgreSQL's sessions sampled during the steady run."""
    from bench import pg_load_bench

    customers, _ = store_customers(db)
    served = Served(backend_url, servers=2, operators=operators)
    try:
        store = "postgres" if backend_url.startswith("postgresql") else "sqlite"
        urls = (served.urls[0], served.urls[1])
        return pg_load_bench.compare(
            store,
            served.admin,
            (served.processes[0], served.processes[1]),
            urls,
            served.tokens,
            customers,
            operators,
            seconds,
            say=_say,
            kill=kill,
            activity_url=backend_url if activity and store == "postgres" else "",
        )
    finally:
        served.close()


class Bench:
    """The benchmark store copied into a throwaway PostgreSQL cluster (`with Bench(db)`)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.migrate_seconds = 0.0
        self.url = ""
        self._cluster: Any = None

    def __enter__(self) -> Self:
        from bench.http_bench import vista_cli
        from tests.postgres_server import Cluster, PostgresServer, find_bin

        given = os.environ.get("VISTA_BENCH_POSTGRES", "")
        if given:  # a database that holds this store already (`vista migrate` not timed)
            self.url = given
            return self
        bindir = find_bin()
        if bindir is None:
            raise RuntimeError("no PostgreSQL installed (`make services` installs it as root)")
        self._cluster = Cluster(bindir, SETTINGS)
        try:
            server = PostgresServer(self._cluster.start())
            self.url = server.create("vista_bench")
            _say(f"  copying {self.db.name} into PostgreSQL (vista migrate)…")
            started = time.perf_counter()
            vista_cli(self.db, "migrate", "--from", f"sqlite:///{self.db}", "--to", self.url)
            self.migrate_seconds = time.perf_counter() - started
        except BaseException:
            self._cluster.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cluster is not None:
            self._cluster.stop()

    def size_gb(self) -> float:
        import psycopg

        with psycopg.connect(self.url) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) / 1e9 if row else 0.0

    def load(self, operators: int, seconds: float) -> dict[str, Any]:
        return load_on(self.db, self.url, operators, seconds)


def _timings(db: Path, pg_url: str, runs: int) -> None:
    """Customer view, queue page and search on a SQLite and a PostgreSQL server, alternating."""
    from backends.http.client import HTTPBackend
    from backends.models import QueueQuery
    from bench.run import add, record

    customers, heavy = store_customers(db)
    lite, pg = Served(f"sqlite:///{db}"), Served(pg_url)
    try:
        backends = {
            "sqlite": HTTPBackend(lite.urls[0], token=lite.tokens[0], retries=0),
            "postgres": HTTPBackend(pg.urls[0], token=pg.tokens[0], retries=0),
        }
        rng = random.Random(3)
        ids = heavy or [rng.randint(1, customers) for _ in range(200)]
        for backend in backends.values():  # warm both: the rows read are in memory
            for cid in ids:
                backend.customer_view(cid, limit=200)
        n = max(runs * 5, 200)
        calls = {
            "customer view (profile + 200 events)": (
                lambda b, i: b.customer_view(ids[i % len(ids)], limit=200),
                n,
                {"limit_p50": 4},
            ),
            "queue page (50 rows)": (lambda b, i: b.queue(limit=50), n, {"limit_p50": 3}),
            "queue page, Unassigned (50 rows)": (
                lambda b, i: b.queue(QueueQuery(unassigned=True), limit=50),
                n,
                {"limit_p50": 3},
            ),
            "search (type-ahead prefixes)": (
                lambda b, i: b.search_customers(SEARCH_WORDS[i % len(SEARCH_WORDS)], 20),
                runs * 3,
                {"limit_p95": 50},
            ),
        }
        for metric, (call, count, target) in calls.items():
            samples: dict[str, list[float]] = {"sqlite": [], "postgres": []}
            for i in range(count):
                for store, backend in backends.items():
                    started = time.perf_counter()
                    call(backend, i)
                    samples[store].append((time.perf_counter() - started) * 1000)
            lite_row = record(f"http sqlite: {metric}", samples["sqlite"], note="same run")
            pg_row = record(f"http postgres: {metric}", samples["postgres"], **target)  # type: ignore[arg-type]
            assert lite_row.p50 and pg_row.p50 and lite_row.p95 and pg_row.p95
            add(
                f"postgres / sqlite: {metric}",
                pg_row.p50 / lite_row.p50,
                "x",
                note=f"p50 over p50; p95 {pg_row.p95 / lite_row.p95:.2f}x",
            )
        for backend in backends.values():
            backend.close()
    finally:
        lite.close()
        pg.close()


def _load_rows(store: str, figures: dict[str, Any], operators: int, seconds: float) -> None:
    from bench.run import add

    for run, label in (("steady", "two servers"), ("kill", "one server SIGKILLed halfway")):
        f = figures[run]
        note = (
            f"{operators} operators, {seconds:g} s, {f['requests']:,} requests "
            f"({f['per_second']:.0f}/s), {f['writes_acked']:,} writes acknowledged, "
            f"refused {f['refused'] or 'none'}; p50 by action {f['actions']}"
        )
        if f["errors"]:
            note += f"; first error: {f['first_error'][:100]}"
        add(f"{store} load, {label}: errors", f["errors"], "errors", "0", not f["errors"], note)
        add(
            f"{store} load, {label}: p50 / p95 / p99",
            f["p99"],
            "ms (p99)",
            "p99 <= 100 ms",
            f["p99"] <= 100,
            note=f"p50 {f['p50']:.1f}, p95 {f['p95']:.1f}, p99 {f['p99']:.1f} ms",
        )
        lost = f["lost"]
        add(
            f"{store} load, {label}: acknowledged writes missing afterwards",
            len(lost),
            "writes",
            "0",
            not lost,
            note=("; ".join(lost[:3]) if lost else f"all {f['writes_acked']:,} found"),
        )
        if run == "kill":
            add(
                f"{store} load: killed server's operators served by the other within",
                f["served_after_kill_max_s"],
                "s (max)",
                "<= 5 s",
                f["never_served"] == 0 and f["served_after_kill_max_s"] <= 5,
                note=f"{f['moved']} operators moved, {f['never_served']} never served again; "
                f"p95 {f['served_after_kill_p95_s']:.2f} s (includes their 0.5-1.5 s "
                f"pauses); their first request after the kill took at most "
                f"{f['first_request_after_kill_max_s'] * 1000:.0f} ms",
            )


def run(db: Path, runs: int, results: list[Any]) -> None:
    """Add the PostgreSQL figures to `results` (bench.run's Result list)."""
    from bench.console_bench import collect

    with contextlib.ExitStack() as done:
        done.callback(collect, results)  # the rows so far, even when a step fails
        _run(db, runs)


def _run(db: Path, runs: int) -> None:
    import shutil
    import tempfile

    from bench.run import add

    customers, _ = store_customers(db)
    full = customers >= FULL_SIZE
    operators = int(os.environ.get("VISTA_BENCH_OPERATORS", "200" if full else "50"))
    seconds = float(os.environ.get("VISTA_BENCH_LOAD_SECONDS", "60" if full else "15"))
    before = os.getloadavg()
    with Bench(db) as bench:
        if bench.migrate_seconds:
            add(
                "postgres: vista migrate (COPY, indexes after)",
                bench.migrate_seconds,
                "s",
                note=f"{customers:,} customers; {db.stat().st_size / 1e9:.1f} GB SQLite -> "
                f"{bench.size_gb():.1f} GB PostgreSQL",
            )
        _say("  timing both servers…")
        _timings(db, bench.url, runs)
        _load_rows("postgres", bench.load(operators, seconds), operators, seconds)
    if os.environ.get("VISTA_BENCH_SQLITE_LOAD", "1") != "0":
        with tempfile.TemporaryDirectory(dir=db.parent) as tmp:  # the load writes: a copy
            copy = Path(tmp) / "load.db"
            shutil.copy(db, copy)
            _load_rows(
                "sqlite", load_on(copy, f"sqlite:///{copy}", operators, seconds), operators, seconds
            )
    after = os.getloadavg()
    add(
        "postgres section: load average before / after",
        after[0],
        "",
        note=f"1-min load average {before[0]:.1f} before, {after[0]:.1f} after "
        f"(5-min {after[1]:.1f}) on {os.cpu_count()} CPUs",
    )
