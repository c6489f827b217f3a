"""UI fixtures: the console over a private copy of the demo database, frozen clock,
settings in a temp dir (never the user's real config)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled, WorkerFailed

from backends.sqlite.backend import SQLiteBackend
from console.app import VistaApp
from tests.conftest import NOW


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.json"


@pytest.fixture
def make_app(demo_db: Path, settings_path: Path) -> Callable[..., VistaApp]:
    """Build a VistaApp over the test database; `read_only=True` opens it read-only."""
    opened: list[SQLiteBackend] = []

    def make(read_only: bool = False, poll_interval: float = 3600.0, **kwargs: object) -> VistaApp:
        backend = SQLiteBackend(demo_db, agent="demo", read_only=read_only, clock=lambda: NOW)
        opened.append(backend)
        return VistaApp(
            backend,
            clock=lambda: NOW,
            settings_path=settings_path,
            poll_interval=poll_interval,
            **kwargs,
        )  # type: ignore[arg-type]

    yield make  # type: ignore[misc]
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(demo_db: Path) -> SQLiteBackend:
    """A second connection to the same database, to check what was stored."""
    b = SQLiteBackend(demo_db, agent="demo", clock=lambda: NOW)
    yield b  # type: ignore[misc]
    b.close()


def own_first_contact(path: Path, agent: str = "demo") -> int:
    """Give the contact the console opens first to `agent` (the composer is read-only on a
    contact another operator holds); returns its id."""
    reader = SQLiteBackend(path, agent=agent, clock=lambda: NOW)
    try:
        first = reader.queue(limit=1).contacts[0].id
    finally:
        reader.close()
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE contacts SET assignee = ? WHERE id = ?", (agent, first))
    db.close()
    return first


async def settle(pilot: object, rounds: int = 3) -> None:
    """Wait until the workers are done and the messages they posted are handled."""
    app = pilot.app  # type: ignore[attr-defined]
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):
            pass  # superseded by a newer exclusive worker (or shown as an error): fine
        await pilot.pause()  # type: ignore[attr-defined]


async def queue_failure_shown_then_retried(pilot: object, reason: str) -> None:
    """The queue pane says its load failed (with `reason`), keeps no rows, and the
    once-a-second tick loads it again once the backend answers."""
    from console.widgets.queue.pane import QueuePane

    app = pilot.app  # type: ignore[attr-defined]
    await settle(pilot)
    queue = app.screen.query_one(QueuePane)
    status = str(queue.query_one("#queue-status").render())
    assert "Unavailable" in status and reason in status
    assert queue.failed and not queue.window.rows
    app.screen._poll()  # the once-a-second tick retries
    await settle(pilot)
    assert queue.window.rows and not queue.failed


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
