"""Screen pop, telephony and the knowledge base for PostgreSQL: the contract's CALLS and
KNOWLEDGE methods, delegating to backends.postgres.calls and kb.

A mixin of `PostgresBackend`: it uses the backend's `store`, `clock`, `_writer()`,
`search_customers` and `get_customer`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from backends import kb_search, records
from backends import lookup as pure_lookup
from backends.models import (
    Agent,
    Article,
    ArticleHit,
    Call,
    CallState,
    Customer,
    CustomerHit,
    KbImportResult,
    KbUsage,
    Lookup,
)
from backends.postgres import calls, kb

if TYPE_CHECKING:
    from backends.audit_chain import Actor
    from backends.postgres.store import PgStore


class DeskOps:
    """Lookup, calls, quick create, and knowledge-base articles over the PostgreSQL store."""

    store: PgStore
    clock: Callable[[], datetime]

    if TYPE_CHECKING:

        def _writer(self) -> Agent: ...
        def actor(self, me: Agent | None = None) -> Actor: ...
        def search_customers(self, text: str, limit: int = 20) -> tuple[CustomerHit, ...]: ...
        def get_customer(self, customer_id: int) -> Customer: ...

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
        kind, text = pure_lookup.requested(value, phone=phone, email=email, order=order)
        return calls.lookup(self.store, text, limit, self.search_customers, kind)

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
        return calls.record_call(
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
        return calls.calls(self.store, contact_id)

    def name_caller(self, customer_id: int, name: str, email: str = "") -> Customer:
        me = self._writer()
        calls.name_caller(self.store, me, self.clock(), customer_id, name, email, self.actor(me))
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
