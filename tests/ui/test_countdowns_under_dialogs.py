"""SLA countdowns tick every second on the workspace, but not under a dialog: repainting the
dimmed background there costs 25-40 ms a second, landing on the operator's keystrokes.
They catch up as soon as the dialog closes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from backends.sqlite.backend import SQLiteBackend
from console.app import VistaApp
from console.screens.search import SearchScreen
from console.widgets.queue.rows import QueueList
from tests.conftest import NOW
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


async def test_countdowns_pause_under_the_search_dialog_and_catch_up(
    demo_db: Path, settings_path: Path
) -> None:
    now = [NOW]
    backend = SQLiteBackend(demo_db, agent="demo", clock=lambda: now[0])
    app = VistaApp(backend, clock=lambda: now[0], settings_path=settings_path, poll_interval=3600)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            queue = app.screen.query_one(QueueList)
            painted: list[object] = []
            original = queue.refresh

            def spy(*args: object, **kwargs: object) -> object:
                painted.append(args)
                return original(*args, **kwargs)

            queue.refresh = spy  # type: ignore[method-assign]
            now[0] = NOW + timedelta(minutes=7)  # every countdown on screen changes
            queue._tick()
            assert painted, "the workspace on top: the countdowns repaint"
            await pilot.press("slash")
            await pilot.pause()
            assert isinstance(app.screen, SearchScreen)
            painted.clear()
            now[0] = NOW + timedelta(minutes=14)
            queue._tick()
            assert painted == [], "under the dialog: nothing repainted"
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, SearchScreen)
            assert painted, "back on top: caught up at once"
    finally:
        backend.close()
