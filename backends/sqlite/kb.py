"""The knowledge base in the SQLite store: articles, their full-text index, their use.

Articles are searched with FTS5 (`kb_search`, the same tokenizer as the customer
search): any word of the question matches as a prefix, bm25 weighs title, intents and
tags over the body, and an article tagged with the contact's intent ranks first.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime

from backends.base import InvalidInput, NotFound
from backends.knowledge import check_article
from backends.models import Article, ArticleHit, KbImportResult, KbUsage
from backends.sqlite import rows
from backends.sqlite.store import Store

_WORD = re.compile(r"\w+", re.UNICODE)
#: bm25 weights of kb_search's columns: title, body, intents, tags.
WEIGHTS = (6.0, 1.0, 3.0, 3.0)
#: The words of a question searched at most (the longest first: they say the most).
MAX_WORDS = 24
MAX_LIMIT = 50
#: Words too common in Italian and English questions to say which article answers them.
STOPWORDS = frozenset(
    [
        "il",
        "lo",
        "la",
        "le",
        "gli",
        "un",
        "una",
        "uno",
        "di",
        "da",
        "in",
        "con",
        "su",
        "per",
        "tra",
        "fra",
        "che",
        "non",
        "mi",
        "ti",
        "si",
        "ci",
        "vi",
        "ho",
        "ha",
        "hanno",
        "sono",
        "è",
        "e",
        "ed",
        "o",
        "ma",
        "come",
        "quando",
        "dove",
        "perché",
        "cosa",
        "mio",
        "mia",
        "miei",
        "mie",
        "del",
        "della",
        "dei",
        "delle",
        "al",
        "alla",
        "ai",
        "alle",
        "nel",
        "nella",
        "ancora",
        "già",
        "anche",
        "più",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "and",
        "or",
        "but",
        "not",
        "no",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "my",
        "your",
        "i",
        "you",
        "it",
        "this",
        "that",
        "what",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "from",
        "yet",
        "still",
    ]
)
#: Matches ranked at most before the intent boost picks the best.
WINDOW = 200


def _article(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"],
        slug=row["slug"],
        language=row["language"],
        title=row["title"],
        body=row["body"],
        link=row["link"],
        intents=tuple(json.loads(row["intents"])),
        tags=tuple(json.loads(row["tags"])),
        updated_at=rows.from_ts(row["updated_at"]),
    )


def kb_import(store: Store, articles: tuple[Article, ...], now: int) -> KbImportResult:
    for article in articles:
        check_article(article)
    created = updated = unchanged = 0
    with store.write() as db:
        for a in articles:
            intents, tags = json.dumps(list(a.intents)), json.dumps(list(a.tags))
            old = db.execute(
                "SELECT * FROM kb_articles WHERE slug = ? AND language = ?",
                (a.slug.strip(), a.language.strip().lower()),
            ).fetchone()
            values = (a.title.strip(), a.body, a.link.strip(), intents, tags)
            if (
                old is not None
                and (
                    old["title"],
                    old["body"],
                    old["link"],
                    old["intents"],
                    old["tags"],
                )
                == values
            ):
                unchanged += 1
                continue
            if old is None:
                cur = db.execute(
                    "INSERT INTO kb_articles(slug, language, title, body, link, intents, tags, "
                    "updated_at) VALUES (?,?,?,?,?,?,?,?)",
                    (a.slug.strip(), a.language.strip().lower(), *values, now),
                )
                article_id = int(cur.lastrowid or 0)
                created += 1
            else:
                article_id = old["id"]
                db.execute(
                    "UPDATE kb_articles SET title = ?, body = ?, link = ?, intents = ?, tags = ?, "
                    "updated_at = ? WHERE id = ?",
                    (*values, now, article_id),
                )
                db.execute("DELETE FROM kb_search WHERE rowid = ?", (article_id,))
                updated += 1
            db.execute(
                "INSERT INTO kb_search(rowid, title, body, intents, tags, language) "
                "VALUES (?,?,?,?,?,?)",
                (
                    article_id,
                    a.title,
                    a.body,
                    " ".join(a.intents),
                    " ".join(a.tags),
                    a.language.strip().lower(),
                ),
            )
    return KbImportResult(created=created, updated=updated, unchanged=unchanged)


def kb_articles(db: sqlite3.Connection, lang: str) -> tuple[Article, ...]:
    where, args = ("WHERE language = ?", (lang.lower(),)) if lang else ("", ())
    found = db.execute(
        f"SELECT * FROM kb_articles {where} ORDER BY slug, language", args
    ).fetchall()
    return tuple(_article(r) for r in found)


def kb_article(db: sqlite3.Connection, article_id: int) -> Article:
    row = db.execute("SELECT * FROM kb_articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        raise NotFound(f"no article with id {article_id}")
    return _article(row)


def match_expression(q: str) -> str | None:
    """An FTS5 expression matching any word of `q` as a prefix (quoted: FTS5 syntax in the
    question is inert), or None when it has no word."""
    words = list(
        dict.fromkeys(w for w in _WORD.findall(q.lower()) if len(w) > 1 and w not in STOPWORDS)
    )
    if not words:
        return None
    words.sort(key=len, reverse=True)
    return " OR ".join(f'"{w}"*' for w in words[:MAX_WORDS])


def kb_search(
    db: sqlite3.Connection, q: str, lang: str, intent: str, limit: int
) -> tuple[ArticleHit, ...]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1..{MAX_LIMIT} (got {limit})")
    lang, intent = lang.strip().lower(), intent.strip().lower()
    match = match_expression(q)
    if match is None and not intent:
        return ()
    if match is None:  # the intent's articles
        where = "WHERE EXISTS (SELECT 1 FROM json_each(a.intents) WHERE value = ?)"
        args: list[object] = [intent]
        if lang:
            where += " AND a.language = ?"
            args.append(lang)
        found = db.execute(
            f"SELECT a.*, substr(a.body, 1, 160) AS snippet, 0.0 AS rank FROM kb_articles a "
            f"{where} ORDER BY a.title LIMIT ?",
            (*args, limit),
        ).fetchall()
    else:
        lang_filter = " AND s.language = ?" if lang else ""
        found = db.execute(
            "SELECT a.*, snippet(kb_search, 1, '', '', '…', 24) AS snippet, "
            f"bm25(kb_search, {', '.join(map(str, WEIGHTS))}) AS rank "
            "FROM kb_search s JOIN kb_articles a ON a.id = s.rowid "
            f"WHERE kb_search MATCH ?{lang_filter} ORDER BY rank LIMIT ?",
            (match, *([lang] if lang else []), WINDOW),
        ).fetchall()
    hits = []
    for r in found:
        intents = tuple(json.loads(r["intents"]))
        boost = 1 if intent and intent in intents else 0
        score = round(-float(r["rank"]), 4) + 0.0
        hits.append((-boost, -score, r["id"], r, intents, score))
    hits.sort(key=lambda h: h[:3])
    return tuple(
        ArticleHit(
            id=r["id"],
            slug=r["slug"],
            language=r["language"],
            title=r["title"],
            snippet=" ".join(r["snippet"].split()),
            link=r["link"],
            intents=intents,
            score=score,
        )
        for *_, r, intents, score in hits[:limit]
    )


def kb_use(store: Store, article_id: int, contact_id: int, how: str, agent: str, now: int) -> None:
    if how not in ("answer", "link"):
        raise InvalidInput(f"an article is used as its answer or its link (got {how!r})")
    with store.write() as db:
        if db.execute("SELECT 1 FROM kb_articles WHERE id = ?", (article_id,)).fetchone() is None:
            raise NotFound(f"no article with id {article_id}")
        if db.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is None:
            raise NotFound(f"no contact with id {contact_id}")
        db.execute(
            "INSERT INTO kb_uses(article_id, contact_id, agent, how, at) VALUES (?,?,?,?,?)",
            (article_id, contact_id, agent, how, now),
        )
        db.execute(
            "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
            (now, "contact", contact_id, f"kb-{how}", agent),
        )


def kb_usage(db: sqlite3.Connection, since: datetime, until: datetime) -> KbUsage:
    start, end = rows.to_ts(since), rows.to_ts(until)
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
