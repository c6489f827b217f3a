"""The Supervisor screen: KPIs of the hand-built store, drawn; read-only; failures shown.

Snapshots use a frozen clock (NOW) and a fixed terminal size; the report comes from
tests/stats_dataset.py, whose answers are worked out by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Static

from backends.base import WRITE_METHODS, Backend, Unavailable
from backends.sqlite.backend import SQLiteBackend
from console.screens.supervisor import SupervisorScreen
from console.widgets.kpis.panels import KpiTile
from tests import stats_dataset
from tests.conftest import NOW

SIZE = (120, 44)


class Spy:
    """A backend stand-in that records every call and fails the test on any write."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name in WRITE_METHODS:
            raise AssertionError(f"the supervisor screen called {name}")
        self.calls.append(name)
        return getattr(self.inner, name)


class Host(App[None]):
    """A bare app that shows the screen, as the console will."""

    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.backend = backend

    def on_mount(self) -> None:
        self.push_screen(SupervisorScreen(self.backend, now=lambda: NOW, refresh_seconds=0))


@pytest.fixture
def kpi_backend(tmp_path: Path) -> Iterator[SQLiteBackend]:
    path = stats_dataset.build(tmp_path / "kpis.db")
    b = SQLiteBackend(path, agent="anna", read_only=True, clock=lambda: NOW)
    yield b
    b.close()


async def settle(pilot: Pilot[None]) -> None:
    """Wait for the loading worker and the repaint it causes."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def text_of(widget: Static) -> str:
    """The plain text a Static shows (it holds Content)."""
    content = widget.content
    return content.plain if isinstance(content, Content) else str(content)


def screen_text(app: App[None]) -> str:
    """Every line of the screen as plain text, as the terminal shows it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def test_supervisor_screen_snapshot(snap_compare: Any, kpi_backend: SQLiteBackend) -> None:
    assert snap_compare(Host(kpi_backend), terminal_size=SIZE, run_before=settle)


def test_supervisor_screen_email_snapshot(snap_compare: Any, kpi_backend: SQLiteBackend) -> None:
    async def email(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("c")  # all channels -> email
        await settle(pilot)

    assert snap_compare(Host(kpi_backend), terminal_size=SIZE, run_before=email)


@pytest.mark.anyio
async def test_tiles_show_the_hand_worked_answers(kpi_backend: SQLiteBackend) -> None:
    app = Host(kpi_backend)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tiles = {t.id: t.render().plain for t in app.screen.query(KpiTile)}
        assert tiles["kpi-arrivals"].splitlines()[1] == "7"
        assert tiles["kpi-asa"].splitlines()[1] == "12m 00s"  # 720 s
        assert tiles["kpi-frt"].splitlines()[1] == "11h 10m"  # 40,200 s
        assert tiles["kpi-aht"].splitlines()[1] == "17h 26m"  # 62,800 s
        assert tiles["kpi-resolution"].splitlines()[1] == "13h 17m"  # 47,850 s
        assert tiles["kpi-sla"].splitlines()[1:3] == ["40.0%", "2 met, 3 breached"]
        assert tiles["kpi-csat"].splitlines()[1] == "3.7 / 5"
        assert tiles["kpi-nps"].splitlines()[1] == "+0"
        shown = screen_text(app)
        agents, risk = shown.split("At risk ·", 1)
        assert "Giulia Neri" in agents and "Anna" not in agents  # supervisors hold no work
        # hostile customer text is shown literally, never as markup
        assert "[bold red]Mallory[/] Redevil" in risk and "\x1b" not in risk


@pytest.mark.anyio
async def test_keys_only_read(kpi_backend: SQLiteBackend) -> None:
    spy = Spy(kpi_backend)
    app = Host(spy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("w", "c", "r", "w", "c", "enter", "space", "x", "d"):
            await pilot.press(key)
            await settle(pilot)
        assert set(spy.calls) == {"stats", "at_risk", "capabilities", "agent_states"}
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        assert screen.window_index == 2 and screen.channel_index == 2  # last 30 days, chat
        status = text_of(screen.query_one("#sup-status", Static))
        assert "chat" in status and "trend per day" in status


@pytest.mark.anyio
async def test_a_failing_backend_is_shown_and_the_screen_stays(
    kpi_backend: SQLiteBackend,
) -> None:
    class Down(Spy):
        def __getattr__(self, name: str) -> Any:
            if name == "stats":

                def fail(*args: object, **kwargs: object) -> None:
                    raise Unavailable("database /x.db is locked by another program; try again")

                return fail
            return super().__getattr__(name)

    app = Host(Down(kpi_backend))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = text_of(app.screen.query_one("#sup-status", Static))
        assert "KPIs unavailable" in status and "locked" in status
        await pilot.press("r")  # still usable: another try, same message
        await settle(pilot)
        assert "KPIs unavailable" in text_of(app.screen.query_one("#sup-status", Static))
        await pilot.press("escape")  # back to the screen underneath
        assert not isinstance(app.screen, SupervisorScreen)
