"""What the server holds: a factory of backends over one store, replays, wake-ups.

The server serves any `Backend` through the contract. It opens the store *as the
token's agent*, with the token's role: an operator cannot act as anyone else
whatever the request says, and a supervisor's backend is opened read-only, so the
store itself refuses a write that slipped past the role check.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from backends.base import Backend, BackendFactory, Capability, VistaError
from backends.models import Role, TokenInfo, WriteAnswer

log = logging.getLogger("vista.server")

#: The agent the server itself reads as (token checks, the change feed's end).
SERVER_AGENT = "vista-server"


class Hub:
    """The server's state: thread-safe, shared by every request."""

    def __init__(
        self,
        backends: BackendFactory,
        *,
        read_only: bool = False,
        spool_dir: Path | None = None,
    ) -> None:
        """`backends`: the store as any agent (`backends.open_factory`). `spool_dir`: where
        an uploaded import file waits for the import (None: the system's temporary
        directory, `TMPDIR`)."""
        self.read_only = read_only  # serve everything read-only: every write answers 403
        self.spool_dir = spool_dir
        self._lock = threading.Lock()
        self._backends = backends
        self.replays = ReplayCache()
        self.changed = Notifier(self.feed_end)
        self.upkeep = Housekeeper(lambda: self._backends(SERVER_AGENT, read_only=False))

    def retarget(self, backends: BackendFactory) -> None:
        """Serve another store from now on (tests give each case a fresh copy)."""
        with self._lock:
            old, self._backends = self._backends, backends
            self.replays = ReplayCache()
        old.close()

    def _server(self) -> Backend:
        return self._backends(SERVER_AGENT, read_only=True)

    @property
    def location(self) -> str:
        """Where the served data lives (for the start-up line)."""
        return self._server().location

    @property
    def replica_location(self) -> str:
        """Where the read-only users' reads go (a replica's, else the store's location)."""
        return self._backends(SERVER_AGENT, read_only=True, role=Role.SUPERVISOR).location

    @property
    def reads_wait(self) -> bool:
        """Whether the store's reads wait for another process (`Backend.READS_WAIT`):
        then no call, not even a token check, may run on the event loop."""
        return type(self._server()).READS_WAIT

    @property
    def store_capabilities(self) -> Capability:
        """What the served store can do at best (its kind's `CAPABILITIES`)."""
        return type(self._server()).CAPABILITIES

    def active_tokens(self) -> int:
        """How many API tokens work (0 when the store keeps none)."""
        try:
            found = self._backends(SERVER_AGENT, read_only=True, role=Role.ADMIN).tokens()
        except VistaError:
            return 0
        return sum(1 for t in found if t.active)

    def feed_end(self) -> int | tuple[int, int]:
        """The newest change's sequence number (the watcher of long-polls reads it); with a
        replica for reads, the replica's too: its readers wake when a change arrives there."""
        end = self._server().changes(-1).cursor
        if getattr(self._backends, "replica_url", None) is None:
            return end
        replica = self._backends(SERVER_AGENT, read_only=True, role=Role.SUPERVISOR)
        return end, replica.changes(-1).cursor

    def authenticate(self, token: str) -> TokenInfo | None:
        """The grant of an active token, or None."""
        return self._server().verify_token(token)

    def backend(
        self,
        agent: str,
        *,
        read_only: bool,
        role: Role | None = None,
        token: str | None = None,
        origin: str = "api",
    ) -> Backend:
        """The store opened as `agent` (read-only for supervisors and read-only clients).

        With `role` the agent acts with that role (the token's), whatever its row in
        `agents` says; `token` (its name) and `origin` go into the audit trail.
        """
        return self._backends(
            agent, read_only=read_only or self.read_only, role=role, token=token, origin=origin
        )

    def backend_for(self, grant: TokenInfo, *, read_only: bool = False) -> Backend:
        """The store as the token's agent, with the token's role and name."""
        read_only = read_only or grant.role is Role.SUPERVISOR
        return self.backend(grant.agent, read_only=read_only, role=grant.role, token=grant.name)

    @property
    def shares_answers(self) -> bool:
        """Whether the store keeps answers to writes by idempotency key for every server
        on it (`Backend.answer_once`), not only this server's memory."""
        return type(self._server()).answer_once is not Backend.answer_once

    def answer_once(
        self, owner: str, key: str, write: Callable[[], WriteAnswer], *, atomic: bool = True
    ) -> tuple[WriteAnswer, bool]:
        """`Backend.answer_once` on the store the writes go to (any server's answer)."""
        return self._backends(SERVER_AGENT, read_only=False).answer_once(
            owner, key, write, atomic=atomic
        )

    def wrote(self) -> None:
        """A write went through: keeps the store's files small (`Housekeeper`)."""
        if not self.read_only:
            self.upkeep.wrote()

    def close(self) -> None:
        if not self.read_only:
            self.upkeep.run(busy_ms=2000)  # worker threads' connections outlive close()
        with self._lock:
            self._backends.close()


class Housekeeper:
    """Runs the backend's `housekeeping` while the server writes, so the store's files
    stay small (SQLite's write-ahead log would otherwise grow by every write under
    steady concurrent load): at once when the backend says it is due, else `idle`
    seconds after a write, in a worker thread. It waits at most `busy_ms` for readers
    (writers queue behind it that long at worst); when it cannot finish it is tried
    again after the next write.
    """

    def __init__(
        self, backend: Callable[[], Backend], *, idle: float = 0.25, busy_ms: int = 250
    ) -> None:
        self._backend = backend
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
        if self._backend().housekeeping_due():
            self._start(loop)
        elif self._timer is None:
            self._timer = loop.call_later(self.idle, self._start, loop)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._running or not self._writes:
            return
        self._running, self._writes = True, 0
        done = loop.run_in_executor(None, self.run)
        done.add_done_callback(lambda _: self._finished(loop))

    def _finished(self, loop: asyncio.AbstractEventLoop) -> None:
        self._running = False
        if self._writes and self._timer is None:  # writes came in meanwhile
            self._timer = loop.call_later(self.idle, self._start, loop)

    def run(self, busy_ms: int | None = None) -> bool:
        """The backend's housekeeping now: True when nothing was left to do."""
        try:
            return self._backend().housekeeping(
                wait_ms=self.busy_ms if busy_ms is None else busy_ms
            )
        except VistaError as e:
            log.warning("housekeeping: %s", e)
            return False


class ReplayCache:
    """Answers to writes by idempotency key: a retried write gets the first answer again.

    In memory and bounded: the first place a retry is looked up. Stores that keep the
    answers (`Backend.answer_once`: SQLite and PostgreSQL) keep them with the write, for
    every server on the store and past a restart.
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

    def __init__(self, feed_end: Callable[[], object] | None = None, interval: float = 0.2) -> None:
        self._event: asyncio.Event | None = None
        self._feed_end = feed_end
        self._interval = interval
        self._waiters = 0
        self._watcher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # where the waiters wait

    def _current(self) -> asyncio.Event:
        self._loop = asyncio.get_running_loop()
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def notify(self) -> None:
        """Wake the waiters. Safe from any thread: a write in the thread pool (a webhook
        storing a message) hands the wake-up to the event loop, which an asyncio.Event
        set from another thread would not wake."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                here = asyncio.get_running_loop() is loop
            except RuntimeError:
                here = False
            if not here:
                loop.call_soon_threadsafe(self._wake)
                return
        self._wake()

    def _wake(self) -> None:
        event, self._event = self._event, None
        if event is not None:
            event.set()

    def armed(self) -> asyncio.Event:
        """The event the next `notify` sets. A waiter takes it before it reads the feed,
        so that a change landing between that read and `wait` still wakes it."""
        return self._current()

    async def wait(
        self, timeout: float, *, armed: asyncio.Event | None = None, seen: int | None = None
    ) -> None:
        """Until the feed moves (here or elsewhere), or `timeout` seconds.

        Args:
            armed: the event taken (`armed`) before the caller read the feed.
            seen: the feed's end as the caller read it: a watcher started now compares
                with that, so a change by another program since that read wakes it too.
        """
        event = armed if armed is not None else self._current()
        self._waiters += 1
        if self._feed_end is not None and (self._watcher is None or self._watcher.done()):
            self._watcher = asyncio.get_running_loop().create_task(self._watch(seen))
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters -= 1

    async def _watch(self, seen: int | None = None) -> None:
        from starlette.concurrency import run_in_threadpool

        assert self._feed_end is not None
        last: object = seen if seen is not None else await run_in_threadpool(self._feed_end)
        if seen is not None:
            try:
                last = _ends_after(seen, await run_in_threadpool(self._feed_end))
            except VistaError:
                pass
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


def _ends_after(seen: int, ends: object) -> object:
    """What the watcher compares with: the feed's `ends` now when the waiter's `seen` is one
    of them (a replica's end or the primary's: nothing moved for it), else `seen` (the
    watcher's first read wakes it)."""
    return ends if seen == ends or (isinstance(ends, tuple) and seen in ends) else seen
