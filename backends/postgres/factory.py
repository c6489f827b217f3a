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
        self,
        url: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        max_connections: int = 20,
        read_audit: bool = True,
    ) -> None:
        """`read_audit`: record every read of a customer's profile in the audit trail
        (on by default for a server: its callers are many)."""
        self.url = url
        self.read_audit = read_audit
        self.clock = clock
        self._max = max_connections
        self._lock = threading.Lock()
        self._store = PgStore(url, max_connections=max_connections)
        self._ro_store: PgStore | None = None
        self._backends: dict[tuple[str, Role | None, bool, str | None, str], PostgresBackend] = {}

    def __call__(
        self,
        agent: str,
        *,
        read_only: bool = False,
        role: Role | None = None,
        token: str | None = None,
        origin: str = Origin.API.value,
    ) -> PostgresBackend:
        """The store as `agent` (see `BackendFactory`); `token` and `origin` are what the
        audit trail records of the caller."""
        key = (agent, role, read_only, token, origin)
        with self._lock:
            found = self._backends.get(key)
            if found is None:
                found = PostgresBackend(
                    self._shared_store(read_only),
                    agent=agent,
                    role=role,
                    clock=self.clock,
                    origin=origin,
                    token=token,
                    read_audit=self.read_audit,
                    audit_store=self._store,  # a read-only caller's reads are recorded too
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
