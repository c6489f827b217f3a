"""The supervisor KPIs on PostgreSQL are the SQLite store's figures: the same demo store,
moved with `vista migrate`, gives the same reports for every window, bucket and channel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from backends import copy_store
from backends.base import Capability, InvalidInput
from backends.models import Channel, KpiBucket
from backends.postgres.backend import PostgresBackend
from backends.sqlite.backend import SQLiteBackend
from tests.conftest import NOW
from tests.postgres_server import PostgresServer


@pytest.fixture
def both(
    postgres_server: PostgresServer, demo_db: Path
) -> Iterator[tuple[SQLiteBackend, PostgresBackend]]:
    url = postgres_server.create(postgres_server.new_name())
    assert copy_store(str(demo_db), url).problems == []
    lite = SQLiteBackend(demo_db, agent="admin", clock=lambda: NOW)
    lite.use_rollup = False  # the figures from the contacts, as PostgreSQL reads them
    pg = PostgresBackend(url, agent="admin", clock=lambda: NOW)
    yield lite, pg
    lite.close()
    pg.close()


WINDOWS = [
    {},
    {"since": NOW - timedelta(days=7), "bucket": KpiBucket.DAY},
    {"since": NOW - timedelta(days=30), "until": NOW - timedelta(days=2)},
    {"since": NOW - timedelta(hours=5, minutes=17), "until": NOW - timedelta(minutes=3)},
    {"channel": Channel.EMAIL, "since": NOW - timedelta(days=14)},
    {"channel": Channel.WHATSAPP, "max_open": 1, "at_risk_minutes": 120},
]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: ",".join(sorted(w)) or "default")
def test_the_report_is_the_sqlite_report(
    both: tuple[SQLiteBackend, PostgresBackend], window: dict[str, object]
) -> None:
    lite, pg = both
    assert Capability.KPIS in pg.capabilities
    mine, theirs = pg.stats(**window), lite.stats(**window)  # type: ignore[arg-type]
    assert mine.arrivals > 0 or window.get("channel")
    assert mine == theirs


def test_at_risk_and_agent_load_are_the_sqlite_figures(
    both: tuple[SQLiteBackend, PostgresBackend],
) -> None:
    lite, pg = both
    for minutes in (0, 30, 600):
        for breached in (False, True):
            assert pg.at_risk(minutes, include_breached=breached) == lite.at_risk(
                minutes, include_breached=breached
            )
    assert pg.at_risk(600, include_breached=True, limit=500)
    assert pg.agent_load() == lite.agent_load()
    assert pg.agent_load(NOW - timedelta(days=3), max_open=2) == lite.agent_load(
        NOW - timedelta(days=3), max_open=2
    )


def test_bad_windows_are_refused_alike(both: tuple[SQLiteBackend, PostgresBackend]) -> None:
    lite, pg = both
    for bad in ({"since": NOW, "until": NOW}, {"since": NOW - timedelta(days=401)}):
        for backend in (lite, pg):
            with pytest.raises(InvalidInput):
                backend.stats(**bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        pg.at_risk(limit=0)
