"""The console section of `make bench`: start-up against a minimal Textual app, search and
open-customer latency as painted, and the console's memory.

- Start-up: whole processes (`python -m bench.startup_vista` / `bench.startup_minimal`,
  headless at 160x48, compiled bytecode), alternated A-B-B-A so drift cancels; the figure
  is the ratio of the medians (target <= 1.3x).
- Search and open: in process, driven by Textual's Pilot (`run_test(size=(160, 48))`)
  on the benchmark database; each sample runs from the keystroke (or the open call) to
  the screen refresh after the results (or profile and first timeline page) arrived.
- Memory: peak RSS of a console process at ready and after opening 1,000 customers.
"""

from __future__ import annotations

import asyncio
import compileall
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120.0
SEARCH_WORDS = ("rossi", "giulia", "bianchi", "347", "esposito", "ferrari", "gmail", "conti")


def _compile() -> None:
    """Write .pyc for our own packages (the environment may forbid writing them on import)."""
    for name in ("console", "backends", "themes", "bench"):
        compileall.compile_dir(str(ROOT / name), quiet=1)


def _env(config: Path) -> dict[str, str]:
    """The subprocess environment: own config/data dirs, so user settings do not leak in."""
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=str(config / "config"),
        XDG_DATA_HOME=str(config / "data"),
        XDG_STATE_HOME=str(config / "state"),
        PYTHONPATH=str(ROOT),
    )
    for var in ("VISTA_BACKEND", "VISTA_TOKEN", "VISTA_AGENT"):
        env.pop(var, None)
    return env


def _start(module: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one start-up script; its report plus `ms` (spawn to painted) and `exit_ms`."""
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    ended = time.monotonic()
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{module} failed ({out.returncode}): {out.stderr[-800:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    if "painted" not in report:
        raise RuntimeError(f"{module} never painted: {out.stderr[-800:]}")
    report["ms"] = (report["painted"] - started) * 1000
    report["exit_ms"] = (ended - started) * 1000
    return report


def bench_startup(db: Path, runs: int, env: dict[str, str]) -> list[dict[str, Any]]:
    """Console vs minimal app start-up, alternated; returns the console's reports."""
    from bench.run import add, pct, record

    pairs = max(10, runs // (4 if _quick(db) else 2))
    vista: list[dict[str, Any]] = []
    minimal: list[dict[str, Any]] = []
    # one untimed start of each: imports and the database's first pages come from disk once
    _start("bench.startup_minimal", [], env)
    _start("bench.startup_vista", [str(db)], env)
    for i in range(pairs):
        order = ("m", "v") if i % 2 == 0 else ("v", "m")
        for which in order:
            if which == "m":
                minimal.append(_start("bench.startup_minimal", [], env))
            else:
                vista.append(_start("bench.startup_vista", [str(db)], env))
    v = [r["ms"] for r in vista]
    m = [r["ms"] for r in minimal]
    ratio = statistics.median(v) / statistics.median(m)
    ratio95 = pct(v, 0.95) / pct(m, 0.95)
    add(
        "console: start to queue painted, ratio to minimal app",
        ratio,
        "x",
        "<= 1.3x",
        ratio <= 1.3,
        note=f"medians {statistics.median(v):.0f} / {statistics.median(m):.0f} ms;"
        f" p95 ratio {ratio95:.2f}x; {pairs} alternated pairs, headless 160x48, .pyc",
    )
    record("console: start to queue painted", v, note="whole process, python -m, CLI entry")
    record("baseline: minimal Textual app start to painted", m, note="same run, same way")
    return vista


class _Marks:
    """Wall-clock marks set by the app when something has been painted."""

    def __init__(self) -> None:
        self.queue_painted = asyncio.Event()
        self.loaded: dict[int, float] = {}


def _pilot_app(backend: Any, settings: Path, marks: _Marks) -> Any:
    """VistaApp plus two listeners for public messages that bubble up to the app."""
    from console.app import VistaApp
    from console.widgets.customer.pane import CustomerView
    from console.widgets.queue.pane import QueuePane

    class PilotVista(VistaApp):
        def on_queue_pane_highlighted(self, message: QueuePane.Highlighted) -> None:
            if not marks.queue_painted.is_set():
                self.screen.call_after_refresh(marks.queue_painted.set)

        def on_customer_view_loaded(self, message: CustomerView.Loaded) -> None:
            cid = message.customer.id

            self.screen.call_after_refresh(
                lambda: marks.loaded.__setitem__(cid, time.perf_counter())
            )

    return PilotVista(backend, settings_path=settings)


async def _until(check: Any, timeout: float = 10.0) -> None:
    """Poll `check()` every half millisecond (the app runs in the same event loop)."""
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the console did not paint in time")
        await asyncio.sleep(0.0005)


async def _pilot(db: Path, runs: int, config: Path) -> dict[str, list[float]]:
    """Search keystrokes and customer opens, painted, in one Pilot session."""
    from textual import events
    from textual.widgets import Input

    from backends import open_backend
    from bench.startup_vista import existing_customers
    from console.screens.search import SearchScreen

    backend = open_backend(f"sqlite:///{db}", agent="demo")
    marks = _Marks()
    app = _pilot_app(backend, config / "pilot-settings.json", marks)
    out: dict[str, list[float]] = {"search": [], "open": [], "open_heavy": []}
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(marks.queue_painted.wait(), TIMEOUT)
        # the workspace opens the first contact's customer by itself: let that finish first
        await _until(lambda: bool(marks.loaded), TIMEOUT)
        workspace = app.screen

        async def open_one(cid: int) -> float:
            marks.loaded.pop(cid, None)
            started = time.perf_counter()
            workspace.open_customer(cid)
            await _until(lambda: cid in marks.loaded)
            return (marks.loaded[cid] - started) * 1000

        heavy = _heavy_customers(db)
        share = 2 if _quick(db) else 1
        picks = existing_customers(str(db), max(runs // share, 20), seed=7)
        for cid in picks:
            out["open"].append(await open_one(cid))
        for cid in heavy[: max(runs // (2 * share), 10)]:
            out["open_heavy"].append(await open_one(cid))

        await pilot.press("slash")
        await _until(lambda: isinstance(app.screen, SearchScreen))
        search = app.screen
        field = search.query_one("#search-input", Input)
        words = [
            SEARCH_WORDS[i % len(SEARCH_WORDS)]
            for i in range(max(4, runs // (8 if _quick(db) else 5)))
        ]
        for word in words:
            field.value = ""
            await pilot.pause(0.05)
            for i, ch in enumerate(word):
                typed = word[: i + 1]
                search.hits = None  # reset: _show sets it when this keystroke's results are in
                done = asyncio.Event()
                key = events.Key(ch, ch)  # what the terminal driver posts for a keystroke
                started = time.perf_counter()
                app.post_message(key)  # not pilot.press: it idles >= 40 ms after each key
                await _until(lambda t=typed: search.hits is not None and field.value == t)
                search.call_after_refresh(done.set)
                await asyncio.wait_for(done.wait(), 10)
                out["search"].append((time.perf_counter() - started) * 1000)
        await pilot.press("escape")
    backend.close()
    return out


def _quick(db: Path) -> bool:
    """`make bench-quick` (100,000 customers): fewer runs, to stay within five minutes."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT max(id) FROM customers").fetchone()[0] or 0) < 1_000_000


def _heavy_customers(db: Path) -> list[int]:
    """Customers with at least 200 timeline events (the demo's busiest), up to 100."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT customer_id FROM events GROUP BY customer_id HAVING count(*) >= 200 LIMIT 100"
            )
        ]


def collect(results: list[Any]) -> None:
    """Move rows that bench.run's helpers appended into `results`.

    `python bench/run.py` runs as __main__, so `bench.run` imported here is a second
    module with its own list; the caller's list is the one that gets printed.
    """
    import bench.run as helpers

    if helpers.RESULTS_LIST is not results:
        results.extend(helpers.RESULTS_LIST)
        helpers.RESULTS_LIST.clear()


def run(db: Path, runs: int, results: list[Any]) -> None:
    """Add the console figures to `results` (bench.run's Result list)."""
    try:
        _run(db, runs)
    finally:
        collect(results)


def _run(db: Path, runs: int) -> None:
    from bench.run import add, record

    _compile()
    with tempfile.TemporaryDirectory(prefix="vista-bench-") as tmp:
        config = Path(tmp)
        env = _env(config)
        print("  start-up (alternating console / minimal app)…", file=sys.stderr, flush=True)
        started = bench_startup(db, runs, env)
        print("  search and open, painted (Pilot)…", file=sys.stderr, flush=True)
        got = asyncio.run(_pilot(db, runs, config))
        record(
            "console: search keystroke to results painted",
            got["search"],
            limit_p95=50,
            note=f"{len(got['search'])} keystrokes (names, a phone prefix), Pilot",
        )
        record(
            "console: open customer, profile + first timeline page painted",
            got["open"],
            limit_p95=100,
            note="random customers, Pilot 160x48",
        )
        if got["open_heavy"]:
            record(
                "console: open busiest customers (>= 200 events), painted",
                got["open_heavy"],
                limit_p95=100,
            )
        print("  memory: ready, then 1,000 customers opened…", file=sys.stderr, flush=True)
        mem = _start("bench.startup_vista", [str(db), "--open", "1000"], env)
    ready = statistics.median(r["rss_kb"] for r in started) / 1024
    add(
        "memory: console peak RSS at ready",
        ready,
        "MB",
        "<= 80 MB",
        ready <= 80,
        note=f"median of {len(started)} starts (max {max(r['rss_kb'] for r in started) / 1024:.0f})",
    )
    after = mem["rss_open_kb"] / 1024
    secs = mem["open_done"] - mem["painted"]
    failed = f", {mem['failed']} never loaded" if mem.get("failed") else ""
    add(
        "memory: console after opening 1,000 customers",
        after,
        "MB",
        "<= ready + 30 MB",
        after <= ready + 30,
        note=f"peak RSS; {mem['opened']} opens painted in {secs:.1f} s{failed}",
    )
