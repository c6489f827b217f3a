"""Simulated operators against two `vista serve` processes on one store, one killed mid-run.

200 operators (threads in four client processes) work for 60 s, each at a person's pace
(0.5-1.5 s between actions): queue pages, customer views, searches, customer notes, and
work on a contact (claim it from the unassigned queue, add a note, release it). Half of
them name the first server first (`--backend http://a,http://b`), half the second. In the
second run the first server is SIGKILLed halfway: its operators' clients move to the other
server by themselves (backends/http/client.py); the figures say how long they went
unserved, and every write that was acknowledged (2xx) is looked up in the store afterwards.

Run alone (`make bench-pg-load`) or as part of `make bench` (bench/pg_bench.py):

    .venv/bin/python bench/pg_load_bench.py --customers 100000 [--operators 200 --seconds 60]

`--postgres URL` runs on a database that holds the store already (no migrate), `--steady`
skips the run with a kill, `--activity` samples what PostgreSQL's sessions were doing.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOAD_PROCESSES = 4
WORDS = ("ro", "ros", "rossi", "giu", "bian", "mar", "347", "gmail", "fr", "esposito")


@dataclass
class Operated:
    """What one client process saw: latencies by action, failures, acknowledged writes."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # 4xx answers: a rule said no
    acked: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, id, detail)
    #: operators whose first server was killed: (first answer after the kill - kill time,
    #: that request's latency) in seconds; None when it was never served again
    failovers: list[tuple[float, float] | None] = field(default_factory=list)


def _operators(
    servers: tuple[str, str],
    tokens: list[str],
    first: int,
    count: int,
    start_at: float,
    seconds: float,
    customers: int,
    kill_at: float | None,
    out: Any,
) -> None:
    """`count` operators on threads (numbers first..first+count); puts an Operated on `out`."""
    import threading

    from backends.base import Unavailable, VistaError
    from backends.http.client import HTTPBackend
    from backends.models import QueueQuery

    seen = Operated()
    lock = threading.Lock()
    end = start_at + seconds
    unassigned = QueueQuery(unassigned=True)

    def operator(n: int) -> None:
        rng = random.Random(n)
        order = servers if n % 2 == 0 else (servers[1], servers[0])
        backend = HTTPBackend(",".join(order), token=tokens[n % len(tokens)], retries=0)
        waiting: list[int] = []
        holding: int | None = None
        noted = False
        served_after_kill: tuple[float, float] | None = None
        tried_after_kill = False
        time.sleep(max(0.0, start_at - time.monotonic()) + rng.uniform(0, 1.0))
        while time.monotonic() < end:
            roll = rng.random()
            action = (
                "queue"
                if roll < 0.40
                else "view"
                if roll < 0.65
                else "search"
                if roll < 0.75
                else "work"
                if roll < 0.95
                else "customer note"
            )
            started = time.perf_counter()
            if kill_at is not None and time.monotonic() > kill_at:
                tried_after_kill = True
            acked: tuple[str, int, int] | None = None
            try:
                if action == "queue":
                    waiting = [c.id for c in backend.queue(unassigned, limit=50).contacts]
                elif action == "view":
                    backend.customer_view(rng.randint(1, customers), limit=50)
                elif action == "search":
                    backend.search_customers(rng.choice(WORDS), 20)
                elif action == "customer note":
                    event = backend.add_customer_note(rng.randint(1, customers), f"op {n} note")
                    acked = ("event", event.id, event.customer_id)
                elif holding is None:
                    action = "claim"
                    if not waiting:
                        waiting = [c.id for c in backend.queue(unassigned, limit=50).contacts]
                    target = waiting.pop(rng.randrange(len(waiting)))
                    contact = backend.claim(target)
                    holding, noted = contact.id, False
                    acked = ("claim", contact.id, contact.version)
                elif not noted:
                    action = "note"
                    message = backend.add_note(holding, f"op {n}: looking into it")
                    noted = True
                    acked = ("message", message.id, holding)
                else:
                    action = "release"
                    contact = backend.release(holding)
                    holding = None
                    acked = ("release", contact.id, contact.version)
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    seen.latencies.setdefault(action, []).append(ms)
                    if acked is not None:
                        seen.acked.append(acked)
                now = time.monotonic()
                if kill_at is not None and served_after_kill is None and now > kill_at:
                    served_after_kill = (now - kill_at, ms / 1000)
            except Unavailable as e:  # no server answered, or one failed (5xx)
                with lock:
                    seen.errors.append(f"{action}: {type(e).__name__}: {e}")
            except VistaError as e:  # 4xx: a race lost to another operator, a rule said no
                if action in ("claim", "note", "release"):
                    holding = None
                why = f"{action}: {type(e).__name__}"
                with lock:
                    seen.refused[why] = seen.refused.get(why, 0) + 1
            except Exception as e:  # noqa: BLE001 - every other failure is an error
                with lock:
                    seen.errors.append(f"{action}: {type(e).__name__}: {e}")
            time.sleep(rng.uniform(0.5, 1.5))
        asked = tried_after_kill or served_after_kill is not None
        if kill_at is not None and n % 2 == 0 and asked:  # it wanted serving after the kill
            with lock:
                seen.failovers.append(served_after_kill)
        backend.close()

    threads = [threading.Thread(target=operator, args=(first + i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(seen)


def run_load(
    servers: tuple[str, str],
    tokens: list[str],
    customers: int,
    operators: int,
    seconds: float,
    kill: subprocess.Popen[str] | None = None,
) -> tuple[Operated, float | None]:
    """Operators against `servers` for `seconds`; with `kill`, that server (the first) is
    SIGKILLed halfway. Returns what they saw together and when the kill happened."""
    ctx = multiprocessing.get_context("spawn")
    queue: Any = ctx.Queue()
    start_at = time.monotonic() + 3.0  # the client processes start meanwhile
    kill_at = start_at + seconds / 2 if kill is not None else None
    share = [
        operators // LOAD_PROCESSES + (i < operators % LOAD_PROCESSES)
        for i in range(LOAD_PROCESSES)
    ]
    procs = []
    first = 0
    for n in share:
        if n:
            procs.append(
                ctx.Process(
                    target=_operators,
                    args=(servers, tokens, first, n, start_at, seconds, customers, kill_at, queue),
                )
            )
            first += n
    for p in procs:
        p.start()
    killed: float | None = None
    if kill is not None and kill_at is not None:
        time.sleep(max(0.0, kill_at - time.monotonic()))
        kill.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        kill.wait(10)
    total = Operated()
    try:
        for _ in procs:
            try:
                got: Operated = queue.get(
                    timeout=max(0.0, start_at + seconds - time.monotonic()) + 120
                )
            except Empty:  # a client process stuck or gone: say so, keep what the others saw
                total.errors.append("a client process did not report within 2 minutes of the end")
                continue
            for action, values in got.latencies.items():
                total.latencies.setdefault(action, []).extend(values)
            total.errors += got.errors
            for name, n in got.refused.items():
                total.refused[name] = total.refused.get(name, 0) + n
            total.acked += got.acked
            total.failovers += got.failovers
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    return total, killed


class Activity:
    """What PostgreSQL's sessions were doing during a load: `pg_stat_activity` sampled every
    second on a thread (`with Activity(url) as seen:`), counted by statement and wait event."""

    SAMPLE = (
        "SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu'), "
        "left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'"
    )

    def __init__(self, url: str) -> None:
        import threading

        self.url = url
        self.samples = 0
        self.waits: dict[str, int] = {}
        self.queries: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(1.0):
                self.samples += 1
                for wait, query in conn.execute(self.SAMPLE).fetchall():
                    self.waits[wait] = self.waits.get(wait, 0) + 1
                    self.queries[query] = self.queries.get(query, 0) + 1

    def summary(self, top: int = 8) -> dict[str, Any]:
        """Mean active sessions per sample, and the most seen waits and statements."""
        n = max(1, self.samples)

        def ranked(counts: dict[str, int]) -> list[tuple[str, float]]:
            best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
            return [(name, round(count / n, 2)) for name, count in best]

        return {
            "samples": self.samples,
            "active_sessions": round(sum(self.waits.values()) / n, 2),
            "waits": ranked(self.waits),
            "statements": ranked(self.queries),
        }


def lost_writes(backend: Any, acked: list[tuple[str, int, int]]) -> list[str]:
    """The acknowledged writes the store does not hold (looked up through the contract)."""
    from backends.base import NotFound

    lost: list[str] = []
    versions: dict[int, int] = {}
    for kind, ident, detail in acked:
        if kind in ("claim", "release"):
            versions[ident] = max(versions.get(ident, 0), detail)
    by_contact: dict[int, set[int]] = {}
    for kind, ident, detail in acked:
        if kind == "event":
            try:
                backend.get_event(ident)
            except NotFound:
                lost.append(f"customer note {ident}")
        elif kind == "message":
            if detail not in by_contact:
                by_contact[detail] = {m.id for m in backend.get_contact(detail).messages}
            if ident not in by_contact[detail]:
                lost.append(f"note {ident} on contact {detail}")
    for contact_id, version in versions.items():
        now = backend.get_contact(contact_id).contact.version
        if now < version:
            lost.append(f"contact {contact_id} at version {now}, {version} acknowledged")
    return lost


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))] if values else 0.0


def summary(seen: Operated, seconds: float) -> dict[str, Any]:
    """Requests, errors, p50/p95/p99 (ms) over every action, and per action the p50."""
    every = [ms for values in seen.latencies.values() for ms in values]
    served = [f for f in seen.failovers if f is not None]
    return {
        "requests": len(every) + len(seen.errors) + sum(seen.refused.values()),
        "per_second": len(every) / seconds,
        "errors": len(seen.errors),
        "first_error": seen.errors[0] if seen.errors else "",
        "refused": dict(seen.refused),
        "p50": statistics.median(every) if every else 0.0,
        "p95": pct(every, 0.95),
        "p99": pct(every, 0.99),
        "actions": {a: round(statistics.median(v), 2) for a, v in sorted(seen.latencies.items())},
        "writes_acked": len(seen.acked),
        "moved": len(seen.failovers),
        "never_served": len(seen.failovers) - len(served),
        "served_after_kill_max_s": max((f[0] for f in served), default=0.0),
        "served_after_kill_p95_s": pct([f[0] for f in served], 0.95),
        "first_request_after_kill_max_s": max((f[1] for f in served), default=0.0),
    }


def compare(
    store: str,
    backend: Any,
    servers: tuple[subprocess.Popen[str], subprocess.Popen[str]],
    urls: tuple[str, str],
    tokens: list[str],
    customers: int,
    operators: int,
    seconds: float,
    say: Any = print,
    *,
    kill: bool = True,
    activity_url: str = "",
) -> dict[str, Any]:
    """Both runs on one store (`backend`: the store opened in process, for the check):
    steady, then (with `kill`) the first server killed halfway. Returns both summaries.
    `activity_url`: a PostgreSQL store whose sessions are sampled during the steady run."""
    say(f"  {store}: {operators} operators for {seconds:g} s against two servers…")
    with contextlib.ExitStack() as sampling:
        activity = sampling.enter_context(Activity(activity_url)) if activity_url else None
        steady, _ = run_load(urls, tokens, customers, operators, seconds)
    figures = {"steady": summary(steady, seconds)}
    figures["steady"]["lost"] = lost_writes(backend, steady.acked)
    if activity is not None:
        figures["steady"]["activity"] = activity.summary()
    if not kill:
        return figures
    say(f"  {store}: the same, the first server SIGKILLed after {seconds / 2:g} s…")
    killed, _ = run_load(urls, tokens, customers, operators, seconds, kill=servers[0])
    figures["kill"] = summary(killed, seconds)
    figures["kill"]["lost"] = lost_writes(backend, killed.acked)
    return figures


def main() -> None:
    import argparse
    import json
    import os
    import shutil
    import tempfile

    from bench import pg_bench
    from bench.run import ensure_database

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--operators", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--stores", default="postgres,sqlite")
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL store already holding the benchmark store (else one is migrated)",
    )
    parser.add_argument("--steady", action="store_true", help="skip the run with a kill")
    parser.add_argument(
        "--activity", action="store_true", help="sample pg_stat_activity during the steady run"
    )
    args = parser.parse_args()
    db = ensure_database(args.customers)
    out: dict[str, Any] = {"load_average": os.getloadavg()}
    stores = args.stores.split(",")
    if "postgres" in stores:
        with contextlib.ExitStack() as done:
            url = args.postgres or done.enter_context(pg_bench.Bench(db)).url
            out["postgres"] = pg_bench.load_on(
                db,
                url,
                args.operators,
                args.seconds,
                kill=not args.steady,
                activity=args.activity,
            )
    if "sqlite" in stores:
        with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
            copy = Path(tmp) / "load.db"
            shutil.copy(db, copy)
            out["sqlite"] = pg_bench.load_on(
                copy, f"sqlite:///{copy}", args.operators, args.seconds, kill=not args.steady
            )
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
