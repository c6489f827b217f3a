"""The identity part of the Backend contract on SQLite: `backends.identity_ops.IdentityOps`
over this store's identity modules, with what SQLite does its own way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backends import identity_ops


class SQLiteIdentity(identity_ops.StoreIdentity):
    """SQLite's identity statements: values refreshed after a merge's audit entry; an
    import on a connection of its own."""

    def refresh_values(self, db: Any, customer_ids: tuple[int, ...], now: int) -> None:
        from backends.sqlite import values as computed

        computed.refresh(db, customer_ids, computed.config_of(db), now)

    @contextmanager
    def importing(self, store: Any) -> Iterator[Any]:
        """A bulk load grows its connection's page cache, which the backend's connections
        should not keep: the file is imported on a connection of its own."""
        from backends.sqlite.store import Store

        own = Store(store.path)
        try:
            yield own
        finally:
            own.close()


class IdentityOps(identity_ops.IdentityOps):
    """The identity part of `SQLiteBackend`."""

    _identity = SQLiteIdentity("backends.sqlite")
