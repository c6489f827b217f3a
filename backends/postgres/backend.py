"""The server backend: the Backend contract over one PostgreSQL database.

Every call is one short transaction on a pooled connection. Writes that race (two
operators claiming one contact, in one server process or in two) are decided by the
database: a contact changes only `WHERE version = <the version read>`, so exactly one
of them wins and the other gets Conflict. The change feed is a table with a cursor
(`seq`); its trigger NOTIFYs `vista_changes` for listeners.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import psycopg

from backends import channels, consent, limits, records, templating
from backends import provenance as provenance_text
from backends import values as computed
from backends.audit_chain import Actor, diff, message_changes
from backends.base import (
    WRITE_METHODS,
    Backend,
    Capability,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ReadOnly,
    Unavailable,
)
from backends.models import (
    Agent,
    Change,
    ChangeBatch,
    ChangeEntity,
    Channel,
    Contact,
    ContactDetail,
    ContactStatus,
    Customer,
    CustomerHit,
    Delivery,
    Direction,
    EventKind,
    InboundResult,
    Message,
    NewToken,
    Origin,
    Priority,
    QueuePage,
    QueueQuery,
    Role,
    SlaState,
    Template,
    TimelineEvent,
    TokenInfo,
    to_builtins,
    utcnow,
)
from backends.postgres import audit, consents, inbound, routing, rows, search, tokens
from backends.postgres import outbox as outbox_store
from backends.postgres import templates as template_store
from backends.postgres.agents import AgentOps, unknown_agent
from backends.postgres.answers import AnswerQueries
from backends.postgres.desk import DeskOps
from backends.postgres.governance import PgGovernance
from backends.postgres.identity.backend_ops import PgIdentityOps
from backends.postgres.stats import StatsQueries
from backends.postgres.store import PgStore, scalar
from backends.postgres.views import ViewQueries
from backends.postgres.views import check_limit as _limit
from backends.routing.agents import agent as agent_model
from backends.text import plain

Conn = psycopg.Connection[Any]

#: A contact whose SLA falls due within this many seconds is "at risk".
AT_RISK_SECONDS = 15 * 60

EDITABLE_FIELDS = limits.EDITABLE_FIELDS


class _Outgoing(NamedTuple):
    body: str
    recipient: str
    recipient_name: str
    subject: str
    html: str | None


def read_contact(db: Conn, contact_id: int, *, lock: bool = False) -> Contact:
    """The contact with its customer's name (inside the caller's transaction).

    Raises:
        NotFound: no such contact.
    """
    rows.check_id(contact_id, "contact id")
    row = db.execute(
        f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} WHERE c.id = %s"
        + (" FOR UPDATE OF c" if lock else ""),
        (contact_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no contact with id {contact_id}")
    return rows.contact(row)


class PostgresBackend(
    PgGovernance,
    AgentOps,
    DeskOps,
    StatsQueries,
    PgIdentityOps,
    AnswerQueries,
    ViewQueries,
    Backend,
):
    """A PostgreSQL store as one agent. Thread-safe: every call takes a pooled connection."""

    CAPABILITIES = (
        Capability.WRITE
        | Capability.LIVE_UPDATES
        | Capability.FULL_TEXT_SEARCH
        | Capability.INBOUND
        | Capability.KPIS
        | Capability.TOKENS
        | Capability.OUTBOX
        | Capability.ROUTING
        | Capability.CALLS
        | Capability.KNOWLEDGE
        | Capability.IDENTITY
        | Capability.IMPORT
        | Capability.AUDIT
        | Capability.PERSONAL_DATA
        | Capability.INSPECT
    )

    def __init__(
        self,
        store: PgStore | str,
        *,
        agent: str = "operator",
        role: Role | None = None,
        read_only: bool = False,
        clock: Callable[[], datetime] = utcnow,
        origin: str = Origin.CONSOLE.value,
        token: str | None = None,
        read_audit: bool = False,
        audit_store: PgStore | None = None,
        inspect: bool = False,
    ) -> None:
        """The store as `agent`.

        Args:
            store: an open `PgStore`, shared (its mode applies; `close` leaves it open), or
                a postgresql:// URL to open (`close` closes it).
            agent: who acts; an agent missing from the agents table works as an operator.
            role: act with this role whatever the agents table says (a server passes its
                verified token's role).
            clock: the current time, for writes and the queue's SLA filters.
            origin, token, read_audit, audit_store: what the audit trail records of the
                caller, and where reads go (see backends/governance.py).
            inspect: with `read_only`, open an older schema too (`store_info`, `check_store`).
        """
        self._audit_setup(origin, token, read_audit, audit_store)
        if isinstance(store, PgStore):
            self.store, self._owns_store = store, False
        else:
            self.store = PgStore(store, read_only=read_only, inspect=inspect)
            self._owns_store = True
        self.clock = clock
        self._agent_name = agent
        self._role = role
        self._agent: Agent | None = None

    @property
    def location(self) -> str:
        return self.store.location

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def whoami(self) -> Agent:
        """The acting agent. An agent the store does not know is refused (a mistyped
        --agent must not become a new operator), except on a store without any agent yet,
        whose owner works as an operator, and for a server's verified token (`role`).

        Raises:
            NotFound: no such agent (the message names the known ones).
            Forbidden: the agent is disabled.
        """
        if self._agent is None:
            with self.store.read() as db:
                row = db.execute(
                    "SELECT name, display_name, role, disabled_at FROM agents WHERE name = %s",
                    (self._agent_name,),
                ).fetchone()
                if (
                    row is None
                    and self._role is None
                    and scalar(db, "SELECT 1 FROM agents LIMIT 1") is not None
                ):
                    raise unknown_agent(db, self._agent_name)
            if row is None:  # the owner of a new database, or a token's agent
                me = Agent(self._agent_name, self._agent_name, Role.OPERATOR)
            else:
                me = Agent(row[0], row[1], Role(row[2]), disabled=row[3] is not None)
                if me.disabled:
                    raise Forbidden(f"agent {me.name} is disabled (an admin enables them)")
            if self._role is not None:
                me = Agent(me.name, me.display_name, Role(self._role))
            self._agent = me
        return self._agent

    @property
    def capabilities(self) -> Capability:
        caps = self.CAPABILITIES
        me = self.whoami()
        if self.store.read_only or not me.role.can_write:
            caps &= ~(Capability.WRITE | Capability.INBOUND | Capability.IMPORT | Capability.OUTBOX)
        if me.role is not Role.ADMIN:
            caps &= ~(Capability.TOKENS | Capability.AUDIT | Capability.PERSONAL_DATA)
        return caps

    def agents(self) -> tuple[Agent, ...]:
        with self.store.read() as db:
            return tuple(map(agent_model, db.execute("SELECT * FROM agents ORDER BY name")))

    # -- customers ------------------------------------------------------------

    def search_customers(self, text: str, limit: int = 20) -> tuple[CustomerHit, ...]:
        _limit(limit)
        text = text.strip()
        if not text:
            return ()
        ids: list[tuple[int, str]] = []
        with self.store.read() as db:
            if any(ch.isdigit() for ch in text) and " " not in text:
                order = scalar(
                    db, "SELECT customer_id FROM orders WHERE number = %s", (text.upper(),)
                )
                if order is not None:
                    ids.append((order, "order"))
            short = search.first_keystroke(text)
            query = search.ts_query(text) if short is None else None
            if short is not None:
                for tsq, target in short:
                    if len(ids) >= limit:
                        break
                    ids.extend(
                        (r[0], target)
                        for r in db.execute(
                            "SELECT customer_id FROM customer_search WHERE doc @@ "
                            "to_tsquery('simple', %s) ORDER BY customer_id LIMIT %s",
                            (tsq, limit + len(ids)),
                        )
                    )
            elif query is not None:
                tsq, param, target = query
                found = db.execute(
                    f"SELECT customer_id, ts_rank('{search.TS_WEIGHTS}', doc, q), name, emails, "
                    f"phones, orders FROM customer_search, {tsq} AS q WHERE doc @@ q "
                    "ORDER BY customer_id LIMIT %s",
                    (param, search.SEARCH_WINDOW),
                ).fetchall()
                ids.extend((r[0], target) for r in search.rank(text, target, found)[:limit])
                if target == "text" and len(ids) < limit and len(text) >= 3:
                    # typos: names whose trigrams are close to what was typed
                    ids.extend(
                        (r[0], "text")
                        for r in db.execute(
                            "SELECT customer_id FROM customer_search WHERE vista_words(name) "
                            "%% vista_words(%s) ORDER BY similarity(vista_words(name), "
                            "vista_words(%s)) DESC, customer_id LIMIT %s",
                            (text, text, limit),
                        )
                    )
            wanted = list(dict.fromkeys(cid for cid, _ in ids))[:limit]
            matched_by: dict[int, str] = {}
            for cid, matched in ids:
                matched_by.setdefault(cid, "name" if matched == "text" else matched)
            found_rows = {
                r[0]: r
                for r in db.execute(
                    "SELECT id, first_name, last_name, emails, phones, addresses, segment "
                    "FROM customers WHERE id = ANY(%s)",
                    (wanted,),
                )
            }
        hits: list[CustomerHit] = []
        for cid in wanted:
            row = found_rows.get(cid)
            if row is None:
                continue
            emails = json.loads(row[3])
            phones = json.loads(row[4])
            addresses = json.loads(row[5])
            hits.append(
                CustomerHit(
                    id=row[0],
                    name=f"{row[1]} {row[2]}".strip(),
                    email=emails[0] if emails else "",
                    phone=phones[0] if phones else "",
                    city=addresses[0].get("city", "") if addresses else "",
                    segment=row[6],
                    matched=matched_by[cid],
                )
            )
        return tuple(hits)

    @staticmethod
    def _require_customer(db: Conn, customer_id: int) -> None:
        rows.check_id(customer_id, "customer id")
        if scalar(db, "SELECT 1 FROM customers WHERE id = %s", (customer_id,)) is None:
            raise NotFound(f"no customer with id {customer_id}")

    def get_event(self, event_id: int) -> TimelineEvent:
        rows.check_id(event_id, "event id")
        with self.store.read() as db:
            row = db.execute(
                f"SELECT {rows.EVENT_COLUMNS} FROM events WHERE id = %s", (event_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no timeline event with id {event_id}")
        return rows.event(row)

    # -- queue ------------------------------------------------------------------

    def _queue_where(self, query: QueueQuery) -> tuple[list[str], list[Any]]:
        now = records.to_ts(self.clock())
        where = ["c.status <> 'resolved'"] if ContactStatus.RESOLVED not in query.statuses else []
        params: list[Any] = []
        statuses = [ContactStatus(s).value for s in query.statuses]
        if statuses:
            clause = "c.status = ANY(%s)"
            params.append(statuses)
            if ContactStatus.OPEN.value in statuses and ContactStatus.SNOOZED.value not in statuses:
                # a snooze that has run out puts the contact back in the queue
                clause = f"({clause} OR (c.status = 'snoozed' AND c.snoozed_until <= %s))"
                params.append(now)
            where.append(clause)
        if query.channels:
            where.append("c.channel = ANY(%s)")
            params.append([Channel(ch).value for ch in query.channels])
        if query.unassigned:
            where.append("c.assignee IS NULL")
        elif query.assignee is not None:
            where.append("c.assignee = %s")
            params.append(query.assignee)
        if query.priorities:
            where.append("c.priority = ANY(%s)")
            params.append([Priority(p).rank for p in query.priorities])
        # the SLA clock stops at the first reply (or resolution), as the KPIs count it
        stopped = "coalesce(c.first_response_at, c.resolved_at)"
        if query.sla is SlaState.BREACHED:
            where.append(f"({stopped} IS NULL AND c.sla_due_at < %s OR {stopped} > c.sla_due_at)")
            params.append(now)
        elif query.sla is SlaState.AT_RISK:
            where.append(f"({stopped} IS NULL AND c.sla_due_at <= %s OR {stopped} > c.sla_due_at)")
            params.append(now + AT_RISK_SECONDS)
        elif query.sla is SlaState.OK:
            where.append(f"({stopped} IS NULL AND c.sla_due_at > %s OR {stopped} <= c.sla_due_at)")
            params.append(now + AT_RISK_SECONDS)
        elif query.sla is SlaState.NONE:
            where.append("c.sla_due_at IS NULL")
        if query.text.strip():
            like = (
                "%"
                + plain(query.text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            # as the queue shows them: escapes and zero-width characters do not count
            where.append(
                "(vista_visible(c.subject) ILIKE %s OR "
                "vista_visible(cu.first_name || ' ' || cu.last_name) ILIKE %s)"
            )
            params.extend((like, like))
        return where, params

    def queue(
        self,
        query: QueueQuery = QueueQuery(),
        *,
        cursor: str | None = None,
        limit: int = 50,
        backwards: bool = False,
    ) -> QueuePage:
        _limit(limit)
        where, params = self._queue_where(query)
        if cursor is not None:
            key = rows.decode_cursor(cursor, 4)
            op = "<" if backwards else ">"
            where.append(f"(c.prio_sort, c.sla_sort, c.created_at, c.id) {op} (%s, %s, %s, %s)")
            params.extend(key)
        direction = "DESC" if backwards else "ASC"
        order = ", ".join(
            f"c.{k} {direction}" for k in ("prio_sort", "sla_sort", "created_at", "id")
        )
        sql = (
            f"SELECT {rows.CONTACT_COLUMNS} FROM {rows.CONTACT_FROM} "
            f"WHERE {' AND '.join(where) or 'true'} ORDER BY {order} LIMIT %s"
        )
        with self.store.pipelined() as db:  # one round trip: begin, the page, commit
            page = db.execute(sql, (*params, limit + 1))
        found = page.fetchall()
        more = len(found) > limit
        found = found[:limit]
        if backwards:
            found.reverse()
        if not found:
            return QueuePage((), None, None)
        first = records.encode_cursor(*rows.queue_key(found[0]))
        last = records.encode_cursor(*rows.queue_key(found[-1]))
        prev_cursor: str | None
        next_cursor: str | None
        if backwards:
            prev_cursor, next_cursor = (first if more else None), last
        else:
            prev_cursor = first if cursor is not None else None
            next_cursor = last if more else None
        return QueuePage(tuple(rows.contact(r) for r in found), next_cursor, prev_cursor)

    def queue_count(self, query: QueueQuery = QueueQuery()) -> int:
        where, params = self._queue_where(query)
        join = rows.CONTACT_FROM if query.text.strip() else "contacts c"
        with self.store.read() as db:
            return int(
                scalar(db, f"SELECT count(*) FROM {join} WHERE {' AND '.join(where) or 'true'}",
                       params)
            )  # fmt: skip

    def get_contact(self, contact_id: int) -> ContactDetail:
        with self.store.read() as db:
            contact = read_contact(db, contact_id)
            msgs = db.execute(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE contact_id = %s "
                "ORDER BY at, id",
                (contact_id,),
            ).fetchall()
        return ContactDetail(contact, tuple(rows.message(m) for m in msgs))

    def templates(self, retired: bool = False) -> tuple[Template, ...]:
        with self.store.read() as db:
            return template_store.listed(db, retired)

    def store_id(self) -> str:
        with self.store.read() as db:
            found = scalar(db, "SELECT value FROM store_meta WHERE key = 'store_id'")
        if found is None:
            raise Unavailable(f"database {self.store.location} has no store id")
        return str(found)

    def changes(self, since: int = 0, limit: int = 500) -> ChangeBatch:
        _limit(limit, 10_000)
        limits.check_int(since, "since")
        with self.store.read() as db:
            if since < 0:
                return ChangeBatch((), int(scalar(db, "SELECT coalesce(max(seq), 0) FROM changes")))
            found = db.execute(
                "SELECT seq, at, entity, entity_id, action, actor FROM changes WHERE seq > %s "
                "ORDER BY seq LIMIT %s",
                (since, limit),
            ).fetchall()
        batch = tuple(
            Change(
                seq=r[0],
                at=records.ts(r[1]),
                entity=ChangeEntity(r[2]),
                entity_id=r[3],
                action=r[4],
                actor=r[5],
            )
            for r in found
        )
        return ChangeBatch(batch, batch[-1].seq if batch else since)

    # -- writes -------------------------------------------------------------------

    def _writer(self) -> Agent:
        """The acting agent, or ReadOnly."""
        if self.store.read_only:
            raise ReadOnly(f"database {self.store.location} is open read-only")
        me = self.whoami()
        if not me.role.can_write:
            raise ReadOnly(f"{me.name} is a {me.role.value}: read-only")
        return me

    @staticmethod
    def _ensure_agent(db: Conn, me: Agent, now: int) -> None:
        """Registers the owner of a new store (or a token's agent) on their first write, and
        notes the agent's activity (an online agent idle too long counts as away)."""
        db.execute(
            "INSERT INTO agents(name, display_name, role, created_at) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (name) DO NOTHING",
            (me.name, me.display_name, me.role.value, now),
        )
        routing.note_active(db, me.name, now)

    @staticmethod
    def _log(
        db: Conn, now: int, entity: ChangeEntity, entity_id: int, action: str, actor: str
    ) -> None:
        db.execute(
            "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (%s,%s,%s,%s,%s)",
            (now, entity.value, entity_id, action, actor),
        )

    def _update_contact(
        self,
        contact_id: int,
        action: str,
        changes: dict[str, Any],
        expected_version: int | None,
        check: Callable[[Contact, Agent], None] | None = None,
        give_to: str | None = None,
    ) -> Contact:
        """Change a contact whose version is still the one read (one winner). `give_to`:
        the agent it goes to, held to their capacity (their row locked while counted)."""
        me = self._writer()
        now = records.to_ts(self.clock())
        if expected_version is not None:
            rows.check_id(expected_version, "version")
        with self.store.write() as db:
            self._ensure_agent(db, me, now)
            current = read_contact(db, contact_id)
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"contact {contact_id} changed meanwhile (version {current.version}, "
                    f"you had {expected_version})",
                    current=current,
                )
            if check is not None:
                check(current, me)
            if give_to is not None and current.assignee != give_to:
                routing.check_capacity(db, give_to, current.channel, contact_id)
                routing.note_given(db, give_to, now)
            columns = ", ".join(changes)
            before = db.execute(
                f"SELECT {columns} FROM contacts WHERE id = %s", (contact_id,)
            ).fetchone()
            sets = ", ".join(f"{k} = %s" for k in changes)
            # one winner: of two writers that read the same version, the second finds the
            # row changed when the first commits and updates nothing
            after = db.execute(
                f"UPDATE contacts SET {sets}, updated_at = %s, version = version + 1 "
                f"WHERE id = %s AND version = %s RETURNING {columns}",
                (*changes.values(), now, contact_id, current.version),
            ).fetchone()
            if after is None:
                db.rollback()
                won = read_contact(db, contact_id)
                holder = f": taken by {won.assignee}" if won.assignee else ""
                raise Conflict(f"contact {contact_id} changed meanwhile{holder}", current=won)
            self._log(db, now, ChangeEntity.CONTACT, contact_id, action, me.name)
            audit.record(
                db,
                self.actor(me),
                now,
                action,
                "contact",
                contact_id,
                customer_id=current.customer_id,
                changes=diff(dict(zip(changes, before or ())), dict(zip(changes, after))),
            )
            return read_contact(db, contact_id)

    def claim(self, contact_id: int, *, expected_version: int | None = None) -> Contact:
        def check(current: Contact, me: Agent) -> None:
            if current.assignee not in (None, me.name):
                raise Conflict(
                    f"contact {contact_id} is taken by {current.assignee}", current=current
                )

        me = self._writer()
        now = records.to_ts(self.clock())
        return self._update_contact(
            contact_id,
            "claimed",
            {"assignee": me.name, "assigned_at": now, "status": "open"},
            expected_version,
            check,
            give_to=me.name,
        )

    def release(self, contact_id: int, *, expected_version: int | None = None) -> Contact:
        def check(current: Contact, me: Agent) -> None:
            if current.assignee not in (None, me.name) and me.role is not Role.ADMIN:
                raise Conflict(
                    f"contact {contact_id} is held by {current.assignee}", current=current
                )

        return self._update_contact(
            contact_id, "released", {"assignee": None, "assigned_at": None}, expected_version, check
        )

    def assign(
        self, contact_id: int, agent: str, *, expected_version: int | None = None
    ) -> Contact:
        rows.check_id(contact_id, "contact id")
        with self.store.read() as db:
            found = db.execute(
                "SELECT role, disabled_at FROM agents WHERE name = %s", (agent,)
            ).fetchone()
            held = db.execute(
                "SELECT assignee FROM contacts WHERE id = %s", (contact_id,)
            ).fetchone()
            if found is None:
                raise unknown_agent(db, agent)
        role, disabled_at = found
        if disabled_at is not None:
            raise InvalidInput(f"{agent} is disabled and cannot hold contacts")
        if role == Role.SUPERVISOR.value:
            raise InvalidInput(f"{agent} is a supervisor and cannot hold contacts")
        me = self._writer()
        takeover = held is not None and held[0] not in (None, me.name) and agent == me.name
        now = records.to_ts(self.clock())
        return self._update_contact(
            contact_id,
            "takeover" if takeover else "assigned",
            {"assignee": agent, "assigned_at": now},
            expected_version,
            None if agent == me.name else _not_anothers("reassign"),
            give_to=agent,
        )

    def set_status(
        self, contact_id: int, status: ContactStatus, *, expected_version: int | None = None
    ) -> Contact:
        status = ContactStatus(status)
        if status is ContactStatus.SNOOZED:
            raise InvalidInput("use snooze to snooze a contact (it needs a time)")
        now = records.to_ts(self.clock())
        changes: dict[str, Any] = {"status": status.value, "snoozed_until": None}
        changes["resolved_at"] = now if status is ContactStatus.RESOLVED else None
        check = _not_anothers("resolve") if status is ContactStatus.RESOLVED else None
        return self._update_contact(
            contact_id, f"status:{status.value}", changes, expected_version, check
        )

    def set_priority(
        self, contact_id: int, priority: Priority, *, expected_version: int | None = None
    ) -> Contact:
        rank = Priority(priority).rank
        return self._update_contact(
            contact_id, f"priority:{Priority(priority).value}", {"priority": rank}, expected_version
        )

    def snooze(
        self, contact_id: int, until: datetime, *, expected_version: int | None = None
    ) -> Contact:
        when = records.to_ts(until)
        if when <= records.to_ts(self.clock()):
            raise InvalidInput("snooze time is in the past")
        return self._update_contact(
            contact_id, "snoozed", {"status": "snoozed", "snoozed_until": when}, expected_version
        )

    def _post(
        self,
        contact_id: int,
        body: str,
        direction: Direction,
        channel: str | None,
        idempotency_key: str | None,
        template: str | None = None,
    ) -> Message:
        me = self._writer()
        if not body.strip() and not (template and direction is Direction.OUTBOUND):
            raise InvalidInput("the message is empty")
        now_dt = self.clock()
        now = records.to_ts(now_dt)
        with self.store.write() as db:
            if idempotency_key:
                # one key, one message: a retry racing the first waits for it here
                db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))",
                           (idempotency_key,))  # fmt: skip
                seen = db.execute(
                    f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE idempotency_key = %s",
                    (idempotency_key,),
                ).fetchone()
                if seen is not None:
                    return rows.message(seen)
            self._ensure_agent(db, me, now)
            contact = read_contact(db, contact_id, lock=True)
            if contact.assignee not in (None, me.name) and me.role is not Role.ADMIN:
                raise Conflict(
                    f"contact {contact_id} is held by {contact.assignee}", current=contact
                )
            try:
                out_channel = Channel(channel) if channel else contact.channel
            except ValueError as e:
                raise InvalidInput(f"unknown channel {channel!r}") from e
            outgoing = None
            if direction is Direction.OUTBOUND:
                outgoing = self._check_outbound(
                    db, contact, out_channel, body, template, me, now_dt
                )
                body = outgoing.body
            message_id = int(
                scalar(
                    db,
                    "INSERT INTO messages(customer_id, contact_id, direction, channel, author, "
                    "body, at, idempotency_key, delivery) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                    "RETURNING id",
                    (
                        contact.customer_id,
                        contact_id,
                        direction.value,
                        out_channel.value,
                        me.name,
                        body,
                        now,
                        idempotency_key or None,
                        Delivery.QUEUED.value if outgoing else None,
                    ),
                )
            )
            sets = "updated_at = %s, version = version + 1"
            params: list[Any] = [now]
            if contact.assignee is None:
                sets += ", assignee = %s, assigned_at = %s"
                params += [me.name, now]
            if outgoing is not None:
                sets += ", first_response_at = coalesce(first_response_at, %s)"
                params.append(now)
                if contact.status in (ContactStatus.NEW, ContactStatus.OPEN):
                    sets += ", status = 'pending'"
                event_id = self._add_event(
                    db,
                    contact.customer_id,
                    now,
                    EventKind.REPLY,
                    out_channel.value,
                    f"Reply by {me.name}: {body[:120]}",
                    {
                        "body": body,
                        "author": me.name,
                        "message_id": message_id,
                        "delivery": Delivery.QUEUED.value,
                    },
                    contact_id,
                )
                outbox_store.enqueue(
                    db,
                    message_id=message_id,
                    channel=out_channel,
                    recipient=outgoing.recipient,
                    recipient_name=outgoing.recipient_name,
                    subject=outgoing.subject,
                    html=outgoing.html,
                    customer_id=contact.customer_id,
                    event_id=event_id,
                    now=now,
                )
            watched = ("status", "assignee", "first_response_at")
            before = db.execute(
                f"SELECT {', '.join(watched)} FROM contacts WHERE id = %s", (contact_id,)
            ).fetchone()
            after = db.execute(
                f"UPDATE contacts SET {sets} WHERE id = %s RETURNING {', '.join(watched)}",
                (*params, contact_id),
            ).fetchone()
            self._log(db, now, ChangeEntity.CONTACT, contact_id, direction.value, me.name)
            audit.record(
                db,
                self.actor(me),
                now,
                "reply" if direction is Direction.OUTBOUND else "note",
                "message",
                message_id,
                customer_id=contact.customer_id,
                changes=message_changes(
                    body,
                    out_channel.value,
                    contact_id,
                    outgoing.recipient if outgoing is not None else None,
                    dict(zip(watched, before or ())),
                    dict(zip(watched, after or ())),
                ),
                detail={"contact_id": contact_id, "template": template or ""},
            )
            row = db.execute(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE id = %s", (message_id,)
            ).fetchone()
        return rows.message(row)

    def _check_outbound(
        self,
        db: Conn,
        contact: Contact,
        channel: Channel,
        body: str,
        template_name: str | None,
        me: Agent,
        now: datetime,
    ) -> _Outgoing:
        """What to send and where, or InvalidInput for a broken channel rule or a known
        template variable left unfilled (as the SQLite store)."""
        template = self._template(db, template_name) if template_name else None
        customer = self._customer(contact.customer_id)
        source = body if body.strip() else (template.body if template else "")
        found = self.customer_facts(contact.customer_id) if templating.needs_facts(source) else None
        values = templating.variables(customer, found, contact, me)
        if not body.strip() and template is not None:
            body = templating.fill(template.body, values)
        stored = db.execute("SELECT body, html FROM templates").fetchall()
        known = templating.known_variables(t for row in stored for t in row)
        missing = templating.unresolved(body, values, known)
        if missing:
            raise InvalidInput(templating.unresolved_message(missing), "Template")
        last_whatsapp = scalar(
            db,
            "SELECT max(last_inbound_at) FROM contacts WHERE customer_id = %s "
            "AND channel = 'whatsapp'",
            (contact.customer_id,),
        )
        problems = channels.check_reply(
            channel,
            body,
            now=now,
            last_inbound_at=contact.last_inbound_at,
            contact_channel=contact.channel,
            customer=customer if channel is not contact.channel else None,
            template=template,
            whatsapp_inbound_at=records.from_ts(last_whatsapp),
        )
        if problems:
            raise InvalidInput("; ".join(p.message for p in problems), "Channel rule")
        refused = consent.consent_problem(
            channel,
            customer.consents,
            now=now,
            contact_channel=contact.channel,
            last_inbound_at=contact.last_inbound_at,
        )
        if refused:
            raise InvalidInput(refused, "Consent")
        html = None
        if template is not None and template.html and body == templating.fill(template.body,
                                                                               values):  # fmt: skip
            html = templating.fill_html(template.html, values)
        subject = contact.subject.strip()
        if subject and not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        return _Outgoing(
            body=body,
            recipient=self._recipient(db, contact, channel, customer),
            recipient_name=f"{customer.first_name} {customer.last_name}".strip(),
            subject=subject,
            html=html,
        )

    @staticmethod
    def _recipient(db: Conn, contact: Contact, channel: Channel, customer: Customer) -> str:
        """Where a reply on `channel` goes: the address the customer wrote from on this
        contact, else the first one on file for that channel ('' when none)."""
        if channel is contact.channel:
            author = scalar(
                db,
                "SELECT author FROM messages WHERE contact_id = %s AND direction = 'inbound' "
                "ORDER BY at DESC, id DESC LIMIT 1",
                (contact.id,),
            )
            wrote_from = str(author).strip() if author is not None else ""
            if channel is Channel.EMAIL and "@" in wrote_from:
                return wrote_from
            if channel in (Channel.SMS, Channel.WHATSAPP) and (
                wrote_from[:1].isdigit() or wrote_from.startswith("+")
            ):
                return wrote_from
        if channel is Channel.EMAIL and customer.emails:
            return customer.emails[0]
        if channel in (Channel.SMS, Channel.WHATSAPP) and customer.phones:
            return customer.phones[0]
        return ""

    @staticmethod
    def _template(db: Conn, name: str) -> Template:
        """The template a reply names: one that may be sent (not retired; a WhatsApp
        template only once its provider approved it)."""
        row = db.execute("SELECT * FROM templates WHERE name = %s", (name,)).fetchone()
        if row is None:
            raise InvalidInput(f"no template named {name!r} (see `vista templates`)")
        return templating.check_sendable(rows.template(row))

    def reply(
        self,
        contact_id: int,
        body: str,
        *,
        channel: str | None = None,
        idempotency_key: str | None = None,
        template: str | None = None,
    ) -> Message:
        return self._post(contact_id, body, Direction.OUTBOUND, channel, idempotency_key, template)

    def retry_message(self, message_id: int) -> Message:
        """See `Backend.retry_message`; the key rule is `outbox.requeue`'s."""
        me = self._writer()
        rows.check_id(message_id, "message id")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            row = db.execute(
                "SELECT m.direction, m.delivery, m.contact_id, m.channel, m.body, o.status "
                "FROM messages m LEFT JOIN outbox o ON o.message_id = m.id WHERE m.id = %s "
                "FOR UPDATE OF m",
                (message_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"message {message_id} not found")
            direction, delivery, contact_id, channel, body, status = row
            if direction != Direction.OUTBOUND.value or status is None:
                raise InvalidInput(
                    f"message {message_id} is not a reply Vista sent: there is nothing to retry"
                )
            if status != "failed":
                raise Conflict(
                    f"message {message_id} is {delivery or status}, not failed: only a failed "
                    "reply is sent again"
                )
            contact = read_contact(db, contact_id)
            if contact.assignee not in (None, me.name) and me.role is not Role.ADMIN:
                raise Conflict(
                    f"contact {contact.id} is held by {contact.assignee}", current=contact
                )
            if channel == Channel.WHATSAPP.value and (
                outbox_store.whatsapp_form(db, contact.customer_id, body, now) is None
            ):
                raise InvalidInput(
                    f"message {message_id} is free text and WhatsApp's 24-hour window has "
                    "closed since: write a new reply with an approved template",
                    "Channel rule",
                )
            self._ensure_agent(db, me, now)
            outbox_store.requeue(db, message_id, now)
            self._log(db, now, ChangeEntity.CONTACT, contact.id, "retry", me.name)
            audit.record(
                db,
                self.actor(me),
                now,
                "retry",
                "message",
                message_id,
                customer_id=contact.customer_id,
                changes={"outbox.status": [status, "queued"]},
            )
            found = db.execute(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE id = %s", (message_id,)
            ).fetchone()
        return rows.message(found)

    def add_note(
        self, contact_id: int, body: str, *, idempotency_key: str | None = None
    ) -> Message:
        return self._post(contact_id, body, Direction.NOTE, None, idempotency_key)

    @staticmethod
    def _add_event(
        db: Conn,
        customer_id: int,
        at: int,
        kind: EventKind,
        channel: str,
        summary: str,
        payload: dict[str, Any],
        contact_id: int | None = None,
    ) -> int:
        return int(
            scalar(
                db,
                "INSERT INTO events(customer_id, at, kind, channel, source, summary, payload, "
                "contact_id) VALUES (%s,%s,%s,%s,'vista',%s,%s,%s) RETURNING id",
                (
                    customer_id,
                    at,
                    kind.value,
                    channel,
                    summary,
                    json.dumps(payload, ensure_ascii=False),
                    contact_id,
                ),
            )
        )

    def add_customer_note(self, customer_id: int, body: str) -> TimelineEvent:
        me = self._writer()
        if not body.strip():
            raise InvalidInput("the note is empty")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            self._require_customer(db, customer_id)
            self._ensure_agent(db, me, now)
            event_id = self._add_event(
                db,
                customer_id,
                now,
                EventKind.NOTE,
                "",
                f"Note by {me.name}: {body[:120]}",
                {"body": body, "author": me.name},
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "note", me.name)
            audit.record(
                db,
                self.actor(me),
                now,
                "customer-note",
                "event",
                event_id,
                customer_id=customer_id,
                changes={"body": [None, body]},
            )
        return self.get_event(event_id)

    def edit_profile(
        self, customer_id: int, field: str, value: str, *, expected_version: int | None = None
    ) -> Customer:
        me = self._writer()
        if field not in EDITABLE_FIELDS:
            raise InvalidInput(
                f"field {field!r} cannot be edited here; editable: {', '.join(EDITABLE_FIELDS)}"
            )
        value = value.strip()
        if field in ("tier", "segment"):
            cfg = computed.load(computed.locate(None))
            value = computed.check_choice(
                field, value, cfg.tiers if field == "tier" else cfg.segments
            )
        if field == "birth_date" and value:
            try:
                value = datetime.strptime(value, "%Y-%m-%d").date().isoformat()
            except ValueError as e:
                raise InvalidInput(f"birth_date must be YYYY-MM-DD (got {value!r})") from e
        rows.check_id(customer_id, "customer id")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            row = db.execute(
                f"SELECT {field} AS old, version, provenance FROM customers WHERE id = %s "
                "FOR UPDATE",
                (customer_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"no customer with id {customer_id}")
            if expected_version is not None and row[1] != expected_version:
                raise Conflict(
                    f"customer {customer_id} changed meanwhile (version {row[1]}, "
                    f"you had {expected_version})"
                )
            provenance = provenance_text.loads(row[2])
            provenance[field] = {"source": f"agent:{me.name}", "at": now, "losers": [row[0]]}
            db.execute(
                f"UPDATE customers SET {field} = %s, provenance = %s, updated_at = %s, "
                "version = version + 1 WHERE id = %s",
                (
                    value or (None if field == "birth_date" else ""),
                    json.dumps(provenance),
                    now,
                    customer_id,
                ),
            )
            if field in ("first_name", "last_name"):
                names = scalar(
                    db,
                    "SELECT first_name || ' ' || last_name FROM customers WHERE id = %s",
                    (customer_id,),
                )
                db.execute(
                    "UPDATE customer_search SET name = %s WHERE customer_id = %s",
                    (plain(names), customer_id),
                )
            self._ensure_agent(db, me, now)
            self._add_event(
                db,
                customer_id,
                now,
                EventKind.PROFILE_CHANGE,
                "",
                f"{field} changed by {me.name}",
                {"field": field, "old": row[0], "new": value, "author": me.name},
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, f"edit:{field}", me.name)
            new = scalar(db, f"SELECT {field} FROM customers WHERE id = %s", (customer_id,))
            audit.record(
                db,
                self.actor(me),
                now,
                "edit",
                "customer",
                customer_id,
                customer_id=customer_id,
                changes=diff({field: row[0]}, {field: new}),
            )
        return self._customer(customer_id)

    def set_consent(self, customer_id: int, channel: str, granted: bool) -> Customer:
        me = self._writer()
        try:
            which = consent.consent_channel(channel)
        except ValueError as e:
            raise InvalidInput(str(e)) from e
        rows.check_id(customer_id, "customer id")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            old = consents.set_consent(db, customer_id, which, bool(granted), me.name, now)
            self._ensure_agent(db, me, now)
            word = "given" if granted else "withdrawn"
            self._add_event(
                db,
                customer_id,
                now,
                EventKind.PROFILE_CHANGE,
                which.value,
                f"{which.value} consent {word} by {me.name}",
                {
                    "field": f"consent_{which.value}",
                    "old": old,
                    "new": bool(granted),
                    "author": me.name,
                },
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "consent", me.name)
            audit.record(
                db,
                self.actor(me),
                now,
                "consent",
                "customer",
                customer_id,
                customer_id=customer_id,
                changes={f"consent_{which.value}": [old, bool(granted)]},
            )
        return self.get_customer(customer_id)

    # -- templates (admins) ---------------------------------------------------------

    def add_template(
        self,
        name: str,
        body: str,
        *,
        channel: str | None = None,
        language: str = "",
        html: str | None = None,
    ) -> Template:
        me = self._writer()
        self._admin("add templates")
        with self.store.write() as db:
            before = template_store.fields(db, name)
            template = template_store.add(db, name, body, channel, language, html)
            self._audit_template(db, me, "template-add", before, template)
            return template

    def edit_template(
        self,
        name: str,
        *,
        body: str | None = None,
        channel: str | None = None,
        language: str | None = None,
        html: str | None = None,
    ) -> Template:
        me = self._writer()
        self._admin("edit templates")
        with self.store.write() as db:
            before = template_store.fields(db, name)
            template = template_store.edit(db, name, body, channel, language, html)
            self._audit_template(db, me, "template-edit", before, template)
            return template

    def approve_template(self, name: str, provider_name: str) -> Template:
        me = self._writer()
        self._admin("approve templates")
        with self.store.write() as db:
            before = template_store.fields(db, name)
            template = template_store.approve(db, name, provider_name)
            self._audit_template(db, me, "template-approve", before, template)
            return template

    def retire_template(self, name: str) -> Template:
        me = self._writer()
        self._admin("retire templates")
        with self.store.write() as db:
            before = template_store.fields(db, name)
            template = template_store.retire(db, name)
            self._audit_template(db, me, "template-retire", before, template)
            return template

    def _audit_template(
        self, db: Conn, me: Agent, action: str, before: dict[str, Any], template: Template
    ) -> None:
        audit.record(
            db,
            self.actor(me),
            records.to_ts(self.clock()),
            action,
            "template",
            template.name,
            changes=diff(before, dict(to_builtins(template))),
        )

    def outbox(self) -> outbox_store.PgOutbox:
        """See `Backend.outbox`: this database's outbox, shared by every server process."""
        self._writer()
        origin = Origin.WEBHOOK if self._origin == Origin.WEBHOOK else Origin.DISPATCHER
        actor = Actor("dispatcher", "", self._token, origin.value)
        return outbox_store.PgOutbox(self.store, actor=actor)

    def deliver_inbound(
        self,
        channel: Channel,
        sender: str,
        text: str,
        *,
        at: datetime | None = None,
        external_id: str | None = None,
        name: str = "",
        subject: str = "",
        in_reply_to: str = "",
        references: tuple[str, ...] = (),
    ) -> InboundResult:
        """A customer's message arrived: see `Backend.deliver_inbound` (postgres/inbound.py)."""
        me = self._writer()
        return inbound.deliver_inbound(
            self.store,
            me,
            self.actor(me),
            self.clock(),
            channel,
            sender,
            text,
            at=at,
            external_id=external_id,
            name=name,
            subject=subject,
            in_reply_to=in_reply_to,
            references=references,
        )

    # -- API tokens -----------------------------------------------------------------

    def _admin(self, doing: str) -> Agent:
        me = self.whoami()
        if me.role is not Role.ADMIN:
            raise Forbidden(f"{me.name} is a {me.role.value}: only an admin may {doing}")
        return me

    def tokens(self) -> tuple[TokenInfo, ...]:
        self._admin("list API tokens")
        return tokens.list_tokens(self.store)

    def create_token(self, name: str, role: Role, agent: str | None = None) -> NewToken:
        me = self._writer()
        return tokens.create(self.store, name, role, agent, by=me, actor=self.actor(me))

    def revoke_token(self, name: str) -> TokenInfo:
        self._writer()
        me = self._admin("revoke API tokens")
        return tokens.revoke(self.store, name, actor=self.actor(me))

    def verify_token(self, token: str) -> TokenInfo | None:
        return tokens.verify(self.store, token)


def _refused_as_write(name: str) -> Callable[..., Any]:
    """A write this store does not offer: refused as a write first (ReadOnly for a
    read-only user, as every write), then as missing (`Backend`'s Unavailable, which names
    it)."""
    missing = getattr(Backend, name)

    @functools.wraps(missing)
    def refuse(self: PostgresBackend, *args: Any, **kwargs: Any) -> Any:
        self._writer()
        return missing(self, *args, **kwargs)

    return refuse


for _name in WRITE_METHODS:
    if getattr(PostgresBackend, _name) is getattr(Backend, _name):  # a mixin's counts
        setattr(PostgresBackend, _name, _refused_as_write(_name))

__all__ = ["AT_RISK_SECONDS", "PostgresBackend", "read_contact"]


def _not_anothers(verb: str) -> Callable[[Contact, Agent], None]:
    """A check for `_update_contact`: an operator may not `verb` a contact another agent
    holds (admins may)."""

    def check(current: Contact, me: Agent) -> None:
        held_by = current.assignee
        if held_by not in (None, me.name) and me.role is not Role.ADMIN:
            raise Forbidden(
                f"contact {current.id} is held by {held_by}: only an admin can {verb} it "
                f"(assign it to yourself to take it over, or {held_by} releases it)"
            )

    return check
