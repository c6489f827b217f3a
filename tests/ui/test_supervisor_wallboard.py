"""`vista wallboard`: the compact read-only board, masked by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from backends.sqlite.backend import SQLiteBackend
from console.screens.wallboard import Wallboard
from tests import stats_dataset
from tests.conftest import NOW

SIZE = (120, 36)


@pytest.fixture
def kpi_backend(tmp_path: Path) -> Iterator[SQLiteBackend]:
    path = stats_dataset.build(tmp_path / "kpis.db")
    b = SQLiteBackend(path, agent="anna", read_only=True, clock=lambda: NOW)
    yield b
    b.close()


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def test_wallboard_snapshot_masked(snap_compare: Any, kpi_backend: SQLiteBackend) -> None:
    board = Wallboard(kpi_backend, now=lambda: NOW, refresh_seconds=3600)
    assert snap_compare(board, terminal_size=SIZE, run_before=settle)


def test_wallboard_snapshot_unmasked(snap_compare: Any, kpi_backend: SQLiteBackend) -> None:
    board = Wallboard(kpi_backend, now=lambda: NOW, refresh_seconds=3600, unmask=True)
    assert snap_compare(board, terminal_size=(160, 36), run_before=settle)


@pytest.mark.anyio
async def test_customer_data_is_masked_by_default(kpi_backend: SQLiteBackend) -> None:
    board = Wallboard(kpi_backend, now=lambda: NOW, refresh_seconds=3600)
    async with board.run_test(size=SIZE) as pilot:
        await settle(pilot)
        risk = "\n".join(strip.text for strip in board.screen._compositor.render_strips())
        risk = risk.split("At risk ·", 1)[1]
        assert "L. F." in risk  # Lena Ferrara, contact 10
        for personal in ("Lena", "Ferrara", "Mallory", "Refund", "order 2024"):
            assert personal not in risk


@pytest.mark.anyio
async def test_the_board_refreshes_itself(kpi_backend: SQLiteBackend) -> None:
    calls: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(kpi_backend, name)

    board = Wallboard(Counting(), now=lambda: NOW, refresh_seconds=0.2)  # type: ignore[arg-type]
    async with board.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
    assert calls.count("stats") >= 2  # loaded, then refreshed by its timer
    # and never anything but reads (presence and load come with the KPIs)
    assert set(calls) == {"stats", "at_risk", "capabilities", "agent_states"}
