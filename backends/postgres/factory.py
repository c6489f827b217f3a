"""What a server holds to serve one PostgreSQL database: backends for any agent over two
shared connection pools (read-write, and read-only for supervisors and read-only clients)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from backends.models import Origin, Role, utcnow
from backends.postgres.backend import PostgresBackend
from backends.postgres.store import PgStore


class PostgresBackends:
    """A `BackendFactory` over one database (migrated when opened)."""

    def __init__(
        self, url: str, *, clock: Callable[[], datetime] = utcnow, max_connections: int = 20
    ) -> None:
        self.url = url
        self.clock = clock
        self._max = max_connections
        self._lock = threading.Lock()
        self._store = PgStore(url, max_connections=max_connections)
        self._ro_store: PgStore | None = None
        self._backends: dict[tuple[str, Role | None, bool], PostgresBackend] = {}

    def __call__(
        self,
        agent: str,
        *,
        read_only: bool = False,
        role: Role | None = None,
        token: str | None = None,
        origin: str = Origin.API.value,
    ) -> PostgresBackend:
        """The store as `agent` (see `BackendFactory`). `token` and `origin` are what an
        audit trail records of the caller; this store keeps none (no Capability.AUDIT), so
        they do not change the backend and agents share one per (agent, role, mode)."""
        key = (agent, role, read_only)
        with self._lock:
            found = self._backends.get(key)
            if found is None:
                found = PostgresBackend(
                    self._shared_store(read_only), agent=agent, role=role, clock=self.clock
                )
                self._backends[key] = found
            return found

    def _shared_store(self, read_only: bool) -> PgStore:
        if not read_only:
            return self._store
        if self._ro_store is None:
            self._ro_store = PgStore(self.url, read_only=True, max_connections=self._max)
        return self._ro_store

    def close(self) -> None:
        with self._lock:
            self._backends = {}
            stores, self._ro_store = [self._store, self._ro_store], None
        for store in stores:
            if store is not None:
                store.close()
