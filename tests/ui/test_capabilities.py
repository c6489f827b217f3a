"""The console offers an optional feature only when the backend declares its capability:
a backend without KPIs or identity resolution gets no KPI screen, no identity review and no
provenance, neither by key nor in the palette; the embedded store offers all three."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Capability
from backends.sqlite.backend import SQLiteBackend
from console.app import VistaApp
from console.screens.identity import IdentityReviewScreen
from console.screens.supervisor import SupervisorScreen
from console.screens.workspace import WorkspaceScreen
from tests.conftest import NOW
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio

OPTIONAL = ("supervisor", "identity_review", "provenance")


class PlainStore(SQLiteBackend):
    """The embedded store, declaring neither KPIs nor identity resolution (as a backend
    that lands before those would)."""

    CAPABILITIES = SQLiteBackend.CAPABILITIES & ~(Capability.KPIS | Capability.IDENTITY)


def _app(backend: SQLiteBackend, settings_path: Path) -> VistaApp:
    return VistaApp(backend, clock=lambda: NOW, settings_path=settings_path, poll_interval=3600.0)


async def test_features_the_backend_lacks_are_not_offered(
    demo_db: Path, settings_path: Path
) -> None:
    backend = PlainStore(demo_db, agent="demo", clock=lambda: NOW)
    app = _app(backend, settings_path)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            assert Capability.KPIS not in app.capabilities
            assert [app.check_action(a, ()) for a in OPTIONAL[:2]] == [False, False]
            assert app.screen.check_action("provenance", ()) is False
            for key in ("S", "I", "P"):
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, WorkspaceScreen), key
            titles = {str(hit.display) for hit in await _palette_titles(app)}
            assert not any("KPIs" in t or "suggestions" in t or "provenance" in t for t in titles)
            assert "customer: search" in titles  # the palette itself works
    finally:
        backend.close()


async def test_the_embedded_store_offers_them(demo_db: Path, settings_path: Path) -> None:
    backend = SQLiteBackend(demo_db, agent="demo", clock=lambda: NOW)
    app = _app(backend, settings_path)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            assert Capability.KPIS | Capability.IDENTITY in app.capabilities
            assert app.check_action("supervisor", ()) and app.check_action("identity_review", ())
            await pilot.press("S")
            await settle(pilot)
            assert isinstance(app.screen, SupervisorScreen)
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("I")
            await settle(pilot)
            assert isinstance(app.screen, IdentityReviewScreen)
    finally:
        backend.close()


async def _palette_titles(app: VistaApp) -> list:
    """What the console's palette provider would offer now."""
    from console.screens.palette import VistaCommands

    provider = VistaCommands(app.screen)
    return [hit async for hit in provider.discover()]
