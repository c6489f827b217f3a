"""A real Vista API server on a loopback port, in a background thread, for the test session."""

from __future__ import annotations

import itertools
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from backends import open_factory
from backends.base import Backend, BackendFactory
from backends.http.client import HTTPBackend
from backends.models import Role
from console.server.app import create_app
from console.server.hub import Hub
from tests.conftest import NOW


class LiveServer:
    """uvicorn serving `create_app` on 127.0.0.1:<free port>; `serve(path)` switches the store."""

    def __init__(self, first_db: Path | str, port: int = 0, **app_options: Any) -> None:
        self.backends: BackendFactory = open_factory(str(first_db), clock=lambda: NOW)
        self.hub = Hub(self.backends)
        self.app = create_app(hub=self.hub, **app_options)
        # IPPROTO_TCP named, as getaddrinfo names it for `vista serve`: asyncio sets
        # TCP_NODELAY only on a socket whose proto says TCP, and without it every answer
        # whose body follows its headers waited 40 ms for the client's delayed ACK
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True, name="vista-api"
        )
        self._names = itertools.count(1)
        self.first = first_db
        self.db: Path | str = first_db

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test API server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(5)
        self.hub.close()

    def serve(self, db: Path | str) -> None:
        """Serve this store (a file, or a postgresql:// URL) from now on."""
        self.db = db
        self.backends = open_factory(str(db), clock=lambda: NOW)
        self.hub.retarget(self.backends)

    def let_go(self) -> None:
        """Close the store served now (its database may then be dropped): serve the
        first one again."""
        self.serve(self.first)

    def admin(self) -> Backend:
        """The served store as an admin, on this side of the wire (to set up a case)."""
        return self.backends("vista-tests", role=Role.ADMIN)

    def token(self, agent: str, role: Role | None = None) -> str:
        """A fresh token for `agent`, with the agent's role in the store unless given."""
        if role is None:
            roles = {a.name: a.role for a in self.admin().agents()}
            role = roles.get(agent, Role.OPERATOR)
        return self.admin().create_token(f"{agent}-{next(self._names)}", role, agent).token

    def backend_for(
        self, agent: str, *, read_only: bool = False, role: Role | None = None
    ) -> HTTPBackend:
        return HTTPBackend(self.url, token=self.token(agent, role), read_only=read_only)


@pytest.fixture(scope="session")
def live_server(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One API server for the session (each test points it at its own store copy)."""
    first = tmp_path_factory.mktemp("api") / "first.db"
    shutil.copy(demo_template, first)
    live = LiveServer(first)
    live.start()
    yield live
    live.stop()
