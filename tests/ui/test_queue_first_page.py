"""The queue's first page is asked for when the console starts (`vista` does it right
after opening the backend): the first paint shows its rows, it is never asked twice,
a slow or failing answer is handled like any queue load, and the total follows."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backends.base import Unavailable
from backends.models import QueueQuery
from backends.sqlite.backend import SQLiteBackend
from console.app import VistaApp
from console.widgets.queue.first_page import FirstPage
from console.widgets.queue.pane import QueuePane
from console.widgets.queue.rows import QueueList
from console.widgets.queue.window import PAGE
from tests.conftest import NOW
from tests.ui.conftest import queue_failure_shown_then_retried, settle

pytestmark = pytest.mark.anyio


class Counting(SQLiteBackend):
    """The embedded store, counting the queue pages asked of it; `fail` makes the next
    one fail, `gate` holds them until it is set."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, agent="demo", clock=lambda: NOW)
        self.pages = 0
        self.fail: Exception | None = None
        self.gate = threading.Event()
        self.gate.set()

    def queue(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.pages += 1
        self.gate.wait(10)
        error, self.fail = self.fail, None
        if error is not None:
            raise error
        return super().queue(*args, **kwargs)


def console(backend: SQLiteBackend, settings_path: Path, first: FirstPage | None) -> VistaApp:
    return VistaApp(
        backend,
        clock=lambda: NOW,
        settings_path=settings_path,
        poll_interval=3600.0,
        first_page=first,
    )


@pytest.fixture
def first_paints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each paint of the queue list showed: "rows", or the "Loading…" line."""
    seen: list[str] = []
    paint = QueueList.render_lines

    def render_lines(self: QueueList, crop):  # type: ignore[no-untyped-def]
        seen.append("rows" if self.window.rows else "loading")
        return paint(self, crop)

    monkeypatch.setattr(QueueList, "render_lines", render_lines)
    return seen


async def test_first_page_is_in_the_first_paint_and_never_asked_again(
    demo_db: Path, settings_path: Path, first_paints: list[str]
) -> None:
    backend = Counting(demo_db)
    first = FirstPage(backend, QueueQuery(), PAGE)
    page = first.result()
    app = console(backend, settings_path, first)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        queue = app.screen.query_one(QueuePane)
        assert first_paints[0] == "rows"  # no "Loading…" frame before the rows
        assert [c.id for c in queue.window.rows] == [c.id for c in page.contacts]
        assert backend.pages == 1
        total = backend.queue_count(QueueQuery())
        assert str(queue.query_one("#queue-status").render()).endswith(f"1/{total:,}")
        assert app.screen.contact == page.contacts[0]  # the first contact is opened
    backend.close()


async def test_a_slow_first_page_is_waited_for_not_asked_again(
    demo_db: Path, settings_path: Path, first_paints: list[str]
) -> None:
    backend = Counting(demo_db)
    backend.gate.clear()  # the backend answers only once the console is up
    first = FirstPage(backend, QueueQuery(), PAGE)
    app = console(backend, settings_path, first)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.1)
        queue = app.screen.query_one(QueuePane)
        assert first_paints[0] == "loading" and not queue.window.rows
        backend.gate.set()
        await settle(pilot)
        assert queue.window.rows and backend.pages == 1
        assert app.screen.contact == queue.window.rows[0]
    backend.close()


async def test_a_failed_first_page_is_shown_and_retried(demo_db: Path, settings_path: Path) -> None:
    backend = Counting(demo_db)
    backend.fail = Unavailable("cannot open /data/vista.db")
    first = FirstPage(backend, QueueQuery(), PAGE)
    app = console(backend, settings_path, first)
    async with app.run_test(size=(100, 30)) as pilot:
        await queue_failure_shown_then_retried(pilot, "cannot open")
    backend.close()


async def test_a_first_page_of_another_backend_is_not_used(
    demo_db: Path, settings_path: Path
) -> None:
    other, backend = Counting(demo_db), Counting(demo_db)
    first = FirstPage(other, QueueQuery(), PAGE)
    first.result()
    app = console(backend, settings_path, first)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(QueuePane).window.rows
        assert backend.pages == 1  # the app's own backend was asked
    other.close()
    backend.close()


async def test_a_claim_made_right_after_the_first_page_was_read_still_shows(
    demo_db: Path, settings_path: Path
) -> None:
    backend = Counting(demo_db)
    first = FirstPage(backend, QueueQuery(), PAGE)
    target = next(c for c in first.result().contacts if c.assignee != "giulia")
    giulia = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
    giulia.assign(target.id, "giulia")  # between the page and the console's first poll
    giulia.close()
    app = VistaApp(
        backend,
        clock=lambda: NOW,
        settings_path=settings_path,
        poll_interval=0.05,
        first_page=first,
    )
    async with app.run_test(size=(160, 48)) as pilot:
        queue = app.screen.query_one(QueuePane)
        for _ in range(40):
            await pilot.pause(0.05)
            await settle(pilot, rounds=1)
            shown = queue.window.index_of(target.id)
            if shown is not None and queue.window.row(shown).assignee == "giulia":
                break
        shown = queue.window.index_of(target.id)
        assert shown is not None and queue.window.row(shown).assignee == "giulia"
    backend.close()
