"""The contract's screen pop, telephony and knowledge base (CALLS and KNOWLEDGE), the same
for every store: what is checked, which rows a call event writes in which order, what the
change feed, the timeline and the audit trail record.

A store's backend mixes `DeskFlow` in through its own `DeskOps` (backends/sqlite/desk_ops.py,
backends/postgres/desk.py), which names its SQL: `_lookup_rows()` (LookupRows), `_call_rows()`
(CallRows) and `_kb` (backends/*/kb.py). What a looked-up value is and a caller card are
backends.lookup's; what a call event may say and how a call moves are backends.telephony's.
Both parse phone numbers, so they load on first use, as the stores' modules do. No SQL here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from backends import kb_search, records
from backends.audit_chain import Actor, diff
from backends.base import InvalidInput, NotFound
from backends.models import (
    Agent,
    Article,
    ArticleHit,
    CallerCard,
    CallState,
    ChangeEntity,
    Channel,
    Contact,
    Customer,
    CustomerFacts,
    CustomerHit,
    KbImportResult,
    KbUsage,
    Lookup,
    LookupKind,
    Role,
)
from backends.text import plain

if TYPE_CHECKING:
    from backends.models import Call
    from backends.telephony import CallEvent


class LookupRows(Protocol):
    """A store's screen-pop reads (each in the caller's read transaction)."""

    DEFAULT_REGION: str

    def by_identity(self, db: Any, kinds: tuple[str, ...], values: tuple[str, ...]) -> list[int]:
        """Customers holding one of `values` as one of `kinds`, best first."""
        ...

    def order_customer(self, db: Any, number: str) -> int | None:
        """The customer of the order numbered `number`."""
        ...

    def card_row(self, db: Any, customer_id: int) -> Any:
        """A customer's card columns (backends.lookup.CARD_COLUMNS), or None."""
        ...

    def open_contacts(self, db: Any, customer_id: int) -> tuple[Contact, ...]:
        """A customer's unresolved contacts, newest first (backends.lookup.OPEN_CONTACTS)."""
        ...


class CallRows(Protocol):
    """A store's telephony SQL (each function works in the caller's transaction)."""

    DEFAULT_REGION: str
    SLA_SECONDS: Mapping[Channel, int]

    def lock_call(self, db: Any, call_id: str) -> None: ...

    def agent_role(self, db: Any, name: str) -> str | None: ...

    def call_row(self, db: Any, call_id: str) -> Any: ...

    def lock_caller(self, db: Any, number: str) -> None: ...

    def find_customer(self, db: Any, kind: str, value: str, raw: str) -> int | None: ...

    def create_customer(
        self, db: Any, channel: Channel, kind: str, value: str, raw: str, name: str, now: int
    ) -> int: ...

    def open_phone_contact(self, db: Any, customer_id: int) -> Any: ...

    def wake_contact(self, db: Any, contact_id: int, status: str, at: int, now: int) -> None: ...

    def add_phone_contact(
        self, db: Any, customer_id: int, subject: str, at: int, now: int, due: int
    ) -> int: ...

    def add_call(
        self, db: Any, event: CallEvent, contact_id: int, customer_id: int, new_caller: bool
    ) -> None: ...

    def add_call_event(
        self,
        db: Any,
        customer_id: int,
        contact_id: int,
        at: int,
        summary: str,
        payload: dict[str, object],
    ) -> None: ...

    def offer(self, db: Any, contact_id: int, agent: str, now: int) -> None: ...

    def update_call(self, db: Any, call_id: str, sets: dict[str, object]) -> None: ...

    def answer_contact(self, db: Any, contact_id: int, now: int) -> None: ...

    def contact_calls(self, db: Any, contact_id: int) -> list[Any]: ...

    def caller_row(self, db: Any, customer_id: int) -> Any:
        """A customer's emails and name (None: no such customer), locked to be named."""
        ...

    def name_customer(
        self, db: Any, customer_id: int, first: str, last: str, emails: str, now: int
    ) -> None: ...

    def add_email(self, db: Any, customer_id: int, address: str, raw: str) -> None: ...

    def index_name(self, db: Any, customer_id: int, name: str, emails: str) -> None: ...


class DeskFlow:
    """Lookup, calls, naming a caller, and knowledge-base articles over a store's SQL."""

    store: Any
    clock: Callable[[], datetime]
    _kb: Any  # the store's knowledge-base module (backends/*/kb.py)
    _trail: Any  # the store's audit trail module (backends.governance.Trail)

    if TYPE_CHECKING:  # provided by the store's backend

        def _writer(self) -> Agent: ...

        def actor(self, me: Agent | None = None) -> Actor: ...

        def search_customers(self, text: str, limit: int = 20) -> tuple[CustomerHit, ...]: ...

        def get_customer(self, customer_id: int) -> Customer: ...

        def _log(
            self, db: Any, now: int, entity: ChangeEntity, entity_id: int, action: str, actor: str
        ) -> None: ...

    # -- what a store supplies --------------------------------------------------------

    def _lookup_rows(self) -> LookupRows:
        raise NotImplementedError

    def _call_rows(self) -> CallRows:
        raise NotImplementedError

    def _card_facts(self, db: Any, customer_id: int) -> CustomerFacts:
        """A caller card's key facts (in the lookup's read transaction `db`)."""
        raise NotImplementedError

    # -- screen pop -----------------------------------------------------------------------

    def lookup(
        self,
        value: str = "",
        limit: int = 5,
        *,
        phone: str = "",
        email: str = "",
        order: str = "",
    ) -> Lookup:
        from backends import lookup as pure  # phone-number parsing: on first use

        sql = self._lookup_rows()
        as_kind, value = pure.requested(value, phone=phone, email=email, order=order)
        text, kind, norm = pure.read_as(value, limit, as_kind, sql.DEFAULT_REGION)
        ids: list[int] = []
        matched = kind.value
        with self.store.read() as db:
            kinds, values = pure.identity_keys(kind, text, norm)
            if kinds:
                ids = sql.by_identity(db, kinds, values)
            if pure.try_order(kind, ids, text):
                order_of = sql.order_customer(db, text.upper())
                if order_of is not None:
                    kind, norm, matched, ids = LookupKind.ORDER, text.upper(), "order", [order_of]
        hits = pure.matches(ids, matched, limit, as_kind, self.search_customers, text)
        with self.store.read() as db:
            cards = tuple(card for cid, how in hits.items() if (card := self._card(db, cid, how)))
        return Lookup(query=text, kind=kind, value=norm, matches=cards)

    def _card(self, db: Any, customer_id: int, matched: str) -> CallerCard | None:
        from backends import lookup as pure

        sql = self._lookup_rows()
        row = sql.card_row(db, customer_id)
        if row is None:
            return None
        contacts = sql.open_contacts(db, customer_id)
        return pure.card(row, matched, contacts, self._card_facts(db, customer_id))

    # -- telephony ------------------------------------------------------------------------

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
        from backends import telephony  # phone-number parsing: on first use

        me = self._writer()
        sql = self._call_rows()
        event = telephony.check_event(
            call_id,
            state,
            caller,
            now_at=self.clock(),
            region=sql.DEFAULT_REGION,
            at=at,
            recording=recording,
            extension=extension,
            agent=agent,
            queue=queue,
            dialled=dialled,
        )
        now, number = event.now, event.number
        with self.store.write() as db:
            sql.lock_call(db, event.call_id)
            if event.agent:
                self._check_call_agent(db, event.agent)
            row = sql.call_row(db, event.call_id)
            if row is not None and row["caller"] != number:
                raise InvalidInput(f"call {event.call_id} was recorded for another number")
            if row is None:
                row = self._ring(db, event, me.name)
            if event.state is not CallState.RINGING or event.agent and event.agent != row["agent"]:
                row = self._advance(db, row, event, me.name)
            self._trail.record(
                db,
                self.actor(me),
                now,
                f"call-{event.state.value}",
                "call",
                event.call_id,
                customer_id=row["customer_id"],
                detail={"contact_id": row["contact_id"], "state": row["state"]},
            )
            return telephony.call(row)

    def _check_call_agent(self, db: Any, agent: str) -> None:
        role = self._call_rows().agent_role(db, agent)
        if role is None:
            raise InvalidInput(f"the call is offered to {agent!r}, who is not an agent")
        if role == Role.SUPERVISOR.value:
            raise InvalidInput(f"{agent} is a supervisor and cannot take calls")

    def _ring(self, db: Any, event: CallEvent, actor: str) -> Any:
        """A new call: its caller found (or created), their phone contact opened, the call's
        row, its timeline entry and its offer to an agent written; the call's row."""
        from backends import telephony

        sql = self._call_rows()
        number, now = event.number, event.now
        sql.lock_caller(db, number)
        customer_id = sql.find_customer(db, "phone", number, event.raw_caller)
        new_caller = customer_id is None
        if customer_id is None:
            customer_id = sql.create_customer(
                db, Channel.PHONE, "phone", number, event.raw_caller, "", now
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "created", actor)
        contact_id = self._open_phone_contact(db, customer_id, number, new_caller, event, actor)
        sql.add_call(db, event, contact_id, customer_id, new_caller)
        sql.add_call_event(db, customer_id, contact_id, event.when, *telephony.ringing_entry(event))
        if event.agent:
            sql.offer(db, contact_id, event.agent, now)
        ringing = telephony.ACTIONS[CallState.RINGING]
        self._log(db, now, ChangeEntity.CONTACT, contact_id, ringing, actor)
        return sql.call_row(db, event.call_id)

    def _open_phone_contact(
        self, db: Any, customer_id: int, number: str, new_caller: bool, event: CallEvent, actor: str
    ) -> int:
        """The caller's unresolved phone contact, woken up, or a new one."""
        from backends import telephony

        sql = self._call_rows()
        at, now = event.when, event.now
        row = sql.open_phone_contact(db, customer_id)
        if row is not None:
            status = "open" if row["status"] in ("pending", "snoozed") else row["status"]
            sql.wake_contact(db, int(row["id"]), status, at, now)
            return int(row["id"])
        subject = telephony.subject(number, new_caller)
        due = at + sql.SLA_SECONDS[Channel.PHONE]
        contact_id = sql.add_phone_contact(db, customer_id, subject, at, now, due)
        self._log(db, now, ChangeEntity.CONTACT, contact_id, "created", actor)
        return contact_id

    def _advance(self, db: Any, row: Any, event: CallEvent, actor: str) -> Any:
        """Move a stored call to the event's state (never back), offering it to its agent."""
        from backends import telephony

        sql = self._call_rows()
        sets, moved = telephony.advance(row, event)
        if not sets:
            return row
        sql.update_call(db, row["call_id"], sets)
        contact_id, now, state = row["contact_id"], event.now, event.state
        contact = ChangeEntity.CONTACT
        if "agent" in sets:  # offered to (or answered by) someone else: their console pops it
            sql.offer(db, contact_id, event.agent, now)
            self._log(db, now, contact, contact_id, telephony.ACTIONS[CallState.RINGING], actor)
        if moved:
            if state is CallState.ANSWERED:
                sql.answer_contact(db, contact_id, now)
            if state is CallState.ENDED:
                ended = telephony.call(sql.call_row(db, row["call_id"]))
                summary, payload = telephony.ended_entry(ended)
                sql.add_call_event(db, row["customer_id"], contact_id, event.when, summary, payload)
            self._log(db, now, contact, contact_id, telephony.ACTIONS[state], actor)
        elif "recording" in sets:
            self._log(db, now, contact, contact_id, "call-recording", actor)
        return sql.call_row(db, row["call_id"])

    def calls(self, contact_id: int) -> tuple[Call, ...]:
        from backends import telephony

        with self.store.read() as db:
            found = self._call_rows().contact_calls(db, contact_id)
        return tuple(telephony.call(r) for r in found)

    def name_caller(self, customer_id: int, name: str, email: str = "") -> Customer:
        from backends import telephony

        me = self._writer()
        sql = self._call_rows()
        first, last, address = telephony.check_name(name, email)
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            row = sql.caller_row(db, customer_id)
            if row is None:
                raise NotFound(f"no customer with id {customer_id}")
            emails = json.loads(row["emails"])
            if address and address not in emails:
                emails.append(address)
            sql.name_customer(db, customer_id, first, last, json.dumps(emails), now)
            if address:
                sql.add_email(db, customer_id, address, email)
            sql.index_name(db, customer_id, plain(name.strip()), " ".join(emails))
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "named", me.name)
            changes = diff(
                {"first_name": row["first_name"], "last_name": row["last_name"]},
                {"first_name": first, "last_name": last},
            )
            if address:
                changes["email"] = [None, address]
            self._trail.record(
                db,
                self.actor(me),
                now,
                "name-caller",
                "customer",
                customer_id,
                customer_id=customer_id,
                changes=changes,
            )
        return self.get_customer(customer_id)

    # -- knowledge base -------------------------------------------------------------------

    def kb_import(self, articles: tuple[Article, ...]) -> KbImportResult:
        me = self._writer()
        now = records.to_ts(self.clock())
        return self._kb.kb_import(self.store, tuple(articles), now, self.actor(me))  # type: ignore[no-any-return]

    def kb_articles(self, lang: str = "") -> tuple[Article, ...]:
        with self.store.read() as db:
            return self._kb.kb_articles(db, lang.strip())  # type: ignore[no-any-return]

    def kb_article(self, article_id: int) -> Article:
        with self.store.read() as db:
            return self._kb.kb_article(db, article_id)  # type: ignore[no-any-return]

    def kb_search(
        self, q: str, lang: str = "", intent: str = "", limit: int = 10
    ) -> tuple[ArticleHit, ...]:
        with self.store.read() as db:
            return self._kb.kb_search(db, q, lang, intent, limit)  # type: ignore[no-any-return]

    def kb_use(self, article_id: int, contact_id: int, how: str = "answer") -> None:
        me = self._writer()
        now = records.to_ts(self.clock())
        self._kb.kb_use(self.store, article_id, contact_id, how, me.name, now, self.actor(me))

    def kb_usage(self, since: datetime | None = None, until: datetime | None = None) -> KbUsage:
        start, end = kb_search.usage_window(since, until, self.clock())
        with self.store.read() as db:
            return self._kb.kb_usage(db, start, end)  # type: ignore[no-any-return]
