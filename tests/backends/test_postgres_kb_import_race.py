"""Knowledge-base imports running at once on one PostgreSQL database, each in a process of
its own: articles that share words (the same words, met in another order) are imported
by both, and both imports succeed, none answered "a concurrent write won", and the word
counts the search weighs words by are what the imports, one after the other, would leave."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from typing import Any

from backends import kb_search, open_factory
from backends.models import Article
from backends.postgres.store import PgStore
from tests.postgres_server import PostgresServer

ROUNDS = 6
PER_ROUND = 16
WORDS = [f"word{n:02d}" for n in range(40)]


def _articles(who: int, round_: int) -> tuple[Article, ...]:
    """This importer's articles of a round: new ones of its own, the shared ones (created
    by either, changed by both), each with words of the shared vocabulary, in an order of
    its own."""
    pick = random.Random(f"{who}/{round_}")
    out = []
    for n in range(PER_ROUND):
        shared = n % 2 == 0
        slug = f"shared-{round_}-{n}" if shared else f"own-{who}-{round_}-{n}"
        words = pick.sample(WORDS, 12)
        out.append(
            Article(
                id=0,
                slug=slug,
                language="en",
                title=f"{words[0]} {words[1]}",
                body=" ".join(words[2:]) + f" by importer {who}",
                tags=(words[-1],),
            )
        )
    pick.shuffle(out)
    return tuple(out)


def _importer(url: str, who: int, start: Any, results: Any) -> None:
    """One importer in a process of its own; every round starts with the other's."""
    factory = open_factory(url, read_audit=False)
    try:
        backend = factory("operator")
        failures = []
        for round_ in range(ROUNDS):
            start.wait(60)
            try:
                backend.kb_import(_articles(who, round_))
            except Exception as e:  # noqa: BLE001 - the test reports it
                failures.append(f"round {round_}: {type(e).__name__}: {e}")
        results.put(failures)
    finally:
        factory.close()


def test_two_kb_imports_at_once_both_succeed_and_count_each_word_once(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create(postgres_server.new_name("vista_kb"))
    PgStore(url).close()  # migrated once, before the race
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    workers = [spawn.Process(target=_importer, args=(url, who, start, results)) for who in (1, 2)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=180) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    assert outcomes == [[], []]

    store = PgStore(url)
    try:
        with store.read() as db:
            counted = dict(db.execute("SELECT term, docs FROM kb_terms WHERE docs <> 0"))
            stored = db.execute(
                "SELECT id, slug, language, title, body, link, intents, tags, updated_at "
                "FROM kb_articles"
            ).fetchall()
    finally:
        store.close()
    assert len(stored) == ROUNDS * (PER_ROUND // 2) * 3  # own ones of each, shared once
    expected: Counter[str] = Counter()
    for row in stored:
        expected.update(kb_search.terms_of_row(row))
    assert counted == dict(expected)
