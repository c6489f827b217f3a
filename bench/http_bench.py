"""The HTTP section of `make bench`: the remote backend against `vista serve` on loopback.

The server runs in its own process (as in production: client and server never
share an interpreter), on a free 127.0.0.1 port, with a token made by
`vista tokens create` and revoked afterwards. Figures: customer view (profile +
200 timeline events), queue page, search and a change-feed refresh with one
client, then a bounded load of simulated operators polling the queue and
opening customers from several client processes.

Load size: 200 operators for 60 s on the 1,000,000-customer database (`make bench`),
50 operators for 15 s on smaller ones (`make bench-quick`); override with
VISTA_BENCH_OPERATORS and VISTA_BENCH_LOAD_SECONDS.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LOAD_PROCESSES = 4
FULL_SIZE = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vista_cli(db: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `vista` CLI against the benchmark store (a SQLite file or a backend URL)."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from console.cli.app import main; main()",
            "--backend",
            f"sqlite:///{db}" if isinstance(db, Path) else db,
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def start_server(db: Path | str, port: int) -> subprocess.Popen[str]:
    """`vista serve` on 127.0.0.1:`port` for a SQLite file or a backend URL, once it answers."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from console.cli.app import main; main()",
            "serve",
            "--backend",
            f"sqlite:///{db}" if isinstance(db, Path) else db,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=0.5)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"vista serve did not start: {proc.communicate()[1]}") from None
            time.sleep(0.2)


def _operator_process(
    url: str, token: str, operators: int, seconds: float, customers: int, seed: int, out: Any
) -> None:
    """One client process running `operators` simulated operators on threads.

    Each operator loops until the deadline: 70% of the time it re-reads its queue page,
    30% it opens a random customer as the console does (`customer_view`: profile, key
    facts and 50 timeline events), then thinks for 0.5-1.5 s. Retries are off, so every failed request counts as an error.
    """
    import threading

    from backends.http.client import HTTPBackend

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds
    cpu_start = time.process_time()

    def operator(n: int) -> None:
        rng = random.Random(seed * 10_000 + n)
        backend = HTTPBackend(url, token=token, retries=0)
        time.sleep(rng.uniform(0, 1.0))  # do not start in lockstep
        while time.monotonic() < end:
            started = time.perf_counter()
            try:
                if rng.random() < 0.7:
                    backend.queue(limit=50)
                else:
                    # as the console opens one: profile, key facts, first timeline page
                    backend.customer_view(rng.randint(1, customers), limit=50)
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(ms)
            except Exception as e:  # noqa: BLE001 - every failure counts as an error
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")
            time.sleep(rng.uniform(0.5, 1.5))
        backend.close()

    threads = [threading.Thread(target=operator, args=(i,)) for i in range(operators)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, errors, time.process_time() - cpu_start))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _load(
    url: str,
    token: str,
    customers: int,
    operators: int,
    seconds: float,
    server_pid: int | None = None,
) -> None:
    """N simulated operators in LOAD_PROCESSES client processes; adds the load rows.

    The notes say how busy the server and the load generator were (CPU seconds over
    the run), to tell a tail caused by the server's event loop from one caused by
    the machine or the generator.
    """
    from bench.run import add

    ctx = multiprocessing.get_context("spawn")
    queue: Any = ctx.Queue()
    share = [
        operators // LOAD_PROCESSES + (i < operators % LOAD_PROCESSES)
        for i in range(LOAD_PROCESSES)
    ]
    procs = [
        ctx.Process(target=_operator_process, args=(url, token, n, seconds, customers, i, queue))
        for i, n in enumerate(share)
        if n
    ]
    server_before = _cpu_seconds(server_pid) if server_pid else None
    started = time.monotonic()
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors: list[str] = []
    client_cpu = 0.0
    try:
        for _ in procs:
            got, failed, cpu = queue.get(timeout=seconds + 120)
            latencies += got
            errors += failed
            client_cpu += cpu
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    elapsed = time.monotonic() - started
    note = (
        f"{operators} operators in {len(procs)} processes, {seconds:g} s, "
        f"{len(latencies) + len(errors):,} requests ({len(latencies) / seconds:.0f}/s)"
    )
    server_after = _cpu_seconds(server_pid) if server_pid else None
    if server_before is not None and server_after is not None:
        note += (
            f"; CPU: server {100 * (server_after - server_before) / elapsed:.0f}% of a core, "
            f"load generator {100 * client_cpu / elapsed:.0f}%"
        )
    add(
        "http: load, errors",
        len(errors),
        "errors",
        "0",
        not errors,
        note=f"{errors[0][:100]} ({note})" if errors else note,
    )
    p99 = pct(latencies, 0.99) if latencies else 0.0
    add(
        "http: load, p99 latency",
        p99,
        "ms",
        "p99 <= 100 ms",
        bool(latencies) and p99 <= 100,
        note=note,
    )
    add(
        "http: load, p50 latency",
        statistics.median(latencies) if latencies else 0.0,
        "ms",
        note="a queue page, or a profile + 50 events",
    )


def store_customers(db: Path) -> tuple[int, list[int]]:
    """The store's largest customer id and up to 200 customers with >= 200 events."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        top = int(conn.execute("SELECT max(id) FROM customers").fetchone()[0])
        heavy = [
            r[0]
            for r in conn.execute(
                "SELECT customer_id FROM events GROUP BY customer_id HAVING count(*) >= 200 LIMIT 200"
            )
        ]
    return top, heavy


def run(db: Path, runs: int, results: list[Any]) -> None:
    """Add the HTTP figures to `results` (bench.run's Result list)."""
    from bench.console_bench import collect

    try:
        _run(db, runs)
    finally:
        collect(results)


def _run(db: Path, runs: int) -> None:
    from backends.http.client import HTTPBackend
    from bench.run import add, record, timed

    customers, heavy = store_customers(db)
    full = customers >= FULL_SIZE
    operators = int(os.environ.get("VISTA_BENCH_OPERATORS", "200" if full else "50"))
    seconds = float(os.environ.get("VISTA_BENCH_LOAD_SECONDS", "60" if full else "15"))
    name = f"bench-{os.getpid()}-{time.time_ns()}"
    token = vista_cli(  # as the demo's admin: only an admin manages tokens
        db,
        "--agent",
        "admin",
        "tokens",
        "create",
        "--name",
        name,
        "--role",
        "operator",
        "--agent",
        "demo",
    ).stdout.strip()
    port = free_port()
    server = None
    try:
        server = start_server(db, port)
        url = f"http://127.0.0.1:{port}"
        backend = HTTPBackend(url, token=token, retries=0)
        rng = random.Random(3)
        ids = heavy or [rng.randint(1, customers) for _ in range(200)]
        # warm the connection, and read each customer once: the timed loops measure a
        # server whose data is in the OS page cache (the machine's memory reclaim may have
        # evicted a 10 GB file since the last run; a cold read is the backend section's row)
        for cid in ids:
            backend.customer_view(cid, limit=200)

        def view(i: int) -> None:
            backend.customer_view(ids[i % len(ids)], limit=200)

        def two_calls(i: int) -> None:
            cid = ids[i % len(ids)]
            backend.get_customer(cid)
            backend.timeline(cid, limit=200)

        n = max(runs * 5, 200)
        # the machine's own round trip (the smallest authenticated answer): loopback latency
        # on this VM drifts up to 2x between runs, and moves every row below with it
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}) as raw:
            raw.get("/api/v1/me")
            floor = record(
                "http: baseline round trip (GET /api/v1/me)",
                timed(lambda i: raw.get("/api/v1/me"), n),
                note="no target: the floor under every request, same run",
            )
        # what the console does to open a customer: one request (profile, key facts, 200 events)
        samples = timed(view, n)
        opened = record(
            "http: customer view (profile + 200 events)",
            samples,
            limit_p50=3,
            note=f"customer_view, one request, one client on loopback; busiest "
            f"customers ({len(heavy)} with >= 200 events), each read once before",
        )
        assert opened.p50 is not None and floor.p50 is not None
        add(
            "http: customer view / baseline round trip",
            opened.p50 / floor.p50,
            "x",
            note="p50 over p50, same run: the view's cost with this VM's drift divided out",
        )
        p99 = pct(samples, 0.99)
        add("http: customer view p99", p99, "ms", "p99 <= 15 ms", p99 <= 15, note=f"{n} runs")
        two = timed(two_calls, n)
        record(
            "http: profile + 200 events as two requests",
            two,
            note=f"get_customer then timeline (no target); p99 {pct(two, 0.99):.1f} ms",
        )
        record(
            "http: queue page (50 rows)", timed(lambda i: backend.queue(limit=50), n), limit_p50=2
        )
        words = ["ro", "ros", "rossi", "giu", "giulia ro", "bian", "mar", "347", "gmail", "fr"]
        record(
            "http: search (type-ahead prefixes)",
            timed(lambda i: backend.search_customers(words[i % len(words)], 20), runs * 3),
            limit_p95=50,
        )
        cursor = backend.changes(-1).cursor
        record(
            "http: change feed poll + queue page",
            timed(lambda i: (backend.changes(cursor), backend.queue(limit=50)), runs * 3),
            limit_p95=50,
            note="what a console does every second",
        )
        backend.close()
        print(f"  load: {operators} operators for {seconds:g} s…", file=sys.stderr, flush=True)
        _load(url, token, customers, operators, seconds, server.pid)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        vista_cli(db, "--agent", "admin", "tokens", "revoke", name)
