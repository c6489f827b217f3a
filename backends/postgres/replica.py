"""A streaming replica for the reads of read-only users (`vista serve --replica URL`).

A hot standby answers the same queries as its primary, a little behind it: what a
supervisor reads there is consistent (a committed state of the primary) and at most the
replication lag old. Nothing is written there (PostgreSQL refuses it anyway); the read
audit entries those reads produce go to the primary (`PostgresBackend(audit_store=...)`).

A replica that stops answering does not stop the console: its reads go to the primary
(with a warning in the server log) and the replica is tried again every `RETRY_S`
seconds. One that cannot be opened when the server starts is an error, naming it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from backends.base import Unavailable, VistaError
from backends.postgres.store import CONNECT_TIMEOUT_S, PgStore, scalar, translate

log = logging.getLogger("vista.postgres")

#: How long a read waits for a replica connection before it goes to the primary instead.
REPLICA_WAIT_S = 2.0

#: How long the reads stay on the primary after the replica failed, before it is tried again.
RETRY_S = 10.0


class ReplicaStore(PgStore):
    """A read-only store on a replica of `primary`'s database, falling back to `fallback`
    (a read-only store on the primary) while the replica does not answer."""

    def __init__(
        self, url: str, primary: PgStore, fallback: Callable[[], PgStore], max_connections: int
    ) -> None:
        """Open the replica at `url`.

        Raises:
            Unavailable: it cannot be reached, its schema is not this Vista's, or it is a
                copy of another database than `primary`'s (another store id).
        """
        self._fallback = fallback
        self._down_until = 0.0
        self._state = threading.Lock()
        try:
            super().__init__(url, read_only=True, max_connections=max_connections, migrate=False)
        except Unavailable as e:
            raise Unavailable(f"replica: {e}") from e
        with primary.read() as db:
            ours = scalar(db, "SELECT value FROM store_meta WHERE key = 'store_id'")
        with super().read() as db:
            theirs = scalar(db, "SELECT value FROM store_meta WHERE key = 'store_id'")
        if ours != theirs:
            self.close()
            raise Unavailable(
                f"replica {self.location} is not a copy of {primary.location} (its store id "
                f"is {theirs!r}, the primary's {ours!r})"
            )

    @property
    def down(self) -> bool:
        """Whether reads go to the primary now (the replica failed less than RETRY_S ago)."""
        return time.monotonic() < self._down_until

    def _failed(self, error: Exception) -> None:
        with self._state:
            if not self.down:
                log.warning(
                    "replica %s failed (%s); reads go to the primary for %g s",
                    self.location,
                    str(error).strip() or type(error).__name__,
                    RETRY_S,
                )
            self._down_until = time.monotonic() + RETRY_S

    def _answers(self) -> bool:
        """Whether the replica takes a connection now (tried at most every RETRY_S while
        it is down, directly: the pool would wait its whole timeout for a dead server)."""
        if not self.down:
            return True
        with self._state:
            if not self.down:
                return True
            try:
                psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S).close()
            except psycopg.Error:
                self._down_until = time.monotonic() + RETRY_S
                return False
            self._down_until = 0.0
            log.warning("replica %s answers again; read-only users read there", self.location)
            return True

    @contextmanager
    def read(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection to the replica in a transaction for reads, or one to the primary
        while the replica does not answer. Inside `one_transaction`, that block's."""
        held = getattr(self._held, "conn", None)
        if held is not None:
            yield held
            return
        conn = self._connection() if self._answers() else None
        if conn is None:
            with self._fallback().read() as primary:
                yield primary
            return
        try:
            with conn:  # commits (nothing) or rolls back, as `PgStore.read`
                yield conn
        except VistaError:
            raise
        except (psycopg.Error, UnicodeEncodeError) as e:
            if conn.broken:
                self._failed(e)
            raise translate(e, self.location) from e
        finally:
            self.pool.putconn(conn)  # a broken one is replaced

    def _connection(self) -> psycopg.Connection[Any] | None:
        """A pooled replica connection that answers (one round trip checks it: a pooled
        connection to a server that went away fails only when used), else None."""
        try:
            conn = self.pool.getconn(timeout=REPLICA_WAIT_S)
        except PoolTimeout as e:
            self._failed(e)
            return None
        try:
            conn.execute("SELECT 1")
        except psycopg.Error as e:
            self.pool.putconn(conn)
            self._failed(e)
            return None
        return conn
