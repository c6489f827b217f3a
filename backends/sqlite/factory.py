"""What a server holds to serve one SQLite file: backends for any agent, two shared stores.

Every agent's backend shares one connection per worker thread of each store
(read-write, and `mode=ro` for supervisors and read-only clients), so 200 agents
do not mean 200 x threads connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from backends.models import Origin, Role, utcnow
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.store import Store


class SQLiteBackends:
    """A `BackendFactory` over one store file (migrated when opened)."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = utcnow,
        create: bool = False,
        read_audit: bool = True,
    ) -> None:
        """`read_audit`: record every read of a customer's profile in the audit trail
        (on by default for a server: its callers are many)."""
        self.path = Path(path)
        self.clock = clock
        self.read_audit = read_audit
        self._lock = threading.Lock()
        self._store = Store(self.path, create=create)
        self._ro_store: Store | None = None
        self._backends: dict[tuple[str, Role | None, bool, str | None, str], SQLiteBackend] = {}

    def __call__(
        self,
        agent: str,
        *,
        read_only: bool = False,
        role: Role | None = None,
        token: str | None = None,
        origin: str = Origin.API.value,
    ) -> SQLiteBackend:
        key = (agent, role, read_only, token, origin)
        with self._lock:
            found = self._backends.get(key)
            if found is None:
                found = SQLiteBackend(
                    self._shared_store(read_only),
                    agent=agent,
                    role=role,
                    clock=self.clock,
                    import_workers=0,  # never fork a server: an import's rows are prepared inline
                    origin=origin,
                    token=token,
                    read_audit=self.read_audit,
                    audit_store=self._store,  # a read-only caller's reads are recorded too
                )
                self._backends[key] = found
            return found

    def _shared_store(self, read_only: bool) -> Store:
        if not read_only:
            return self._store
        if self._ro_store is None:
            self._ro_store = Store(self.path, read_only=True)
        return self._ro_store

    def close(self) -> None:
        with self._lock:
            self._backends = {}
            stores, self._ro_store = [self._store, self._ro_store], None
        for store in stores:
            if store is not None:
                store.close()
