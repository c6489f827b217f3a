"""The knowledge base in the PostgreSQL store: articles, their full-text index, their use.

An article's words are a weighted tsvector (A title, B intents, C tags, D body), searched
with the rarest words of the question (backends.kb_search, as the SQLite store does) and
ranked by ts_rank with the SQLite store's bm25 column weights (6/3/3/1, scaled to 1.0 for
the title); the contact's intent's articles come first.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import Any

import psycopg

from backends import kb_search as pure
from backends import kb_writes, records
from backends.base import NotFound
from backends.models import Article, KbUsage
from backends.postgres import audit, rows
from backends.postgres.store import scalar

Conn = psycopg.Connection[Any]

_TITLE, _BODY, _INTENTS, _TAGS = pure.WEIGHTS
#: ts_rank's weights, in its order {D, C, B, A}: body, tags, intents, title.
TS_WEIGHTS = "{" + ", ".join(f"{w / _TITLE:.4f}" for w in (_BODY, _TAGS, _INTENTS, _TITLE)) + "}"
#: ts_rank normalisation 1: the score divided by 1 + log(the article's length), as bm25
#: discounts long articles.
TS_NORMALISATION = 1
_LEXEME = re.compile(r"[^\W_]+")
_ARTICLE_COLUMNS = "id, slug, language, title, body, link, intents, tags, updated_at"


#: A use of an article.
_USE = "INSERT INTO kb_uses(article_id, contact_id, agent, how, at) VALUES (%s,%s,%s,%s,%s)"


#: The advisory lock (two-key form, as the audit chain's) that keeps knowledge-base imports
#: one after the other: each moves the counts of many words, in one transaction.
IMPORT_LOCK = (0x56495354, 0x4B42494D)  # "VIST", "KBIM"


def _lock(db: Conn) -> None:
    db.execute("SELECT pg_advisory_xact_lock(%s, %s)", IMPORT_LOCK)


def _find(db: Conn, slug: str, language: str) -> Any:
    return db.execute(
        f"SELECT {_ARTICLE_COLUMNS} FROM kb_articles WHERE slug = %s AND language = %s",
        (slug, language),
    ).fetchone()


def _insert(
    db: Conn, slug: str, language: str, values: kb_writes.Values, _a: Article, now: int
) -> None:
    db.execute(
        "INSERT INTO kb_articles(slug, language, title, body, link, intents, tags, "
        "updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
        (slug, language, *values, now),
    )


def _update(db: Conn, old: Any, values: kb_writes.Values, _a: Article, now: int) -> None:
    db.execute(
        "UPDATE kb_articles SET title = %s, body = %s, link = %s, intents = %s, "
        "tags = %s, updated_at = %s WHERE id = %s",
        (*values, now, old["id"]),
    )


def _count_terms(db: Conn, moved: list[tuple[str, int]]) -> None:
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO kb_terms(term, docs) VALUES (%s, %s) "
            "ON CONFLICT (term) DO UPDATE SET docs = kb_terms.docs + excluded.docs",
            moved,
        )


def _add_use(db: Conn, article_id: int, contact_id: int, agent: str, how: str, now: int) -> None:
    db.execute(_USE, (article_id, contact_id, agent, how, now))


def _has_article(db: Conn, article_id: int) -> bool:
    rows.check_id(article_id, "article id")
    return scalar(db, "SELECT 1 FROM kb_articles WHERE id = %s", (article_id,)) is not None


def _has_contact(db: Conn, contact_id: int) -> bool:
    rows.check_id(contact_id, "contact id")
    return scalar(db, "SELECT 1 FROM contacts WHERE id = %s", (contact_id,)) is not None


#: The audit trail and the change feed the flows write to.
LOG = (audit.record, rows.log_change)
ROWS = kb_writes.KbRows(
    _lock, _find, _insert, _update, _count_terms, _has_article, _has_contact, _add_use, *LOG
)
#: (store, articles, now, actor): see `kb_writes.import_articles`.
kb_import = partial(kb_writes.import_articles, ROWS)
#: (store, article_id, contact_id, how, agent, now, actor): see `kb_writes.use`.
kb_use = partial(kb_writes.use, ROWS)


def kb_articles(db: Conn, lang: str) -> tuple[Article, ...]:
    where, args = ("WHERE language = %s", (lang.lower(),)) if lang else ("", ())
    found = db.execute(
        f"SELECT {_ARTICLE_COLUMNS} FROM kb_articles {where} ORDER BY slug, language", args
    ).fetchall()
    return tuple(pure.article(r) for r in found)


def kb_article(db: Conn, article_id: int) -> Article:
    rows.check_id(article_id, "article id")
    row = db.execute(
        f"SELECT {_ARTICLE_COLUMNS} FROM kb_articles WHERE id = %s", (article_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no article with id {article_id}")
    return pure.article(row)


def ts_query(words: list[str]) -> str:
    """A to_tsquery text matching any of `words` (folded words: letters and digits only,
    a word the index splits, as refund_status, is a phrase)."""
    return " | ".join(
        "(" + " <-> ".join(parts) + ")" for w in words if (parts := _LEXEME.findall(w))
    )


def _query(db: Conn, q: str) -> str | None:
    """The tsquery text of the rarest words of `q`, or None when it has none that says
    anything."""
    words = pure.question_words(q)
    if not words:
        return None
    found = dict(
        db.execute("SELECT term, docs FROM kb_terms WHERE term = ANY(%s)", (words,)).fetchall()
    )
    total = int(scalar(db, "SELECT count(*) FROM kb_articles"))
    return ts_query(pure.rare_words(words, found, total)) or None


def _ranked(db: Conn, query: str, language: str) -> list[tuple[int, float]]:
    in_language = " AND language = %s" if language else ""
    found = db.execute(
        f"SELECT id, ts_rank('{TS_WEIGHTS}', doc, q, {TS_NORMALISATION}) "
        "FROM kb_articles, to_tsquery('simple', %s) AS q "
        f"WHERE doc @@ q{in_language} ORDER BY 2 DESC, id LIMIT %s",
        (query, *([language] if language else []), pure.WINDOW),
    )
    return [(r[0], float(r[1])) for r in found]


def _tagged(db: Conn, intent: str, language: str, n: int) -> list[int]:
    in_language = " AND language = %s" if language else ""
    found = db.execute(
        f"SELECT id FROM kb_articles WHERE intents::jsonb ? %s{in_language} ORDER BY id LIMIT %s",
        (intent, *([language] if language else []), n),
    )
    return [r[0] for r in found]


def _snippets(db: Conn, query: str, ids: list[int]) -> dict[int, str]:
    return dict(
        db.execute(
            "SELECT id, ts_headline('simple', body, to_tsquery('simple', %s), "
            '\'StartSel="", StopSel="", MaxWords=24, MinWords=12, ShortWord=1, '
            "MaxFragments=1, FragmentDelimiter=…') FROM kb_articles "
            "WHERE id = ANY(%s) AND doc @@ to_tsquery('simple', %s)",
            (query, ids, query),
        ).fetchall()
    )


def _rows(db: Conn, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {
        r["id"]: r
        for r in db.execute(
            "SELECT id, slug, language, title, link, intents, substr(body, 1, %s) AS body "
            "FROM kb_articles WHERE id = ANY(%s)",
            (pure.SNIPPET_CHARS, ids),
        )
    }


SEARCH = pure.SearchRows(_query, _ranked, _rows, _tagged, _snippets)
#: (db, q, lang, intent, limit): see `kb_search.search`.
kb_search = partial(pure.search, SEARCH)


def kb_usage(db: Conn, since: datetime, until: datetime) -> KbUsage:
    """Uses, and the contacts resolved with an article, in one statement; the top ten."""
    window = {"start": records.to_ts(since), "end": records.to_ts(until)}
    counts = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE how = 'answer'), "
        "count(*) FILTER (WHERE how = 'link'), count(DISTINCT contact_id), "
        "(SELECT count(*) FROM contacts c WHERE c.resolved_at >= %(start)s "
        "AND c.resolved_at <= %(end)s AND c.status = 'resolved' AND EXISTS (SELECT 1 "
        "FROM kb_uses u WHERE u.contact_id = c.id AND u.at <= c.resolved_at)) "
        "FROM kb_uses WHERE at >= %(start)s AND at <= %(end)s",
        window,
    ).fetchone() or (0, 0, 0, 0, 0)  # an aggregate's row is always there
    top = db.execute(
        "SELECT a.id, a.slug, a.language, a.title, a.link, a.intents, count(*) AS uses "
        "FROM kb_uses u JOIN kb_articles a ON a.id = u.article_id "
        "WHERE u.at >= %(start)s AND u.at <= %(end)s GROUP BY a.id "
        "ORDER BY uses DESC, a.id LIMIT 10",
        window,
    ).fetchall()
    return pure.usage(since, until, counts[:4], int(counts[4]), top)
