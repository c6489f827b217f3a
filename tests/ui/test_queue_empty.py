"""An empty queue says which view is empty; on a store with no data it also says how
to load some (a first-time user's first screen)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.sqlite.backend import SQLiteBackend
from console.app import VistaApp
from console.widgets.queue.rows import QueueList
from tests.conftest import NOW
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


def _shown(app: VistaApp) -> str:
    return str(app.query_one(QueueList).render())


async def test_a_new_store_shows_how_to_load_customers(tmp_path: Path, settings_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "new.db", agent="demo", clock=lambda: NOW, create=True)
    app = VistaApp(backend, clock=lambda: NOW, settings_path=settings_path, poll_interval=3600)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            text = _shown(app)
            assert "No contacts waiting" in text
            assert "vista import FILE --source NAME" in text and "vista demo" in text
    finally:
        backend.close()


async def test_a_filter_that_matches_nothing_names_the_view(
    make_app: Callable[..., VistaApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert "No contacts" not in _shown(app)
        await pilot.press("f", *"zzqx")
        await pilot.pause(0.4)  # the filter waits for typing to stop
        await settle(pilot)
        text = _shown(app)
        assert text == "No contacts in All · all channels matching 'zzqx'."
        assert "vista import" not in text
