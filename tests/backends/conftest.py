"""The contract fixture: every test in tests/backends runs against every backend.

Add a backend by adding a param to `backend_kind` and a branch to `make_backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backends.base import Backend
from tests.conftest import NOW

BackendFactory = Callable[..., Backend]


@pytest.fixture(params=["sqlite"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_backend(backend_kind: str, demo_db: Path) -> Iterator[BackendFactory]:
    """Open the demo store as `agent` (read_only optional) on the backend under test."""
    opened: list[Backend] = []

    def factory(agent: str = "giulia", read_only: bool = False) -> Backend:
        if backend_kind == "sqlite":
            from backends.sqlite.backend import SQLiteBackend

            b: Backend = SQLiteBackend(demo_db, agent=agent, read_only=read_only, clock=lambda: NOW)
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
