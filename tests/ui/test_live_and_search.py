"""Other operators' changes reach the queue through the change feed; type-ahead search
opens a customer even when no contact is selected."""

from __future__ import annotations

import pytest

from backends.sqlite.backend import SQLiteBackend
from console.screens.search import SearchScreen
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from console.widgets.queue.pane import QueuePane
from tests.conftest import NOW
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


async def test_other_operators_claim_appears_live(make_app, demo_db) -> None:
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        queue = screen.query_one(QueuePane)
        await pilot.press("2")  # unassigned
        await pilot.pause(0.3)
        await settle(pilot)
        target = queue.window.rows[1]
        count = queue.window.count
        giulia = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
        giulia.claim(target.id)
        giulia.close()
        for _ in range(40):
            await pilot.pause(0.05)
            await settle(pilot, rounds=1)
            if queue.window.count == count - 1:
                break
        assert queue.window.count == count - 1
        assert target.id not in {c.id for c in queue.window.rows}


async def test_search_opens_customer_without_contact(make_app, backend) -> None:
    hit = backend.search_customers("Rossi")[0] if backend.search_customers("Rossi") else None
    assert hit is not None
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"Rossi")
        await pilot.pause(0.15)
        await settle(pilot)
        assert app.screen.hits and app.screen.hits[0].id == hit.id
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        assert screen.contact is None
        view = screen.query_one(CustomerView)
        assert view.customer is not None and view.customer.id == hit.id
        assert "no contact selected" in str(screen.query_one("#contact-bar").render())
        # contact actions are not available without a contact
        assert screen.check_action("claim", ()) is None
