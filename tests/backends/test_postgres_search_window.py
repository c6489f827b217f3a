"""PostgreSQL search reads its window of matches (the first ones in customer id order) one
of two ways, the cheaper for how common the words are: walking the customers in id order,
or the full-text index limited to an id range. Either way it is the same window, so the
same hits in the same order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import copy_store
from backends.models import CustomerHit
from backends.postgres import search
from backends.postgres.backend import PostgresBackend
from tests.postgres_server import PostgresServer

WORDS = ["ro", "ros", "rossi", "giu", "giulia ro", "bian", "mar", "fr", "gmail", "347", "zz"]
#: (probe size, walk cost): the first customers only, then a walk or the index for the rest
PATHS = {
    "walk": {"PROBE_IDS": 7, "WALK_COST": 0.0},
    "index": {"PROBE_IDS": 7, "WALK_COST": 1e9},
    "index, short range": {"PROBE_IDS": 7, "WALK_COST": 1e9, "RANGE_MARGIN": 0.1},
    "index, ranges growing": {"PROBE_IDS": 7, "WALK_COST": 1e9, "RANGE_MARGIN": 0.003},
}


@pytest.fixture(scope="module")
def store(postgres_server: PostgresServer, demo_template: Path) -> Iterator[PostgresBackend]:
    url = postgres_server.create(postgres_server.new_name())
    assert copy_store(str(demo_template), url).problems == []
    backend = PostgresBackend(url, agent="admin", read_only=True)
    yield backend
    backend.close()


def _hits(store: PostgresBackend, word: str) -> tuple[CustomerHit, ...]:
    return store.search_customers(word, limit=20)


@pytest.mark.parametrize("path", PATHS)
def test_either_way_the_window_is_the_first_matches_in_id_order(
    store: PostgresBackend, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PATHS[path].items():
        monkeypatch.setattr(search, name, value)
    seen = 0
    with store.store.read() as db:
        for word in WORDS:
            query = search.ts_query(word)
            assert query is not None
            tsq, param, _ = query
            for size in (1, 5, 40, 1000):
                expected = [
                    r[0]
                    for r in db.execute(
                        f"SELECT customer_id FROM customer_search, {tsq} AS q "
                        "WHERE doc @@ q ORDER BY customer_id LIMIT %s",
                        (param, size),
                    )
                ]
                assert [r[0] for r in search.window(db, tsq, param, size)] == expected
                seen += len(expected)
    assert seen > 100  # the words do match (both sides of the rule are exercised)


@pytest.mark.parametrize("path", PATHS)
def test_either_way_search_finds_the_same_hits_in_the_same_order(
    store: PostgresBackend, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    usual = {word: _hits(store, word) for word in [*WORDS, "r", "3", "rossii"]}
    assert sum(map(len, usual.values())) > 100
    for name, value in PATHS[path].items():
        monkeypatch.setattr(search, name, value)
    assert {word: _hits(store, word) for word in usual} == usual


def test_search_statements_are_planned_for_their_words_never_prepared(
    store: PostgresBackend,
) -> None:
    """psycopg prepares a statement run five times on a connection; PostgreSQL may then plan
    it once for any words, which scans every match of a common prefix."""
    fresh = PostgresBackend(store.store.url, agent="admin", read_only=True)
    try:
        for _ in range(4):
            for word in ("ro", "rossi", "giulia ro", "347", "r", "rossii"):
                assert fresh.search_customers(word)
        with fresh.store.read() as db:
            prepared = [
                r[0]
                for r in db.execute("SELECT statement FROM pg_prepared_statements")
                if "customer_search" in r[0]
            ]
    finally:
        fresh.close()
    assert prepared == []
