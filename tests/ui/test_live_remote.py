"""The console on a real `vista serve` (loopback): another client's write reaches the queue
through the server's held change-feed reads at once, a dead server shows as offline without
a storm of retries, and the console reconnects and quits promptly."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from backends.http.client import HTTPBackend
from backends.models import ChangeBatch
from console.app import VistaApp
from console.screens.workspace import LIVE_WAIT, WorkspaceScreen
from console.widgets.queue.pane import QueuePane
from tests.backends.live_server import LiveServer
from tests.conftest import NOW

pytestmark = pytest.mark.anyio


class CountingBackend(HTTPBackend):
    """The HTTP backend, counting its held reads of the change feed."""

    held_reads = 0

    def wait_changes(self, since: int, limit: int = 500, *, timeout: float = 1.0) -> ChangeBatch:
        self.held_reads += 1
        return super().wait_changes(since, limit, timeout=timeout)


@pytest.fixture
def server(demo_db: Path) -> Iterator[LiveServer]:
    live = LiveServer(demo_db)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def console(server: LiveServer, settings_path: Path) -> Iterator[tuple[CountingBackend, VistaApp]]:
    """The console over the server as `demo`; its periodic tick never comes (an hour)."""
    backend = CountingBackend(server.url, token=server.token("demo"), retries=0)
    app = VistaApp(backend, clock=lambda: NOW, settings_path=settings_path, poll_interval=3600.0)
    yield backend, app
    backend.close()


async def until(pilot: Pilot[None], done: Callable[[], bool], seconds: float) -> float:
    """Seconds until `done()` holds (the held read never completes, so no `settle`)."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        await pilot.pause(0.01)
    return time.monotonic() - start


def header(app: VistaApp) -> str:
    return str(app.screen.query_one("#app-header").render())


async def test_another_clients_claim_reaches_the_queue_at_once(
    server: LiveServer, console: tuple[CountingBackend, VistaApp]
) -> None:
    _, app = console
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen) and screen.live
        queue = screen.query_one(QueuePane)
        await until(pilot, lambda: screen.since is not None and queue.window.count > 0, 10)
        await pilot.press("2")  # unassigned
        await pilot.pause(LIVE_WAIT * 1.5)  # the view reloaded; a held read waits on the server
        await until(pilot, lambda: len(queue.window.rows) > 1, 10)
        target, count = queue.window.rows[1], queue.window.count
        giulia = server.backend_for("giulia")
        started = time.monotonic()
        giulia.claim(target.id)
        giulia.close()
        await until(pilot, lambda: queue.window.count == count - 1, 5)
        seen = time.monotonic() - started
        assert target.id not in {c.id for c in queue.window.rows}
        assert seen < 0.5, f"the claim reached the queue after {seen:.3f} s"
        quitting = time.monotonic()
    assert time.monotonic() - quitting < LIVE_WAIT + 1.0  # the held read ends the exit's wait


async def test_a_dead_server_shows_offline_backs_off_and_reconnects(
    server: LiveServer, console: tuple[CountingBackend, VistaApp], demo_db: Path
) -> None:
    backend, app = console
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        await until(pilot, lambda: screen.since is not None, 10)
        server.stop()
        await until(pilot, lambda: "OFFLINE, retrying" in header(app), 5)
        before = backend.held_reads
        await pilot.pause(3.0)
        # backing off (0.5, 1, 2 s…): a few tries, not one per round trip of a refused connect
        assert backend.held_reads - before <= 4
        assert "OFFLINE, retrying" in header(app)
        again = LiveServer(demo_db, port=server.port)
        again.start()
        try:
            await until(pilot, lambda: "OFFLINE" not in header(app), 8)
        finally:
            quitting = time.monotonic()
    again.stop()
    assert time.monotonic() - quitting < LIVE_WAIT + 1.5
