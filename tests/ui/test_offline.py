"""A dead backend: the header says offline, the operator keeps their place and typed text,
and the console reconnects by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from backends.base import Unavailable
from backends.sqlite.backend import SQLiteBackend
from console.app import VistaApp
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from console.widgets.side.composer import Composer
from tests.conftest import NOW
from tests.ui.conftest import own_first_contact, settle

pytestmark = pytest.mark.anyio


class FlakyBackend(SQLiteBackend):
    """The embedded store, with a switch that makes every read fail like a dead server."""

    down = False

    def changes(self, since: int = 0, limit: int = 500):  # type: ignore[no-untyped-def]
        if self.down:
            raise Unavailable("cannot reach http://vista.example:8750 (ConnectError): offline")
        return super().changes(since, limit)

    def customer_view(self, customer_id: int, **kwargs):  # type: ignore[no-untyped-def]
        if self.down:
            raise Unavailable("cannot reach http://vista.example:8750 (ConnectError): offline")
        return super().customer_view(customer_id, **kwargs)


def header(app: VistaApp) -> str:
    return str(app.screen.query_one("#app-header").render())


@pytest.fixture
def flaky(demo_db: Path, settings_path: Path) -> Iterator[tuple[FlakyBackend, VistaApp]]:
    """The console on a store that fails like a dead server while `backend.down` is set."""
    own_first_contact(demo_db)
    backend = FlakyBackend(demo_db, agent="demo", clock=lambda: NOW)
    yield (
        backend,
        VistaApp(backend, clock=lambda: NOW, settings_path=settings_path, poll_interval=0.05),
    )
    backend.close()


async def _workspace(app: VistaApp, pilot: Pilot[None]) -> WorkspaceScreen:
    """The workspace once it has settled, with a contact open."""
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, WorkspaceScreen) and screen.contact is not None
    return screen


async def test_offline_shows_and_recovers_without_losing_the_draft(
    flaky: tuple[FlakyBackend, VistaApp],
) -> None:
    backend, app = flaky
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await _workspace(app, pilot)
        contact_id = screen.contact.id
        await pilot.press("i", *"Buongiorno")
        backend.down = True
        await pilot.pause(0.3)
        await settle(pilot)
        assert "OFFLINE, retrying" in header(app)
        assert screen.query_one(Composer).body == "Buongiorno"
        backend.down = False
        await pilot.pause(0.3)
        await settle(pilot)
        assert "OFFLINE" not in header(app)
        assert screen.contact is not None and screen.contact.id == contact_id
        assert screen.query_one(Composer).body == "Buongiorno"


async def test_a_customer_that_failed_to_load_while_offline_loads_on_reconnect(
    flaky: tuple[FlakyBackend, VistaApp],
) -> None:
    backend, app = flaky
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await _workspace(app, pilot)
        first = screen.contact
        view = screen.query_one(CustomerView)
        backend.down = True
        await pilot.pause(0.3)
        await pilot.press("down")  # the next contact, whose customer cannot load now
        await pilot.pause(0.5)
        await settle(pilot)
        moved = screen.contact
        assert moved is not None and moved.customer_id != first.customer_id
        assert view.customer is not None and view.customer.id == first.customer_id
        inline = str(screen.query_one("#inline-detail #event-body").render())
        assert "Select an event" in inline  # not the previous customer's conversation
        backend.down = False
        await pilot.pause(0.4)
        await settle(pilot)
        assert "OFFLINE" not in header(app)
        assert view.customer is not None and view.customer.id == moved.customer_id
