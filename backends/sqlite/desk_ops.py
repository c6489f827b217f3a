"""Screen pop, telephony and the knowledge base for SQLite: the contract's CALLS and
KNOWLEDGE methods, delegating to backends.sqlite.lookup, calls and kb.

A mixin of `SQLiteBackend`: it uses the backend's `store`, `clock`, `_writer()`,
`customer_facts`, `search_customers` and `get_customer`. Lookup and calls parse phone
numbers, so their modules load on first use (backends.sqlite.deferred).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from backends import kb_search, records
from backends.models import (
    Article,
    ArticleHit,
    Call,
    CallState,
    Customer,
    CustomerFacts,
    CustomerHit,
    KbImportResult,
    KbUsage,
    Lookup,
)
from backends.sqlite import deferred, kb

if TYPE_CHECKING:
    from collections.abc import Callable

    from backends.models import Agent
    from backends.sqlite import audit
    from backends.sqlite.store import Store

USAGE_WINDOW = kb_search.USAGE_WINDOW


class DeskOps:
    """Lookup, calls, quick create, and knowledge-base articles over the SQLite store."""

    store: Store
    clock: Callable[[], datetime]

    def _writer(self) -> Agent:  # provided by SQLiteBackend
        raise NotImplementedError

    if TYPE_CHECKING:

        def actor(self, me: Agent | None = None) -> audit.Actor: ...  # SQLiteBackend's

    def customer_facts(self, customer_id: int) -> CustomerFacts:  # provided by SQLiteBackend
        raise NotImplementedError

    def search_customers(self, text: str, limit: int = 20) -> tuple[CustomerHit, ...]:
        raise NotImplementedError  # provided by SQLiteBackend

    def get_customer(self, customer_id: int) -> Customer:  # provided by SQLiteBackend
        raise NotImplementedError

    # -- screen pop and telephony -------------------------------------------------------

    def lookup(
        self,
        value: str = "",
        limit: int = 5,
        *,
        phone: str = "",
        email: str = "",
        order: str = "",
    ) -> Lookup:
        module = deferred.lookup()
        kind, text = module.requested(value, phone=phone, email=email, order=order)
        with self.store.read() as db:
            return module.lookup(  # type: ignore[no-any-return]
                db, text, limit, self.customer_facts, self.search_customers, kind
            )

    def record_call(
        self,
        call_id: str,
        state: CallState,
        caller: str,
        *,
        dialled: str = "",
        queue: str = "",
        agent: str = "",
        extension: str = "",
        recording: str = "",
        at: datetime | None = None,
    ) -> Call:
        me = self._writer()
        return deferred.calls().record_call(  # type: ignore[no-any-return]
            self.store,
            me,
            self.clock(),
            call_id,
            state,
            caller,
            dialled=dialled,
            queue=queue,
            agent=agent,
            extension=extension,
            recording=recording,
            at=at,
            actor=self.actor(me),
        )

    def calls(self, contact_id: int) -> tuple[Call, ...]:
        return deferred.calls().calls(self.store, contact_id)  # type: ignore[no-any-return]

    def name_caller(self, customer_id: int, name: str, email: str = "") -> Customer:
        me = self._writer()
        deferred.calls().name_caller(
            self.store, me, self.clock(), customer_id, name, email, self.actor(me)
        )
        return self.get_customer(customer_id)

    # -- knowledge base -------------------------------------------------------------------

    def kb_import(self, articles: tuple[Article, ...]) -> KbImportResult:
        me = self._writer()
        now = records.to_ts(self.clock())
        return kb.kb_import(self.store, tuple(articles), now, self.actor(me))

    def kb_articles(self, lang: str = "") -> tuple[Article, ...]:
        with self.store.read() as db:
            return kb.kb_articles(db, lang.strip())

    def kb_article(self, article_id: int) -> Article:
        with self.store.read() as db:
            return kb.kb_article(db, article_id)

    def kb_search(
        self, q: str, lang: str = "", intent: str = "", limit: int = 10
    ) -> tuple[ArticleHit, ...]:
        with self.store.read() as db:
            return kb.kb_search(db, q, lang, intent, limit)

    def kb_use(self, article_id: int, contact_id: int, how: str = "answer") -> None:
        me = self._writer()
        now = records.to_ts(self.clock())
        kb.kb_use(self.store, article_id, contact_id, how, me.name, now, self.actor(me))

    def kb_usage(self, since: datetime | None = None, until: datetime | None = None) -> KbUsage:
        start, end = kb_search.usage_window(since, until, self.clock())
        with self.store.read() as db:
            return kb.kb_usage(db, start, end)
