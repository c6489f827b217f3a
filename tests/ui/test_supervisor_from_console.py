"""Supervisors reach their KPIs from the console, and it stays read-only."""

from __future__ import annotations

import pytest

from console.screens.supervisor import SupervisorScreen
from console.screens.workspace import WorkspaceScreen
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


async def test_s_opens_the_supervisor_screen_and_escape_returns(make_app) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        from console.widgets.kpis.panels import KpiTile

        titles = " ".join(str(tile.render()) for tile in app.screen.query(KpiTile))
        assert "Arrivals" in titles and "SLA attainment" in titles
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
