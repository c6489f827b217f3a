"""The hourly KPI rollup (kept by triggers) gives exactly what reading every contact gives,
for any window and channel, before and after operators work the queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from backends.models import Channel, ContactStatus, KpiBucket, QueueQuery
from backends.sqlite.backend import SQLiteBackend
from tests.conftest import NOW

WINDOWS = (
    (NOW - timedelta(hours=24), NOW, None),
    (NOW - timedelta(days=7), NOW, None),
    (NOW - timedelta(days=30), NOW, KpiBucket.DAY),
    (NOW - timedelta(days=300), NOW - timedelta(days=3, minutes=17), None),
    (NOW - timedelta(hours=50, minutes=17), NOW - timedelta(hours=3, minutes=5), KpiBucket.HOUR),
    (NOW - timedelta(minutes=40), NOW - timedelta(minutes=10), None),  # no whole hour
    (NOW - timedelta(hours=6), NOW + timedelta(hours=2), None),  # ends in the future
)


@pytest.fixture
def pair(demo_db: Path) -> Iterator[tuple[SQLiteBackend, SQLiteBackend]]:
    """The same store twice: summing the rollup, and reading every contact."""
    fast = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
    exact = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
    exact.use_rollup = False
    yield fast, exact
    fast.close()
    exact.close()


def assert_same(fast: SQLiteBackend, exact: SQLiteBackend) -> None:
    for since, until, bucket in WINDOWS:
        for channel in (None, Channel.EMAIL, Channel.CHAT):
            a = fast.stats(since, until, channel=channel, bucket=bucket)
            b = exact.stats(since, until, channel=channel, bucket=bucket)
            assert a == b, (since, until, channel)


def test_rollup_matches_the_contacts(pair: tuple[SQLiteBackend, SQLiteBackend]) -> None:
    fast, exact = pair
    report = fast.stats(NOW - timedelta(days=300), NOW - timedelta(days=3))
    assert report.resolution.count > 50 and report.sla.met > 0  # the demo has history
    assert_same(fast, exact)


def test_rollup_follows_writes(pair: tuple[SQLiteBackend, SQLiteBackend]) -> None:
    fast, exact = pair
    # the writes happen at NOW; the window ends just after it
    window = (NOW - timedelta(hours=24), NOW + timedelta(minutes=1))
    before = fast.stats(*window)
    query = QueueQuery(unassigned=True, channels=(Channel.EMAIL, Channel.WEB, Channel.CHAT))
    page = fast.queue(query, limit=6).contacts
    assert len(page) == 6
    a, b, c, d, e, f = (x.id for x in page)
    fast.claim(a)
    fast.reply(a, "Hello, we are on it.")
    fast.claim(b)
    fast.set_status(b, ContactStatus.RESOLVED)  # resolved without a reply: abandoned
    fast.claim(c)
    fast.reply(c, "Done.")
    fast.set_status(c, ContactStatus.RESOLVED)
    fast.set_status(c, ContactStatus.OPEN)  # reopened: no longer resolved
    fast.assign(d, "marco")
    fast.assign(d, "giulia")  # and back: a new assignment time
    fast.release(d)
    fast.claim(e)
    fast.set_priority(e, "urgent")  # type: ignore[arg-type]
    fast.set_status(f, ContactStatus.RESOLVED)
    after = fast.stats(*window)
    assert after.first_response.count == before.first_response.count + 2  # a and c
    assert after.resolution.count == before.resolution.count + 2  # b and f (c reopened)
    assert after.abandoned >= before.abandoned
    assert_same(fast, exact)
