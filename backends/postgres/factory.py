"""What a server holds to serve one PostgreSQL database: backends for any agent over two
shared connection pools (read-write, and read-only for supervisors and read-only clients),
the read-only one on a streaming replica when one is given (backends/postgres/replica.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from backends.models import Origin, Role, utcnow
from backends.postgres.backend import PostgresBackend
from backends.postgres.replica import ReplicaStore
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
        replica: str | None = None,
    ) -> None:
        """`read_audit`: record every read of a customer's profile in the audit trail
        (on by default for a server: its callers are many). `replica`: a streaming replica
        of the database, where the read-only callers with a role (a token's: supervisors,
        read-only clients) read; everything else, and every write, stays on `url`.

        Raises:
            Unavailable: the database or the replica cannot be opened, or the replica is
                a copy of another database.
        """
        self.url = url
        self.replica_url = replica
        self.read_audit = read_audit
        self.clock = clock
        self._max = max_connections
        self._lock = threading.Lock()
        self._ro_lock = threading.Lock()
        self._store = PgStore(url, max_connections=max_connections)
        self._ro_store: PgStore | None = None
        self._replica: PgStore | None = None
        if replica is not None:
            try:
                self._replica = ReplicaStore(
                    replica, self._store, self._primary_ro, max_connections
                )
            except BaseException:
                self._store.close()
                raise
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
                    self._shared_store(read_only, replica=role is not None),
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

    def _shared_store(self, read_only: bool, *, replica: bool = False) -> PgStore:
        if not read_only:
            return self._store
        if replica and self._replica is not None:
            return self._replica
        return self._primary_ro()

    def _primary_ro(self) -> PgStore:
        """The read-only pool on the primary (also where a failed replica's reads go)."""
        with self._ro_lock:
            if self._ro_store is None:
                self._ro_store = PgStore(self.url, read_only=True, max_connections=self._max)
            return self._ro_store

    def close(self) -> None:
        with self._lock:
            self._backends = {}
            stores = [self._store, self._ro_store, self._replica]
            self._ro_store = self._replica = None
        for store in stores:
            if store is not None:
                store.close()
