"""A backend declares only what the store behind it can do: over HTTP the client narrows its
capabilities to the ones the server names for its store, so a console in front of
`vista serve --backend postgresql://…` hides what that store would refuse."""

from __future__ import annotations

import pytest

from backends.base import Capability
from console.actions import offered
from tests.backends.conftest import BackendFactory, store_capabilities


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
        for missing in (
            Capability.ROUTING,
            Capability.AUDIT,
            Capability.PERSONAL_DATA,
            Capability.IMPORT,
            Capability.IDENTITY,
            Capability.CALLS,
            Capability.KNOWLEDGE,
        ):
            assert missing not in caps, missing.name
        assert Capability.WRITE | Capability.KPIS | Capability.TOKENS in caps
    else:
        pytest.skip("about a client in front of a server")
