"""Searching the knowledge base, for every store: which words of a question are searched
(the rarest, without stopwords, folded as the index folds them), the order of the hits
(the contact's intent's articles first, then by the store's relevance score), and the
articles' models. Pure: the stores hold the index and score the matches (SQLite's bm25,
PostgreSQL's ts_rank, with the same column weights).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backends import records
from backends.base import InvalidInput
from backends.models import Article, ArticleHit, KbUsage
from backends.ranking import fold

__all__ = ["fold"]

_WORD = re.compile(r"\w+", re.UNICODE)
#: Weights of an article's columns in the relevance score: title, body, intents, tags.
WEIGHTS = (6.0, 1.0, 3.0, 3.0)
#: The words of a question searched at most (the longest first: they say the most).
MAX_WORDS = 24
MAX_LIMIT = 50
#: Words too common in Italian and English questions to say which article answers them.
_STOPWORD_TEXT = (
    "il lo la le gli un una uno di da in con su per tra fra che non mi ti si ci vi "
    "ho ha hanno sono e ed o ma come quando dove perche cosa mio mia miei mie del "
    "della dei delle al alla ai alle nel nella ancora gia anche piu "
    "the a an of to on at for with and or but not no is are was were be been have "
    "has had do does did my your i you it this that what when where why how can "
    "could would should will from yet still"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
#: The rarest words of a question searched (those that tell articles apart): at most
#: RARE_WORDS of those held by at most RARE_SHARE of the articles.
RARE_WORDS = 8
RARE_SHARE = 0.1
RARE_FLOOR = 100  # in a small knowledge base, every word held by up to half of it
#: An article's snippet when no word of the question is in it: its first characters.
SNIPPET_CHARS = 160
#: Matches ranked at most before the intent boost picks the best.
WINDOW = 200
#: The window of `kb_usage` when none is given.
USAGE_WINDOW = timedelta(days=7)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1..{MAX_LIMIT} (got {limit})")


def usage_window(
    since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The window `kb_usage` counts: until now, the week before, unless given."""
    end = until or now
    return since or end - USAGE_WINDOW, end


def article(row: Any) -> Article:
    """A `kb_articles` row (read by column name) as a model."""
    return Article(
        id=row["id"],
        slug=row["slug"],
        language=row["language"],
        title=row["title"],
        body=row["body"],
        link=row["link"],
        intents=tuple(json.loads(row["intents"])),
        tags=tuple(json.loads(row["tags"])),
        updated_at=records.from_ts(row["updated_at"]),
    )


def stored(a: Article) -> tuple[str, str, str, str, str]:
    """An article's title, body, link, intents and tags as stored."""
    return (
        a.title.strip(),
        a.body,
        a.link.strip(),
        json.dumps(list(a.intents)),
        json.dumps(list(a.tags)),
    )


def unchanged(old: Any, values: tuple[str, str, str, str, str]) -> bool:
    """Whether a stored article (a row, or None) already holds `values` (as `stored`)."""
    return (
        old is not None
        and (
            old["title"],
            old["body"],
            old["link"],
            old["intents"],
            old["tags"],
        )
        == values
    )


def terms(a: Article) -> set[str]:
    """The words an article holds, as kb_terms counts them."""
    return set(fold(" ".join((a.title, a.body, *a.intents, *a.tags))))


def terms_of_row(row: Any) -> set[str]:
    """The words a stored article holds."""
    return terms(article(row))


def question_words(q: str) -> list[str]:
    """The words of `q` worth searching, as the index holds them (lower case, without
    diacritics), no stopwords, each once, longest first."""
    words = list(dict.fromkeys(w for w in fold(q) if len(w) > 1 and w not in STOPWORDS))
    words.sort(key=len, reverse=True)
    return words[:MAX_WORDS]


def rare_words(words: list[str], docs: Mapping[str, int], total: int) -> list[str]:
    """The words of a question to search, given how many of the `total` articles hold each.

    A word held by half the articles or more says nothing, and one held by many little,
    yet ranking every article that holds it costs time in proportion: the words kept are
    those held by at most RARE_SHARE of the articles or RARE_FLOOR (the RARE_WORDS
    rarest), or, when there are none, the two least common of the rest."""
    held = sorted((n, word) for word in words if 0 < (n := docs.get(word, 0)) <= total / 2)
    rare = max(total * RARE_SHARE, RARE_FLOOR)
    useful = [(n, word) for n, word in held if n <= rare][:RARE_WORDS]
    if not useful:  # only common words: the two least common
        useful = held[:2]
    return [word for _, word in useful]


def intent_words(intent: str) -> str:
    """An intent's words as the index holds them ("refund_status": "refund status")."""
    return " ".join(_WORD.findall(intent.strip().lower().replace("_", " ")))


def language_word(lang: str) -> str:
    return "".join(_WORD.findall(lang.lower()))


def ordered(
    ranked: Iterable[tuple[int, float]],
    intents_of: Mapping[int, tuple[str, ...]],
    intent: str,
) -> list[tuple[int, float, int]]:
    """Scored matches (id, score: higher is better) as hits (0 for the intent's articles,
    score, id), the intent's articles first, then by score, then by id."""
    hits = []
    for rowid, score in ranked:
        if rowid in intents_of:
            has_intent = bool(intent) and intent in intents_of[rowid]
            hits.append((0 if has_intent else 1, round(score, 4) + 0.0, rowid))
    hits.sort(key=lambda h: (h[0], -h[1], h[2]))
    return hits


def add_tagged(
    hits: list[tuple[int, float, int]],
    extra: Iterable[int],
    intents_of: Mapping[int, tuple[str, ...]],
    intent: str,
) -> None:
    """The intent's articles the words did not find, after those they did."""
    tagged = [(0, 0.0, rowid) for rowid in extra if intent in intents_of.get(rowid, ())]
    first = sum(1 for h in hits if h[0] == 0)
    hits[first:first] = tagged


def needs_tagged(hits: list[tuple[int, float, int]], intent: str, limit: int) -> bool:
    """Whether the intent's articles are looked up besides the words' matches."""
    return bool(intent_words(intent)) and sum(1 for h in hits if h[0] == 0) < limit


def hit(row: Any, score: float, snippet: str | None) -> ArticleHit:
    """A found article (a row with id, slug, language, title, link, intents, body)."""
    text = snippet or row["body"][:SNIPPET_CHARS]
    return ArticleHit(
        id=row["id"],
        slug=row["slug"],
        language=row["language"],
        title=row["title"],
        snippet=" ".join(str(text).split()),
        link=row["link"],
        intents=tuple(json.loads(row["intents"])),
        score=score,
    )


@dataclass(frozen=True, slots=True)
class SearchRows:
    """A store's SQL of a knowledge-base search (each in the caller's transaction)."""

    #: (db, question): the store's query of the question's rarest words, or None.
    query: Callable[[Any, str], str | None]
    #: (db, query, language word or ""): up to WINDOW matches as (id, score: higher is
    #: better), best first.
    ranked: Callable[[Any, str, str], list[tuple[int, float]]]
    #: (db, ids): those articles' rows (id, slug, language, title, link, intents, the
    #: body's first SNIPPET_CHARS characters) by id.
    rows: Callable[[Any, list[int]], dict[int, Any]]
    #: (db, intent, language word or "", n): up to n ids of the intent's articles, by id.
    tagged: Callable[[Any, str, str, int], list[int]]
    #: (db, query, ids): a snippet of each article that matches the query, by id.
    snippets: Callable[[Any, str, list[int]], dict[int, str]]


def search(
    rows: SearchRows, db: Any, q: str, lang: str, intent: str, limit: int
) -> tuple[ArticleHit, ...]:
    """See `Backend.kb_search`: the question's rarest words ranked, the intent's articles
    first (found by their tag when the words miss them), at most `limit`."""
    check_limit(limit)
    intent = intent.strip().lower()
    query = rows.query(db, q)
    if query is None and not intent_words(intent):
        return ()
    language = language_word(lang)
    ranked = rows.ranked(db, query, language) if query is not None else []
    articles = rows.rows(db, [rowid for rowid, _ in ranked])
    hits = ordered(ranked, _intents(articles), intent)
    if needs_tagged(hits, intent, limit):
        seen = {h[2] for h in hits}
        found = rows.tagged(db, intent, language, limit + len(seen))
        extra = [rowid for rowid in found if rowid not in seen]
        articles.update(rows.rows(db, extra))
        add_tagged(hits, extra, _intents(articles), intent)
    best = hits[:limit]
    snippets: dict[int, str] = {}
    if query is not None and best:  # a snippet re-reads its article: only for those shown
        snippets = rows.snippets(db, query, [h[2] for h in best])
    return tuple(hit(articles[rowid], score, snippets.get(rowid)) for _, score, rowid in best)


def _intents(articles: Mapping[int, Any]) -> dict[int, tuple[str, ...]]:
    return {rowid: tuple(json.loads(r["intents"])) for rowid, r in articles.items()}


def check_use(how: str) -> None:
    if how not in ("answer", "link"):
        raise InvalidInput(f"an article is used as its answer or its link (got {how!r})")


def usage(
    since: datetime, until: datetime, totals: Any, resolved: int, top: Iterable[Any]
) -> KbUsage:
    """The KPIs of article use: `totals` is (uses, answers, links, contacts); `top` rows
    of the most used articles with their `uses`."""
    return KbUsage(
        since=since,
        until=until,
        uses=totals[0],
        answers=totals[1],
        links=totals[2],
        contacts=totals[3],
        resolved_with_article=resolved,
        top=tuple(
            ArticleHit(
                id=r["id"],
                slug=r["slug"],
                language=r["language"],
                title=r["title"],
                snippet="",
                link=r["link"],
                intents=tuple(json.loads(r["intents"])),
                score=float(r["uses"]),
            )
            for r in top
        ),
    )
