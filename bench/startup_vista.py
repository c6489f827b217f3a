"""The console's start-up, timed: `vista --backend sqlite:///DB --agent demo` until the queue
is painted, run headless at 160x48 through the real CLI entry point.

    python -m bench.startup_vista DB [--open N]

Prints one JSON line: `painted` (time.monotonic() when the queue's first page was
on screen), `rss_kb` (peak RSS then) and, with --open N, `rss_open_kb` (peak RSS
after opening N random customers in a row, each waited for until its profile and
first timeline page were painted). The only change to the real console is this
subclass: it runs headless and listens to two public messages that bubble up
(QueuePane.Highlighted, CustomerView.Loaded).

The harness imports nothing the console would not import itself before its first
paint (no argparse, no customer view), so it times the console, not itself.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, ClassVar

import console.app as console_app  # the CLI imports it at start anyway
from bench.rss import peak_rss_kb

if TYPE_CHECKING:
    from console.widgets.customer.pane import CustomerView
    from console.widgets.queue.pane import QueuePane


def _rss_kb() -> int:
    return peak_rss_kb()


class BenchVista(console_app.VistaApp):
    """VistaApp, headless, reporting when the queue (then each opened customer) is painted."""

    open_ids: ClassVar[list[int]] = []
    report: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue_painted = False
        self._opened = 0
        self._waiting_for: int | None = None
        self._first_loaded = False
        self._opening = False

    def run(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.update(headless=True, size=(160, 48))
        return super().run(*args, **kwargs)

    def on_queue_pane_highlighted(self, message: QueuePane.Highlighted) -> None:
        if not self._queue_painted:
            self._queue_painted = True
            self.screen.call_after_refresh(self._bench_ready)

    def _bench_ready(self) -> None:
        BenchVista.report.update(painted=time.monotonic(), rss_kb=_rss_kb())
        if not self.open_ids:
            self.exit()
        elif self._first_loaded:
            self._bench_start_opening()

    def _bench_start_opening(self) -> None:
        """The workspace opens the first contact's customer by itself; ours start when that
        one has loaded and the queue is painted, so it cannot supersede the first of ours."""
        if not self._opening:
            self._opening = True
            self.screen.call_after_refresh(self._bench_open_next)

    def _bench_open_next(self) -> None:
        if self._opened >= len(self.open_ids):
            BenchVista.report.update(
                rss_open_kb=_rss_kb(), opened=self._opened, open_done=time.monotonic()
            )
            self.exit()
            return
        self._waiting_for = self.open_ids[self._opened]
        self._opened += 1
        waiting, opened = self._waiting_for, self._opened
        self.set_timer(10, lambda: self._bench_give_up(waiting, opened))
        self.show_customer(self._waiting_for)

    def _bench_give_up(self, customer_id: int, opened: int) -> None:
        """A customer that never loads (an error is shown) is skipped, and counted."""
        if self._waiting_for == customer_id and self._opened == opened:
            BenchVista.report["failed"] = BenchVista.report.get("failed", 0) + 1
            self._waiting_for = None
            self._bench_open_next()

    def on_customer_view_loaded(self, message: CustomerView.Loaded) -> None:
        if not self._first_loaded:
            self._first_loaded = True
            if "painted" in BenchVista.report and self.open_ids:
                self._bench_start_opening()
            return
        if self._waiting_for is not None and message.customer.id == self._waiting_for:
            self._waiting_for = None
            self.screen.call_after_refresh(self._bench_open_next)


def existing_customers(db: str, count: int, seed: int = 3) -> list[int]:
    """`count` random ids of customers that exist (the demo's ids have gaps)."""
    import random
    import sqlite3

    rng = random.Random(seed)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        top = int(conn.execute("SELECT max(id) FROM customers").fetchone()[0] or 0)
        found = [
            conn.execute(
                "SELECT id FROM customers WHERE id >= ? ORDER BY id LIMIT 1", (rng.randint(1, top),)
            ).fetchone()
            for _ in range(count)
        ]
    return [row[0] for row in found if row is not None]


def parse_args(argv: list[str]) -> tuple[str, int]:
    """DB [--open N] (argparse alone costs a few ms of the start being timed)."""
    usage = "usage: python -m bench.startup_vista DB [--open N]"
    if not argv or argv[0].startswith("-"):
        raise SystemExit(usage)
    db, rest = argv[0], argv[1:]
    if not rest:
        return db, 0
    if len(rest) == 2 and rest[0] == "--open" and rest[1].isdigit():
        return db, int(rest[1])
    raise SystemExit(usage)


def main() -> None:
    db, open_count = parse_args(sys.argv[1:])
    if open_count:
        BenchVista.open_ids = existing_customers(db, open_count)
    console_app.VistaApp = BenchVista  # type: ignore[misc]
    sys.argv = ["vista", "--backend", f"sqlite:///{db}", "--agent", "demo"]
    from console.entry import main as vista_main  # the `vista` console script

    try:
        vista_main()
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
    import json

    print(json.dumps(BenchVista.report), flush=True)


if __name__ == "__main__":
    main()
