"""The contract fixture: every test in tests/backends runs against every backend.

Add a backend by adding a param to `backend_kind` and a branch to `make_backend`.

"http" runs the same test against a real `vista serve` app under uvicorn on a
loopback port, in a background thread. One server serves the whole session;
before each test it is pointed at that test's fresh copy of the demo store
(`Hub.retarget`), and each agent gets a token of its role in that copy. This is
safe because a pytest process runs one test at a time (with xdist every worker
has its own server) and every client of the previous test is closed first.

"postgres" runs it against the PostgreSQL store on a real server (tests/postgres_server.py),
and "http-postgres" against `vista serve` in front of it. Each test gets its own database,
a copy of its demo store file made when the test first opens a backend (so a test that
adjusts the file with sqlite3 beforehand gets its adjustments): a clone of the session's
copy of the demo store when the file is unchanged, else the file copied with `vista
migrate`'s copier. A test marked `needs(Capability.X)` skips, naming X, on a backend whose
store does not declare X (`store_capabilities`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.base import Backend, Capability
from backends.base import BackendFactory as StoreFactory
from tests.backends.live_server import LiveServer, live_server  # noqa: F401 - fixture
from tests.conftest import NOW
from tests.postgres_server import COPIES, PostgresServer

BackendFactory = Callable[..., Backend]

POSTGRES_KINDS = ("postgres", "http-postgres")


@pytest.fixture(params=["sqlite", "http", *POSTGRES_KINDS])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _digest(path: Path) -> str:
    """What a store file holds, with its write-ahead log (where sqlite3 edits land first)."""
    digest = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def postgres_demo(postgres_server: PostgresServer, demo_template: Path) -> tuple[str, str]:
    """The session's demo store copied into a template database: (its name, the digest
    of the SQLite file it was copied from)."""
    from backends.postgres.store import PgStore
    from backends.postgres.transfer import copy_store

    name = postgres_server.new_name("vista_demo")
    store = PgStore(postgres_server.create(name))
    try:
        copy_store(demo_template, store)
    finally:
        store.close()
    return name, _digest(demo_template)


def postgres_copy(request: pytest.FixtureRequest, demo_db: Path, name: str) -> str:
    """Database `name`, this test's own, holding what `demo_db` holds now; its URL."""
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template, digest = request.getfixturevalue("postgres_demo")
    if _digest(demo_db) == digest:
        url = server.create(name, template=template)
    else:
        from backends.postgres.store import PgStore
        from backends.postgres.transfer import copy_store

        url = server.create(name)
        store = PgStore(url)
        try:
            copy_store(demo_db, store)
        finally:
            store.close()
    COPIES[demo_db] = url
    request.addfinalizer(lambda: COPIES.pop(demo_db, None))
    return url


class _Lazy:
    """A backend opened at its first use: the PostgreSQL copy of a test's store is made
    then, after whatever the test set up in the store file first."""

    def __init__(self, opener: Callable[[], Backend]) -> None:
        self._opener = opener
        self._real: Backend | None = None

    def _backend(self) -> Backend:
        if self._real is None:
            self._real = self._opener()
        return self._real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:  # a test moving the clock on
            setattr(self._backend(), name, value)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._real is not None:
            self._real.close()


@pytest.fixture
def make_backend(
    backend_kind: str, demo_db: Path, request: pytest.FixtureRequest
) -> Iterator[BackendFactory]:
    """Open the demo store as `agent` (read_only optional) on the backend under test."""
    opened: list[Backend] = []
    live: LiveServer | None = None
    stores: list[StoreFactory] = []
    copies: list[tuple[PostgresServer, str]] = []  # the test's PostgreSQL database, once made
    if backend_kind in POSTGRES_KINDS:
        request.getfixturevalue("postgres_server")  # skips, saying why, without a server
    if backend_kind == "http":
        live = request.getfixturevalue("live_server")
        live.serve(demo_db)

    def postgres() -> StoreFactory:
        if not stores:
            from backends import open_factory

            server: PostgresServer = request.getfixturevalue("postgres_server")
            copies.append((server, server.new_name()))
            url = postgres_copy(request, demo_db, copies[0][1])
            if backend_kind == "http-postgres":
                served = request.getfixturevalue("live_server")
                served.serve(url)
                stores.append(served.backends)
            else:
                stores.append(open_factory(url, clock=lambda: NOW))
        return stores[0]

    def factory(agent: str = "giulia", read_only: bool = False) -> Backend:
        if backend_kind == "sqlite":
            from backends.sqlite.backend import SQLiteBackend

            b: Backend = SQLiteBackend(demo_db, agent=agent, read_only=read_only, clock=lambda: NOW)
        elif backend_kind == "http":
            assert live is not None
            b = live.backend_for(agent, read_only=read_only)
        elif backend_kind in POSTGRES_KINDS:

            def opened_now() -> Backend:
                if backend_kind == "postgres":
                    return postgres()(agent, read_only=read_only)
                postgres()
                return request.getfixturevalue("live_server").backend_for(
                    agent, read_only=read_only
                )

            # lazily until the copy exists (the test may still be setting up the file)
            b = opened_now() if stores else _Lazy(opened_now)  # type: ignore[assignment]
        else:  # pragma: no cover
            raise AssertionError(backend_kind)
        opened.append(b)
        return b

    yield factory
    for b in opened:
        b.close()
    if backend_kind == "postgres":
        for s in stores:
            s.close()
    for server, name in copies:
        # dropped now, not with the cluster: a worker's ~500 copies of 16 MB each took a
        # minute to delete at the end of the session
        if backend_kind == "http-postgres":
            request.getfixturevalue("live_server").let_go()
        server.drop(name)


@pytest.fixture
def backend(make_backend: BackendFactory) -> Backend:
    """The demo store, as operator giulia."""
    return make_backend()


def store_capabilities(kind: str) -> Capability:
    """What a backend kind can do at best: its store class's CAPABILITIES, and over HTTP
    only what the client can also do (`HTTPBackend.capabilities` narrows to the store the
    server names, so an HTTP kind has what both sides have, plus the server's held reads)."""
    if kind in POSTGRES_KINDS:
        from backends.postgres.backend import PostgresBackend

        store = PostgresBackend.CAPABILITIES
    else:
        from backends.sqlite.backend import SQLiteBackend

        store = SQLiteBackend.CAPABILITIES
    if kind.startswith("http"):
        from backends.http.client import HTTPBackend

        # held reads of the feed are the server's own, whatever store it holds
        return (store | Capability.WAIT_CHANGES) & HTTPBackend.CAPABILITIES
    return store


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(*capabilities): the test runs only on backends whose store declares each "
        "Capability (backends.base); elsewhere it skips, naming the one missing",
    )


@pytest.fixture(autouse=True)
def _skip_without_capability(request: pytest.FixtureRequest) -> None:
    """A test marked `needs(Capability.X)` skips on a backend whose store does not declare
    X, naming it; it runs, with every assertion, wherever the store declares it."""
    kind = getattr(getattr(request.node, "callspec", None), "params", {}).get("backend_kind")
    if kind is None:
        return
    have = store_capabilities(str(kind))
    for mark in request.node.iter_markers("needs"):
        for capability in mark.args:
            if capability not in have:
                pytest.skip(f"the {kind} store lacks Capability.{capability.name}")
