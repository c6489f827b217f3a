"""Snapshot tests: fixed terminal size, frozen clock, no cursor blink.

Update with `pytest tests/ui/test_snapshots.py --snapshot-update` only after
looking at the report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.timeline import TimelineList
from tests.ui.conftest import settle


class FixedLocation:
    """The test backend, with a location that does not change from run to run."""

    location = "sqlite:///demo.db"

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.fixture
def make_app(make_app):
    def make(**kwargs):
        app = make_app(**kwargs)
        app.backend = FixedLocation(app.backend)
        return app

    return make


NARROW = (100, 30)
WIDE = (160, 48)


def steps(*keys: str, then: Callable[[Pilot], Awaitable[None]] | None = None):
    """run_before: wait for the workspace to load, press keys, settle, stop cursor blink."""

    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        pilot.app.clear_notifications()  # toasts would cover the view
        await pilot.pause()
        for widget in pilot.app.screen.query("Input, TextArea"):
            if isinstance(widget, (Input, TextArea)):
                widget.cursor_blink = False

    return run


def test_workspace_wide(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=steps())


def test_workspace_narrow(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=NARROW, run_before=steps())


async def _open_first_order(pilot: Pilot) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, WorkspaceScreen)
    timeline = screen.query_one(TimelineList)
    index = next(i for i, e in enumerate(timeline.events) if e.kind.value == "order")
    timeline.highlighted = index
    await pilot.press("d")
    await settle(pilot)


def test_event_detail_order(snap_compare, make_app) -> None:
    # a customer with orders: the second unassigned contact of the demo data
    assert snap_compare(
        make_app(),
        terminal_size=NARROW,
        run_before=steps("2", "down", "down", "down", then=_open_first_order),
    )


def test_composer_with_filled_template(snap_compare, make_app) -> None:
    keys = ("v", "i", "ctrl+t", *"order_status_en", "enter")
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=steps(*keys))


def test_search_results(snap_compare, make_app) -> None:
    async def typed(pilot: Pilot) -> None:
        await pilot.press(*"rossi")
        await pilot.pause(0.2)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=NARROW, run_before=steps("slash", then=typed))


def test_help_screen(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=NARROW, run_before=steps("question_mark"))


def test_read_only_workspace(snap_compare, make_app) -> None:
    assert snap_compare(make_app(read_only=True), terminal_size=NARROW, run_before=steps())


@pytest.mark.parametrize("presses", [("T",), ("T", "T")], ids=["light", "high-contrast"])
def test_themes(snap_compare, make_app, presses) -> None:
    assert snap_compare(make_app(), terminal_size=NARROW, run_before=steps(*presses))


def test_new_empty_store(snap_compare, tmp_path, settings_path) -> None:
    """A first-time user's first screen: the queue says how a store gets data."""
    from backends.sqlite.backend import SQLiteBackend
    from console.app import VistaApp
    from tests.conftest import NOW

    backend = SQLiteBackend(tmp_path / "new.db", agent="demo", clock=lambda: NOW, create=True)
    app = VistaApp(
        FixedLocation(backend), clock=lambda: NOW, settings_path=settings_path, poll_interval=3600.0
    )
    try:
        assert snap_compare(app, terminal_size=NARROW, run_before=steps())
    finally:
        backend.close()


@pytest.mark.parametrize(
    "size", [(80, 24), (100, 30), (160, 48), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}"
)
def test_layout_sizes(snap_compare, make_app, size) -> None:
    """The panes share the width and height by what they hold, at every common size: the
    whole key bar, the queue's holder column, the key facts above the fold. The "All" tab
    opens on a contact another operator holds (the composer is one read-only line)."""
    assert snap_compare(make_app(), terminal_size=size, run_before=steps("3"))
