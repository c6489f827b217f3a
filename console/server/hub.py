"""What the server holds: the store's path, one backend per (agent, read-only), tokens, wake-ups.

The server opens the store *as the token's agent*: an operator cannot act as
anyone else whatever the request says, and a supervisor's store is opened
read-only (`mode=ro`), so SQLite itself refuses a write that slipped past the
role check.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from backends.base import VistaError
from backends.models import Role, utcnow
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.store import Store
from backends.sqlite.tokens import TokenInfo, TokenStore

log = logging.getLogger("vista.server")


class Hub:
    """The server's state: thread-safe, shared by every request."""

    def __init__(
        self, path: str | Path, *, clock: Callable[[], datetime] = utcnow, read_only: bool = False
    ) -> None:
        self.clock = clock
        self.read_only = read_only  # serve everything read-only: every write answers 403
        self._lock = threading.Lock()
        self._backends: dict[tuple[str, bool], SQLiteBackend] = {}
        self.path = Path(path)
        self._store = Store(self.path)  # migrates, holds the tokens, serves every writer
        self._ro_store: Store | None = None
        self.tokens = TokenStore(self._store)
        self.replays = ReplayCache()
        self.changed = Notifier(self.feed_end)
        self.wal = WalKeeper(lambda: self.path)

    def retarget(self, path: str | Path) -> None:
        """Serve another store file from now on (tests give each case a fresh copy)."""
        with self._lock:
            self._backends = {}
            old_stores = [self._store, self._ro_store]
            self.path = Path(path)
            self._store = Store(self.path)
            self._ro_store = None
            self.tokens = TokenStore(self._store)
            self.replays = ReplayCache()
        for store in old_stores:
            if store is not None:
                store.close()

    def feed_end(self) -> int:
        """The newest change's sequence number (the watcher of long-polls reads it)."""
        with self._store.read() as db:
            return int(db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])

    def authenticate(self, token: str) -> TokenInfo | None:
        """The grant of an active token, or None."""
        return self.tokens.verify(token)

    def backend(self, agent: str, *, read_only: bool, role: Role | None = None) -> SQLiteBackend:
        """The store opened as `agent` (read-only for supervisors and read-only clients).

        With `role` the agent acts with that role (the token's), whatever its row in
        `agents` says. Every agent's backend shares one connection per worker thread
        (two stores: read-write and `mode=ro`), so 200 agents do not mean 200 x
        threads connections.
        """
        read_only = read_only or self.read_only
        key = (agent, role, read_only)
        with self._lock:
            found = self._backends.get(key)
            if found is None:
                found = SQLiteBackend(self.path, agent=agent, read_only=read_only, clock=self.clock)
                found.store.close()
                found.store = self._shared_store(read_only)
                if role is not None:
                    found._agent = replace(found.whoami(), role=role)
                self._backends[key] = found
            return found

    def backend_for(self, grant: TokenInfo, *, read_only: bool = False) -> SQLiteBackend:
        """The store as the token's agent, with the token's role."""
        read_only = read_only or grant.role is Role.SUPERVISOR
        return self.backend(grant.agent, read_only=read_only, role=grant.role)

    def _shared_store(self, read_only: bool) -> Store:
        if not read_only:
            return self._store
        if self._ro_store is None:
            self._ro_store = Store(self.path, read_only=True)
        return self._ro_store

    def wrote(self) -> None:
        """A write went through: keeps the write-ahead log bounded (`WalKeeper`)."""
        self.wal.wrote()

    def close(self) -> None:
        with self._lock:
            self._backends = {}
        for store in (self._store, self._ro_store):
            if store is not None:
                store.close()
        if not self.read_only:
            self.wal.checkpoint(busy_ms=2000)  # worker threads' connections outlive close()


class WalKeeper:
    """Checkpoints the write-ahead log while the server writes, so it stays small.

    SQLite's own checkpoints copy the log back into the database but cannot start it
    over while readers are in it, which under steady concurrent load is always: the
    -wal file then grows by every write. So when the log passes `max_bytes`, or
    `idle` seconds after a write, a `wal_checkpoint(TRUNCATE)` runs in a worker
    thread on a connection of its own. It waits at most `busy_ms` for readers
    (writers queue behind it that long at worst); when it cannot finish it is tried
    again after the next write.
    """

    def __init__(
        self,
        path: Callable[[], Path],
        *,
        max_bytes: int = 4 * 1024 * 1024,
        idle: float = 0.25,
        busy_ms: int = 250,
    ) -> None:
        self._path = path
        self.max_bytes = max_bytes
        self.idle = idle
        self.busy_ms = busy_ms
        self._writes = 0
        self._running = False
        self._timer: asyncio.TimerHandle | None = None

    def wrote(self) -> None:
        """Count a write (on the event loop) and schedule a checkpoint when it is time."""
        self._writes += 1
        if self._running:
            return
        loop = asyncio.get_running_loop()
        if self._wal_bytes() > self.max_bytes:
            self._start(loop)
        elif self._timer is None:
            self._timer = loop.call_later(self.idle, self._start, loop)

    def _wal_bytes(self) -> int:
        try:
            return os.stat(f"{self._path()}-wal").st_size
        except OSError:
            return 0

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._running or not self._writes:
            return
        self._running, self._writes = True, 0
        done = loop.run_in_executor(None, self.checkpoint)
        done.add_done_callback(lambda _: self._finished(loop))

    def _finished(self, loop: asyncio.AbstractEventLoop) -> None:
        self._running = False
        if self._writes and self._timer is None:  # writes came in meanwhile
            self._timer = loop.call_later(self.idle, self._start, loop)

    def checkpoint(self, busy_ms: int | None = None) -> bool:
        """`wal_checkpoint(TRUNCATE)`: True when the log was emptied.

        A writer's own automatic checkpoint may hold the checkpoint lock for a moment
        (SQLite answers busy at once then), so it is tried again until `busy_ms` pass.
        """
        path = self._path()
        wait = (self.busy_ms if busy_ms is None else busy_ms) / 1000
        deadline = time.monotonic() + wait
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            log.warning("checkpoint of %s: %s", path, e)
            return False
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            while True:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy or time.monotonic() >= deadline:
                    break
                time.sleep(0.005)
        except sqlite3.Error as e:
            log.warning("checkpoint of %s: %s", path, e)
            return False
        finally:
            conn.close()
        if busy:
            log.debug("checkpoint of %s: busy, tried for %.2f s", path, wait)
        return not busy


class ReplayCache:
    """Answers to writes by idempotency key: a retried write gets the first answer again.

    In memory and bounded; replies and notes are also deduplicated by the store
    itself (their key is saved with the message), which survives a restart.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[str, str], tuple[int, bytes, str]] = OrderedDict()
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def lock(self, key: tuple[str, str]) -> asyncio.Lock:
        """Held while a write with this key runs, so a concurrent retry waits for it."""
        found = self._locks.get(key)
        if found is None:
            found = self._locks[key] = asyncio.Lock()
        if len(self._locks) > self.size:
            for k in [k for k, v in self._locks.items() if not v.locked()][: self.size // 2]:
                del self._locks[k]
        return found

    def get(self, key: tuple[str, str]) -> tuple[int, bytes, str] | None:
        """The first answer to the write with this key: status, body, and the fingerprint
        of the request it answered (a key reused for another request must not replay it)."""
        return self._answers.get(key)

    def put(self, key: tuple[str, str], status: int, body: bytes, request: str = "") -> None:
        self._answers[key] = (status, body, request)
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


class Notifier:
    """Wakes long-polling change-feed requests when the feed moved.

    A write through this server wakes them at once; writes by other programs on
    the same file are seen by one watcher task that reads the feed's end every
    `interval` seconds while anybody waits (one query for all waiters, not one each).
    """

    def __init__(self, feed_end: Callable[[], int] | None = None, interval: float = 0.2) -> None:
        self._event: asyncio.Event | None = None
        self._feed_end = feed_end
        self._interval = interval
        self._waiters = 0
        self._watcher: asyncio.Task[None] | None = None

    def _current(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def notify(self) -> None:
        event, self._event = self._event, None
        if event is not None:
            event.set()

    async def wait(self, timeout: float) -> None:
        """Until the feed moves (here or elsewhere), or `timeout` seconds."""
        self._waiters += 1
        if self._feed_end is not None and (self._watcher is None or self._watcher.done()):
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        try:
            await asyncio.wait_for(self._current().wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters -= 1

    async def _watch(self) -> None:
        from starlette.concurrency import run_in_threadpool

        assert self._feed_end is not None
        last = await run_in_threadpool(self._feed_end)
        while self._waiters > 0:
            await asyncio.sleep(self._interval)
            try:
                end = await run_in_threadpool(self._feed_end)
            except VistaError as e:  # the store is busy or gone: the waiters time out and retry
                log.warning("change feed watcher: %s", e)
                continue
            if end != last:
                last = end
                self.notify()
