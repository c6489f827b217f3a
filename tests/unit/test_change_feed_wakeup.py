"""A long-poll of the change feed wakes for a change that lands between its read of the feed
and its wait: a write through the same server (notify) or by another program (the watcher);
otherwise it would sleep until its wait runs out."""

from __future__ import annotations

import asyncio
import threading
import time

from console.server.hub import Notifier


def test_a_notify_between_the_read_and_the_wait_wakes_the_waiter() -> None:
    async def scenario() -> float:
        notifier = Notifier()
        armed = notifier.armed()  # taken before the read of the feed
        notifier.notify()  # a webhook stored a message while the feed was being read
        started = time.monotonic()
        await notifier.wait(5.0, armed=armed, seen=10)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5


def test_without_the_armed_event_that_notify_is_lost() -> None:
    """The other side: a waiter that takes its event only when it waits sleeps on."""

    async def scenario() -> float:
        notifier = Notifier()
        notifier.armed()
        notifier.notify()
        started = time.monotonic()
        await notifier.wait(0.3)
        return time.monotonic() - started

    assert asyncio.run(scenario()) >= 0.29


def test_a_write_by_another_program_before_the_watcher_starts_wakes_the_waiter() -> None:
    end = [11]  # the feed already moved past what the waiter read (10)

    async def scenario() -> float:
        notifier = Notifier(lambda: end[0], interval=0.05)
        started = time.monotonic()
        await notifier.wait(5.0, armed=notifier.armed(), seen=10)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0


def test_a_feed_that_did_not_move_lets_the_waiter_sleep() -> None:
    async def scenario() -> float:
        notifier = Notifier(lambda: 10, interval=0.05)
        started = time.monotonic()
        await notifier.wait(0.3, armed=notifier.armed(), seen=10)
        return time.monotonic() - started

    assert asyncio.run(scenario()) >= 0.29


def test_a_notify_from_a_worker_thread_wakes_the_waiter_at_once() -> None:
    """A webhook stores its message in the thread pool and notifies from there."""

    async def scenario() -> float:
        notifier = Notifier(lambda: 10, interval=10.0)  # the watcher would not see it soon
        armed = notifier.armed()
        started = time.monotonic()
        threading.Timer(0.05, notifier.notify).start()
        await notifier.wait(5.0, armed=armed, seen=10)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5


def test_with_a_replica_a_waiter_sleeps_until_the_end_it_reads_moves() -> None:
    """Ends as (primary, replica): a waiter that saw either one's end sleeps while neither
    moves (the primary being ahead is not news), and wakes when the replica catches up."""
    ends = [(12, 10)]

    async def scenario(seen: int, move: bool) -> float:
        notifier = Notifier(lambda: ends[0], interval=0.05)
        started = time.monotonic()
        if move:
            asyncio.get_running_loop().call_later(0.2, ends.__setitem__, 0, (12, 12))
        await notifier.wait(0.6, armed=notifier.armed(), seen=seen)
        return time.monotonic() - started

    assert asyncio.run(scenario(10, move=False)) >= 0.59  # a replica reader
    assert asyncio.run(scenario(12, move=False)) >= 0.59  # a primary reader
    assert asyncio.run(scenario(10, move=True)) < 0.5
    ends[0] = (12, 10)
    assert asyncio.run(scenario(11, move=False)) < 0.3  # neither end: it moved since
