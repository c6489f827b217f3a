"""A backend declares only what the store behind it can do: over HTTP the client narrows its
capabilities to the ones the server names for its store, so a console in front of
`vista serve --backend postgresql://…` hides what that store would refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Capability
from console.actions import offered
from console.app import VistaApp
from tests.backends.conftest import BackendFactory, store_capabilities
from tests.conftest import NOW


@pytest.mark.parametrize("who", ["admin", "giulia"])
def test_a_backend_declares_nothing_its_store_lacks(
    make_backend: BackendFactory, backend_kind: str, who: str
) -> None:
    caps = make_backend(who).capabilities
    store = store_capabilities(backend_kind)
    assert caps & ~store == Capability.NONE, (caps & ~store).name
    routes = Capability.ROUTING in store
    assert (Capability.ROUTING in caps) == routes
    assert offered("presence", caps) == routes  # the console's routing actions follow it
    assert offered("set_intent", caps) == routes
    assert offered("compose", caps)  # an action without a capability is always offered
    if who == "admin":  # the admin-only features, where the store keeps them
        assert (Capability.AUDIT in caps) == (Capability.AUDIT in store)
        assert Capability.TOKENS in caps


def test_over_http_routing_follows_the_store_behind_the_server(
    make_backend: BackendFactory, backend_kind: str
) -> None:
    caps = make_backend("admin").capabilities
    if backend_kind == "http":  # SQLite behind the server: routes, audits, keeps personal data
        assert Capability.ROUTING | Capability.AUDIT | Capability.PERSONAL_DATA in caps
    elif backend_kind == "http-postgres":
        assert Capability.WRITE | Capability.KPIS | Capability.TOKENS in caps
        # everything the SQLite store keeps, PostgreSQL keeps too
        assert Capability.IMPORT | Capability.IDENTITY in caps
        assert Capability.AUDIT | Capability.PERSONAL_DATA in caps  # the trail is the server's
        assert Capability.ROUTING | Capability.CALLS | Capability.KNOWLEDGE in caps
    else:
        pytest.skip("about a client in front of a server")
    assert Capability.WAIT_CHANGES in caps  # the console's held reads, whatever the store


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_console_over_http_offers_presence_only_where_the_store_routes(
    make_backend: BackendFactory, backend_kind: str, tmp_path: Path
) -> None:
    if not backend_kind.startswith("http"):
        pytest.skip("about a console in front of a server")
    backend = make_backend("giulia")
    routes = Capability.ROUTING in store_capabilities(backend_kind)
    app = VistaApp(
        backend, clock=lambda: NOW, settings_path=tmp_path / "s.json", poll_interval=3600.0
    )
    async with app.run_test(size=(160, 48)) as pilot:
        # (not `settle`: a console in front of a server keeps a held read of its feed open)
        for _ in range(5):
            await pilot.pause(0.1)
        assert (Capability.ROUTING in app.capabilities) == routes
        assert bool(app.check_action("presence", ())) == routes
        assert app.check_action("supervisor", ())  # KPIs: both stores have them
