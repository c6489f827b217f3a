"""The knowledge base over every backend: import, list per language, full-text search with
the intent's articles first, article use counted by the KPIs."""

from __future__ import annotations

import pytest

from backends.base import Capability, InvalidInput, NotFound, ReadOnly
from backends.knowledge import parse_article
from backends.models import Article, ContactStatus, QueueQuery
from tests.backends.conftest import BackendFactory

pytestmark = pytest.mark.needs(Capability.KNOWLEDGE)


def _article(slug: str, lang: str, title: str, body: str, intents: str = "") -> Article:
    return parse_article(
        f"{slug}.{lang}",
        f"---\ntitle: {title}\nlanguage: {lang}\nintents: [{intents}]\n"
        f"link: https://shop.example/{lang}/{slug}\n---\n{body}\n",
    )


def test_demo_articles_are_listed_per_language(make_backend: BackendFactory) -> None:
    backend = make_backend()
    italian = backend.kb_articles("it")
    english = backend.kb_articles("en")
    assert italian and english
    assert {a.language for a in italian} == {"it"} and {a.language for a in english} == {"en"}
    assert {a.slug for a in italian} == {a.slug for a in english}  # one article, two languages
    one = backend.kb_article(italian[0].id)
    assert one == italian[0]
    with pytest.raises(NotFound):
        backend.kb_article(999_999)


def test_search_finds_by_words_in_the_language_asked(make_backend: BackendFactory) -> None:
    backend = make_backend()
    hits = backend.kb_search("il pacco non è ancora arrivato, il tracking è fermo", lang="it")
    assert hits and hits[0].slug == "shipping-times" and hits[0].language == "it"
    assert all(h.language == "it" for h in hits)
    assert backend.kb_search("", lang="it") == ()
    assert backend.kb_search('" OR * NEAR(', lang="it") == ()  # FTS syntax is inert


def test_the_contacts_intent_ranks_its_articles_first(make_backend: BackendFactory) -> None:
    backend = make_backend()
    text = "I sent the parcel back, when do I get the money?"
    hits = backend.kb_search(text, lang="en", intent="refund_status", limit=3)
    assert hits[0].slug == "refund-timing"
    by_intent = backend.kb_search("", lang="en", intent="payment_failed")
    assert [h.slug for h in by_intent] == ["payment-failed"]


def test_import_replaces_by_slug_and_language_and_refuses_bad_articles(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend()
    first = backend.kb_import((_article("gift", "en", "Gift cards", "Gift cards never expire."),))
    assert (first.created, first.updated) == (1, 0)
    again = backend.kb_import((_article("gift", "en", "Gift cards", "Gift cards never expire."),))
    assert again.unchanged == 1
    changed = backend.kb_import((_article("gift", "en", "Gift cards", "Valid for 5 years."),))
    assert changed.updated == 1
    assert backend.kb_search("years", lang="en")[0].slug == "gift"
    assert backend.kb_search("expire", lang="en") == ()
    count = len(backend.kb_articles())
    bad = Article(id=0, slug="x", language="en", title="", body="text")
    with pytest.raises(InvalidInput):
        backend.kb_import((_article("ok", "en", "Fine", "fine text"), bad))
    assert len(backend.kb_articles()) == count  # all or nothing


def test_article_use_counts_in_the_kpis(make_backend: BackendFactory) -> None:
    backend = make_backend("giulia")
    article = backend.kb_articles("en")[0]
    contact_id = backend.queue(QueueQuery(unassigned=True)).contacts[0].id
    before = backend.kb_usage()
    backend.kb_use(article.id, contact_id, "answer")
    backend.kb_use(article.id, contact_id, "link")
    after = backend.kb_usage()
    assert after.uses == before.uses + 2 and after.links == before.links + 1
    assert after.top[0].id == article.id
    backend.claim(contact_id)
    backend.set_status(contact_id, ContactStatus.RESOLVED)
    assert backend.kb_usage().resolved_with_article == before.resolved_with_article + 1
    with pytest.raises(InvalidInput):
        backend.kb_use(article.id, contact_id, "paste")
    with pytest.raises(NotFound):
        backend.kb_use(999_999, contact_id)


def test_read_only_backends_search_but_do_not_write(make_backend: BackendFactory) -> None:
    backend = make_backend("giulia", read_only=True)
    assert backend.kb_search("reso", lang="it")
    with pytest.raises(ReadOnly):
        backend.kb_import((_article("gift", "en", "Gift cards", "Never expire."),))
