"""The knowledge base in the SQLite store: articles, their full-text index, their use.

Articles are searched with FTS5 (`kb_search`, the same tokenizer as the customer
search): any word of the question matches as a prefix, bm25 weighs title, intents and
tags over the body, and an article tagged with the contact's intent ranks first.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from datetime import datetime

from backends import records
from backends.base import InvalidInput, NotFound
from backends.knowledge import check_article
from backends.models import Article, ArticleHit, KbImportResult, KbUsage
from backends.sqlite import audit
from backends.sqlite.store import Store

_WORD = re.compile(r"\w+", re.UNICODE)
#: bm25 weights of kb_search's columns: title, body, intents, tags, language (a filter).
WEIGHTS = (6.0, 1.0, 3.0, 3.0, 0.0)
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
        "e",
        "e",
        "ed",
        "o",
        "ma",
        "come",
        "quando",
        "dove",
        "perche",
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
        "gia",
        "anche",
        "piu",
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
#: The rarest words of a question searched (those that tell articles apart): at most
#: RARE_WORDS of those held by at most RARE_SHARE of the articles.
RARE_WORDS = 8
RARE_SHARE = 0.1
RARE_FLOOR = 100  # in a small knowledge base, every word held by up to half of it
#: An article's snippet when no word of the question is in it: its first characters.
SNIPPET_CHARS = 160
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
        updated_at=records.from_ts(row["updated_at"]),
    )


def kb_import(
    store: Store, articles: tuple[Article, ...], now: int, actor: audit.Actor | None = None
) -> KbImportResult:
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
            if old is not None:
                _count_terms(
                    db,
                    _terms(
                        Article(
                            id=old["id"],
                            slug=old["slug"],
                            language=old["language"],
                            title=old["title"],
                            body=old["body"],
                            intents=tuple(json.loads(old["intents"])),
                            tags=tuple(json.loads(old["tags"])),
                        )
                    ),
                    -1,
                )
            _count_terms(db, _terms(a), 1)
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
        if actor is not None:
            counts = {"created": created, "updated": updated, "unchanged": unchanged}
            audit.record(db, actor, now, "kb-import", "kb", len(articles), detail=counts)
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


def fold(text: str) -> list[str]:
    """The words the index makes of `text`: lower case, without diacritics."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall("".join(ch for ch in plain if not unicodedata.combining(ch)))


def _terms(article: Article) -> set[str]:
    return set(fold(" ".join((article.title, article.body, *article.intents, *article.tags))))


def _count_terms(db: sqlite3.Connection, terms: set[str], step: int) -> None:
    db.executemany(
        "INSERT INTO kb_terms(term, docs) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET docs = docs + excluded.docs",
        [(term, step) for term in terms],
    )


def question_words(q: str) -> list[str]:
    """The words of `q` worth searching, as the index holds them (lower case, without
    diacritics), no stopwords, each once, longest first."""
    words = list(dict.fromkeys(w for w in fold(q) if len(w) > 1 and w not in STOPWORDS))
    words.sort(key=len, reverse=True)
    return words[:MAX_WORDS]


def match_expression(db: sqlite3.Connection, q: str) -> str | None:
    """An FTS5 expression matching any of the rarest words of `q` (quoted: FTS5 syntax in
    the question is inert), or None when it has none that says anything.

    bm25 gives a word held by half the articles or more no weight, and little to one held
    by many, yet ranking every article that holds it costs time in proportion: the words
    kept are those held by at most RARE_SHARE of the articles or RARE_FLOOR (the
    RARE_WORDS rarest), or,
    when there are none, the two least common of the rest."""
    words = question_words(q)
    if not words:
        return None
    found = {
        term: docs
        for term, docs in db.execute(
            f"SELECT term, docs FROM kb_terms WHERE term IN ({','.join('?' * len(words))})",
            words,
        )
    }
    total = db.execute("SELECT count(*) FROM kb_articles").fetchone()[0]
    held = sorted((docs, word) for word in words if 0 < (docs := found.get(word, 0)) <= total / 2)
    rare = max(total * RARE_SHARE, RARE_FLOOR)
    useful = [(docs, word) for docs, word in held if docs <= rare][:RARE_WORDS]
    if not useful:  # only common words: the two least common
        useful = held[:2]
    if not useful:
        return None
    return "{title body intents tags} : (" + " OR ".join(f'"{word}"' for _, word in useful) + ")"


def kb_search(
    db: sqlite3.Connection, q: str, lang: str, intent: str, limit: int
) -> tuple[ArticleHit, ...]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1..{MAX_LIMIT} (got {limit})")
    intent = intent.strip().lower()
    words = match_expression(db, q)
    intent_words = " ".join(_WORD.findall(intent.replace("_", " ")))
    if words is None and not intent_words:
        return ()
    language = "".join(_WORD.findall(lang.lower()))
    # the language is an indexed term, so that no article's row is read to filter it
    in_language = f' AND language : "{language}"' if language else ""
    ranked: list[tuple[int, float]] = []
    if words is not None:  # ranked on the index alone
        ranked = db.execute(
            f"SELECT rowid, bm25(kb_search, {', '.join(map(str, WEIGHTS))}) FROM kb_search "
            "WHERE kb_search MATCH ? ORDER BY 2 LIMIT ?",
            (f"({words}){in_language}", WINDOW),
        ).fetchall()
    articles = _rows(db, [rowid for rowid, _ in ranked])
    hits: list[tuple[int, float, int]] = []  # (0 for the intent's articles, -score, id)
    for rowid, rank in ranked:
        if rowid in articles:
            has_intent = bool(intent) and intent in json.loads(articles[rowid]["intents"])
            hits.append((0 if has_intent else 1, round(-float(rank), 4) + 0.0, rowid))
    hits.sort(key=lambda h: (h[0], -h[1], h[2]))
    if intent_words and sum(1 for h in hits if h[0] == 0) < limit:
        # the intent's articles the words did not find come after those they did
        seen = {h[2] for h in hits}
        extra = [
            rowid
            for (rowid,) in db.execute(
                "SELECT rowid FROM kb_search WHERE kb_search MATCH ? ORDER BY rowid LIMIT ?",
                (f'intents : "{intent_words}"{in_language}', limit + len(seen)),
            )
            if rowid not in seen
        ]
        articles.update(_rows(db, extra))
        tagged = [
            (0, 0.0, rowid)
            for rowid in extra
            if rowid in articles and intent in json.loads(articles[rowid]["intents"])
        ]
        first = sum(1 for h in hits if h[0] == 0)
        hits[first:first] = tagged
    best = hits[:limit]
    snippets: dict[int, str] = {}
    if words is not None and best:  # a snippet re-reads its article: only for those shown
        snippets = dict(
            db.execute(
                "SELECT rowid, snippet(kb_search, 1, '', '', '…', 24) FROM kb_search "
                f"WHERE kb_search MATCH ? AND rowid IN ({','.join('?' * len(best))})",
                (words, *(h[2] for h in best)),
            ).fetchall()
        )
    found = []
    for _, score, rowid in best:
        row = articles[rowid]
        snippet = snippets.get(rowid) or row["body"][:SNIPPET_CHARS]
        found.append(
            ArticleHit(
                id=rowid,
                slug=row["slug"],
                language=row["language"],
                title=row["title"],
                snippet=" ".join(str(snippet).split()),
                link=row["link"],
                intents=tuple(json.loads(row["intents"])),
                score=score,
            )
        )
    return tuple(found)


def _rows(db: sqlite3.Connection, ids: list[int]) -> dict[int, sqlite3.Row]:
    if not ids:
        return {}
    return {
        r["id"]: r
        for r in db.execute(
            "SELECT id, slug, language, title, link, intents, substr(body, 1, ?) AS body "
            f"FROM kb_articles WHERE id IN ({','.join('?' * len(ids))})",
            (SNIPPET_CHARS, *ids),
        )
    }


def kb_use(
    store: Store,
    article_id: int,
    contact_id: int,
    how: str,
    agent: str,
    now: int,
    actor: audit.Actor | None = None,
) -> None:
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
        if actor is not None:
            audit.record(
                db, actor, now, f"kb-{how}", "contact", contact_id, detail={"article": article_id}
            )


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
