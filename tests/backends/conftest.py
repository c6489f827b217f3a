"""The contract fixture: every test in tests/backends runs against every backend.

Add a backend by adding a param to `backend_kind` and a branch to `make_backend`.

"http" runs the same test against a real `vista serve` app under uvicorn on a
loopback port, in a background thread. One server serves the whole session;
before each test it is pointed at that test's fresh copy of the demo store
(`Hub.retarget`), and each agent gets a token of its role in that copy. This is
safe because a pytest process runs one test at a time (with xdist every worker
has its own server) and every client of the previous test is closed first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backends.base import Backend
from tests.backends.live_server import LiveServer, live_server  # noqa: F401 - fixture
from tests.conftest import NOW

BackendFactory = Callable[..., Backend]


@pytest.fixture(params=["sqlite", "http"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_backend(
    backend_kind: str, demo_db: Path, request: pytest.FixtureRequest
) -> Iterator[BackendFactory]:
    """Open the demo store as `agent` (read_only optional) on the backend under test."""
    opened: list[Backend] = []
    live: LiveServer | None = None
    if backend_kind == "http":
        live = request.getfixturevalue("live_server")
        live.serve(demo_db)

    def factory(agent: str = "giulia", read_only: bool = False) -> Backend:
        if backend_kind == "sqlite":
            from backends.sqlite.backend import SQLiteBackend

            b: Backend = SQLiteBackend(demo_db, agent=agent, read_only=read_only, clock=lambda: NOW)
        elif backend_kind == "http":
            b = live.backend_for(agent, read_only=read_only)
        else:  # pragma: no cover
            raise AssertionError(backend_kind)
        opened.append(b)
        return b

    yield factory
    for b in opened:
        b.close()


@pytest.fixture
def backend(make_backend: BackendFactory) -> Backend:
    """The demo store, as operator giulia."""
    return make_backend()
