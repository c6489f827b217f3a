"""The knowledge base's writes, the same for every store: what an import creates, changes
or leaves, how it moves the word counts the search weighs words by, and what a use of an
article records.

A store names its SQL in a `KbRows` (backends/sqlite/kb.py, backends/postgres/kb.py)
and binds the flows to it (`functools.partial`); the flow runs in one write transaction
of the store. An import adds up the
changes of all its articles to the word counts and writes them once, in the words'
order: two imports at once that share words take the rows' locks in the same order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from backends.audit_chain import Actor, Appender
from backends.base import NotFound
from backends.kb_search import check_use, stored, terms, terms_of_row, unchanged
from backends.knowledge import check_article
from backends.models import Article, KbImportResult

#: An article's stored title, body, link, intents and tags (see `kb_search.stored`).
Values = tuple[str, str, str, str, str]


class Writable(Protocol):
    """A store's write transactions."""

    def write(self) -> AbstractContextManager[Any]: ...


@dataclass(frozen=True, slots=True)
class KbRows:
    """A store's SQL of the knowledge base's writes (each in the caller's transaction)."""

    #: Hold what keeps imports one after the other, when the store's writers can meet.
    lock: Callable[[Any], None]
    #: The stored article (a row read by column name) of a slug and language, or None.
    find: Callable[[Any, str, str], Any]
    #: Store a new article: (db, slug, language, its values, the article, now).
    insert: Callable[[Any, str, str, Values, Article, int], None]
    #: Store an article's new values: (db, its stored row, its values, the article, now).
    update: Callable[[Any, Any, Values, Article, int], None]
    #: Add to each word's count of articles (words in order, none with a zero change).
    count_terms: Callable[[Any, list[tuple[str, int]]], None]
    #: Whether there is an article, a contact, with this id.
    has_article: Callable[[Any, int], bool]
    has_contact: Callable[[Any, int], bool]
    #: Note a use: (db, article id, contact id, agent, how, now).
    add_use: Callable[[Any, int, int, str, str, int], None]
    #: The store's audit trail.
    record: Appender
    #: An entry of the change feed: (db, now, entity, entity id, action, actor).
    log: Callable[[Any, int, str, int, str, str], None]


def import_articles(
    rows: KbRows,
    store: Writable,
    articles: tuple[Article, ...],
    now: int,
    actor: Actor | None = None,
) -> KbImportResult:
    """Store `articles` in one transaction: new ones created, changed ones updated, the
    word counts moved by the difference (see `Backend.kb_import`).

    Raises:
        InvalidInput: an article is not one to store (nothing is written).
    """
    for article in articles:
        check_article(article)
    counts: Counter[str] = Counter()
    moved: Counter[str] = Counter()
    with store.write() as db:
        rows.lock(db)
        for a in articles:
            slug, language = a.slug.strip(), a.language.strip().lower()
            old = rows.find(db, slug, language)
            values = stored(a)
            if unchanged(old, values):
                counts["unchanged"] += 1
                continue
            if old is not None:
                moved.subtract(terms_of_row(old))
            moved.update(terms(a))
            if old is None:
                rows.insert(db, slug, language, values, a, now)
                counts["created"] += 1
            else:
                rows.update(db, old, values, a, now)
                counts["updated"] += 1
        rows.count_terms(db, sorted((term, n) for term, n in moved.items() if n))
        result = KbImportResult(
            created=counts["created"], updated=counts["updated"], unchanged=counts["unchanged"]
        )
        if actor is not None:
            detail: Mapping[str, int] = {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
            rows.record(db, actor, now, "kb-import", "kb", len(articles), detail=detail)
    return result


def use(
    rows: KbRows,
    store: Writable,
    article_id: int,
    contact_id: int,
    how: str,
    agent: str,
    now: int,
    actor: Actor | None = None,
) -> None:
    """Note that `agent` used an article on a contact (see `Backend.kb_use`).

    Raises:
        InvalidInput: `how` is not a use.
        NotFound: no such article, or no such contact.
    """
    check_use(how)
    with store.write() as db:
        if not rows.has_article(db, article_id):
            raise NotFound(f"no article with id {article_id}")
        if not rows.has_contact(db, contact_id):
            raise NotFound(f"no contact with id {contact_id}")
        rows.add_use(db, article_id, contact_id, agent, how, now)
        rows.log(db, now, "contact", contact_id, f"kb-{how}", agent)
        if actor is not None:
            rows.record(
                db, actor, now, f"kb-{how}", "contact", contact_id, detail={"article": article_id}
            )
