"""The knowledge base in the SQLite store: articles, their full-text index, their use.

Articles are searched with FTS5 (`kb_search`, the same tokenizer as the customer
search): the rarest words of the question (backends.kb_search) match, bm25 weighs title,
intents and tags over the body, and an article tagged with the contact's intent ranks first.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import partial

from backends import kb_search as pure
from backends import kb_writes, records
from backends.base import NotFound
from backends.models import Article, KbUsage
from backends.sqlite import audit, rows

#: bm25 weights of kb_search's columns: title, body, intents, tags, language (a filter).
WEIGHTS = (*pure.WEIGHTS, 0.0)
MAX_LIMIT = pure.MAX_LIMIT
fold = pure.fold
question_words = pure.question_words


#: A use of an article.
_USE = "INSERT INTO kb_uses(article_id, contact_id, agent, how, at) VALUES (?,?,?,?,?)"


def _lock(db: sqlite3.Connection) -> None:
    """Nothing: the store's writers are one after the other already."""


def _find(db: sqlite3.Connection, slug: str, language: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM kb_articles WHERE slug = ? AND language = ?", (slug, language)
    ).fetchone()
    return row


def _insert(
    db: sqlite3.Connection,
    slug: str,
    language: str,
    values: kb_writes.Values,
    a: Article,
    now: int,
) -> None:
    cur = db.execute(
        "INSERT INTO kb_articles(slug, language, title, body, link, intents, tags, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?)",
        (slug, language, *values, now),
    )
    _index(db, int(cur.lastrowid or 0), a)


def _update(
    db: sqlite3.Connection, old: sqlite3.Row, values: kb_writes.Values, a: Article, now: int
) -> None:
    db.execute(
        "UPDATE kb_articles SET title = ?, body = ?, link = ?, intents = ?, tags = ?, "
        "updated_at = ? WHERE id = ?",
        (*values, now, old["id"]),
    )
    db.execute("DELETE FROM kb_search WHERE rowid = ?", (old["id"],))
    _index(db, old["id"], a)


def _index(db: sqlite3.Connection, article_id: int, a: Article) -> None:
    """An article's words into the full-text index."""
    db.execute(
        "INSERT INTO kb_search(rowid, title, body, intents, tags, language) VALUES (?,?,?,?,?,?)",
        (
            article_id,
            a.title,
            a.body,
            " ".join(a.intents),
            " ".join(a.tags),
            a.language.strip().lower(),
        ),
    )


def _count_terms(db: sqlite3.Connection, moved: list[tuple[str, int]]) -> None:
    db.executemany(
        "INSERT INTO kb_terms(term, docs) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET docs = docs + excluded.docs",
        moved,
    )


def _has_article(db: sqlite3.Connection, article_id: int) -> bool:
    return (
        db.execute("SELECT 1 FROM kb_articles WHERE id = ?", (article_id,)).fetchone() is not None
    )


def _has_contact(db: sqlite3.Connection, contact_id: int) -> bool:
    return db.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is not None


def _add_use(
    db: sqlite3.Connection, article_id: int, contact_id: int, agent: str, how: str, now: int
) -> None:
    db.execute(_USE, (article_id, contact_id, agent, how, now))


#: The audit trail and the change feed the flows write to.
LOG = (audit.record, rows.log_change)
ROWS = kb_writes.KbRows(
    _lock, _find, _insert, _update, _count_terms, _has_article, _has_contact, _add_use, *LOG
)
#: (store, articles, now, actor): see `kb_writes.import_articles`.
kb_import = partial(kb_writes.import_articles, ROWS)
#: (store, article_id, contact_id, how, agent, now, actor): see `kb_writes.use`.
kb_use = partial(kb_writes.use, ROWS)


def kb_articles(db: sqlite3.Connection, lang: str) -> tuple[Article, ...]:
    where, args = ("WHERE language = ?", (lang.lower(),)) if lang else ("", ())
    found = db.execute(
        f"SELECT * FROM kb_articles {where} ORDER BY slug, language", args
    ).fetchall()
    return tuple(pure.article(r) for r in found)


def kb_article(db: sqlite3.Connection, article_id: int) -> Article:
    row = db.execute("SELECT * FROM kb_articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        raise NotFound(f"no article with id {article_id}")
    return pure.article(row)


def match_expression(db: sqlite3.Connection, q: str) -> str | None:
    """An FTS5 expression matching any of the rarest words of `q` (quoted: FTS5 syntax in
    the question is inert), or None when it has none that says anything."""
    words = pure.question_words(q)
    if not words:
        return None
    found = dict(
        db.execute(
            f"SELECT term, docs FROM kb_terms WHERE term IN ({','.join('?' * len(words))})",
            words,
        ).fetchall()
    )
    total = db.execute("SELECT count(*) FROM kb_articles").fetchone()[0]
    useful = pure.rare_words(words, found, total)
    if not useful:
        return None
    return "{title body intents tags} : (" + " OR ".join(f'"{word}"' for word in useful) + ")"


def _ranked(db: sqlite3.Connection, words: str, language: str) -> list[tuple[int, float]]:
    """Ranked on the index alone; the language is an indexed term, so that no article's
    row is read to filter it."""
    in_language = f' AND language : "{language}"' if language else ""
    return [
        (rowid, -float(rank))
        for rowid, rank in db.execute(
            f"SELECT rowid, bm25(kb_search, {', '.join(map(str, WEIGHTS))}) FROM kb_search "
            "WHERE kb_search MATCH ? ORDER BY 2 LIMIT ?",
            (f"({words}){in_language}", pure.WINDOW),
        )
    ]


def _tagged(db: sqlite3.Connection, intent: str, language: str, n: int) -> list[int]:
    in_language = f' AND language : "{language}"' if language else ""
    return [
        rowid
        for (rowid,) in db.execute(
            "SELECT rowid FROM kb_search WHERE kb_search MATCH ? ORDER BY rowid LIMIT ?",
            (f'intents : "{pure.intent_words(intent)}"{in_language}', n),
        )
    ]


def _snippets(db: sqlite3.Connection, words: str, ids: list[int]) -> dict[int, str]:
    return dict(
        db.execute(
            "SELECT rowid, snippet(kb_search, 1, '', '', '…', 24) FROM kb_search "
            f"WHERE kb_search MATCH ? AND rowid IN ({','.join('?' * len(ids))})",
            (words, *ids),
        ).fetchall()
    )


def _rows(db: sqlite3.Connection, ids: list[int]) -> dict[int, sqlite3.Row]:
    if not ids:
        return {}
    return {
        r["id"]: r
        for r in db.execute(
            "SELECT id, slug, language, title, link, intents, substr(body, 1, ?) AS body "
            f"FROM kb_articles WHERE id IN ({','.join('?' * len(ids))})",
            (pure.SNIPPET_CHARS, *ids),
        )
    }


SEARCH = pure.SearchRows(match_expression, _ranked, _rows, _tagged, _snippets)
#: (db, q, lang, intent, limit): see `kb_search.search`.
kb_search = partial(pure.search, SEARCH)


def kb_usage(db: sqlite3.Connection, since: datetime, until: datetime) -> KbUsage:
    start, end = records.to_ts(since), records.to_ts(until)
    totals = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE how = 'answer'), "
        "count(*) FILTER (WHERE how = 'link'), count(DISTINCT contact_id) "
        "FROM kb_uses WHERE at >= ? AND at <= ?",
        (start, end),
    ).fetchone()
    resolved = db.execute(
        "SELECT count(*) FROM contacts c WHERE c.resolved_at >= ? AND c.resolved_at <= ? "
        "AND c.status = 'resolved' AND EXISTS (SELECT 1 FROM kb_uses u WHERE u.contact_id = c.id "
        "AND u.at <= c.resolved_at)",
        (start, end),
    ).fetchone()[0]
    top = db.execute(
        "SELECT a.*, count(*) AS uses FROM kb_uses u JOIN kb_articles a ON a.id = u.article_id "
        "WHERE u.at >= ? AND u.at <= ? GROUP BY a.id ORDER BY uses DESC, a.id LIMIT 10",
        (start, end),
    ).fetchall()
    return pure.usage(since, until, totals, resolved, top)
