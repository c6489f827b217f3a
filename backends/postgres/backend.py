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
from typing import Any

import psycopg

from backends import limits, queue_page, records, templating
from backends import values as computed
from backends.answers import AnswerOps
from backends.audit_chain import Actor
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
from backends.inbound import Arrival
from backends.models import (
    Agent,
    Change,
    ChangeBatch,
    ChangeEntity,
    Channel,
    Contact,
    ContactDetail,
    ContactStatus,
    CustomerHit,
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
    utcnow,
)
from backends.postgres import (
    answers,
    consents,
    inbound,
    routing,
    rows,
    search,
    tokens,
)
from backends.postgres import outbox as outbox_store
from backends.postgres import templates as template_store
from backends.postgres.agents import AgentOps, unknown_agent
from backends.postgres.desk import DeskOps
from backends.postgres.governance import PgGovernance
from backends.postgres.identity.backend_ops import PgIdentityOps
from backends.postgres.stats import StatsQueries
from backends.postgres.store import PgStore, scalar
from backends.postgres.views import ViewQueries
from backends.postgres.views import check_limit as _limit
from backends.routing.agents import agent as agent_model
from backends.text import plain
from backends.writes import WriteOps

Conn = psycopg.Connection[Any]

#: A contact whose SLA falls due within this many seconds is "at risk".
AT_RISK_SECONDS = 15 * 60


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
    WriteOps,
    PgGovernance,
    AgentOps,
    DeskOps,
    StatsQueries,
    PgIdentityOps,
    AnswerOps,
    ViewQueries,
    Backend,
):
    """A PostgreSQL store as one agent. Thread-safe: every call takes a pooled connection."""

    _queue = outbox_store
    _templates = template_store
    _consents = consents
    _answers = answers

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
                # every column: a store of an older schema (`vista db` inspects one) may
                # not have disabled_at yet
                row = db.execute(
                    "SELECT * FROM agents WHERE name = %s", (self._agent_name,)
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
                disabled = "disabled_at" in row.names and row["disabled_at"] is not None
                me = Agent(row["name"], row["display_name"], Role(row["role"]), disabled=disabled)
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
                    first = search.window(db, "to_tsquery('simple', %s)", tsq, limit + len(ids))
                    ids.extend((r[0], target) for r in first)
            elif query is not None:
                tsq, param, target = query
                best = search.ranked(db, text, tsq, param, target, limit)
                ids.extend((cid, target) for cid in best)
                if target == "text" and len(ids) < limit and len(text) >= 3:
                    ids.extend((cid, "text") for cid in search.typos(db, text, limit))
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

    def queue_sql(
        self, query: QueueQuery, cursor: str | None, rows_wanted: int, backwards: bool = False
    ) -> tuple[str, list[Any]]:
        """The statement that reads a queue page (and its parameters), in queue order."""
        where, params = self._queue_where(query)
        after = None if cursor is None else rows.decode_cursor(cursor, len(queue_page.ORDER))
        return queue_page.statement(
            rows.CONTACT_COLUMNS, rows.CONTACT_FROM, where, params, after, rows_wanted,
            backwards, "%s",
        )  # fmt: skip

    def queue(
        self,
        query: QueueQuery = QueueQuery(),
        *,
        cursor: str | None = None,
        limit: int = 50,
        backwards: bool = False,
    ) -> QueuePage:
        _limit(limit)
        sql, params = self.queue_sql(query, cursor, limit + 1, backwards)
        with self.store.single_reads() as db:  # one statement, one round trip
            # never prepared: a generic plan reads the page's LIMIT and filters blind
            # (at 1M it scans the open queue in parallel workers: 40 ms against 1)
            found = db.execute(sql, params, prepare=False).fetchall()
        return queue_page.page(found, limit, cursor, backwards, rows.queue_key, rows.contact)

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
            self._contact_changed(
                db,
                me,
                now,
                action,
                current,
                dict(zip(changes, before or ())),
                dict(zip(changes, after)),
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

    # -- templates (admins) ---------------------------------------------------------

    # -- the write flows' SQL (backends/writes.py) -------------------------------------

    def _check_id(self, value: int, what: str) -> None:
        rows.check_id(value, what)

    def _read_contact(self, db: Conn, contact_id: int, *, lock: bool = False) -> Contact:
        return read_contact(db, contact_id, lock=lock)

    def _read_message(self, db: Conn, message_id: int) -> Message:
        return rows.message(
            db.execute(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE id = %s", (message_id,)
            ).fetchone()
        )

    def _message_by_key(self, db: Conn, key: str) -> Message | None:
        # one key, one message: a retry racing the first waits for it here
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (key,))
        seen = db.execute(
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE idempotency_key = %s", (key,)
        ).fetchone()
        return None if seen is None else rows.message(seen)

    def _insert_message(
        self, db: Conn, contact: Contact, direction: Direction, channel: Channel, author: str,
        body: str, now: int, key: str | None, delivery: str | None,
    ) -> int:  # fmt: skip
        values = (contact.customer_id, contact.id, direction.value, channel.value, author, body)
        found = scalar(
            db,
            "INSERT INTO messages(customer_id, contact_id, direction, channel, author, "
            "body, at, idempotency_key, delivery) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "RETURNING id",
            (*values, now, key, delivery),
        )
        return int(found)

    def _touch_contact(
        self, db: Conn, contact_id: int, now: int, sets: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        watched = ("status", "assignee", "first_response_at")
        before = db.execute(
            f"SELECT {', '.join(watched)} FROM contacts WHERE id = %s", (contact_id,)
        ).fetchone()
        after = db.execute(
            f"UPDATE contacts SET {''.join(f'{column} = %s, ' for column in sets)}"
            f"updated_at = %s, version = version + 1 WHERE id = %s RETURNING {', '.join(watched)}",
            (*sets.values(), now, contact_id),
        ).fetchone()
        return dict(zip(watched, before or ())), dict(zip(watched, after or ()))

    def _template_texts(self, db: Conn) -> list[tuple[str, str | None]]:
        return [(r[0], r[1]) for r in db.execute("SELECT body, html FROM templates")]

    def _sendable_template(self, db: Conn, name: str) -> Template:
        row = db.execute("SELECT * FROM templates WHERE name = %s", (name,)).fetchone()
        if row is None:
            raise InvalidInput(f"no template named {name!r} (see `vista templates`)")
        return templating.check_sendable(rows.template(row))

    def _last_whatsapp_inbound(self, db: Conn, customer_id: int) -> datetime | None:
        return records.from_ts(
            scalar(
                db,
                "SELECT max(last_inbound_at) FROM contacts WHERE customer_id = %s "
                "AND channel = 'whatsapp'",
                (customer_id,),
            )
        )

    def _last_inbound_author(self, db: Conn, contact_id: int) -> str | None:
        author = scalar(
            db,
            "SELECT author FROM messages WHERE contact_id = %s AND direction = 'inbound' "
            "ORDER BY at DESC, id DESC LIMIT 1",
            (contact_id,),
        )
        return None if author is None else str(author)

    def _sent_reply(self, db: Conn, message_id: int) -> tuple[Any, ...] | None:
        row = db.execute(
            "SELECT m.direction, m.delivery, m.contact_id, m.channel, m.body, o.status "
            "FROM messages m LEFT JOIN outbox o ON o.message_id = m.id WHERE m.id = %s "
            "FOR UPDATE OF m",
            (message_id,),
        ).fetchone()
        return None if row is None else tuple(row)

    def _value_config(self) -> computed.ValuesConfig:
        return computed.load(computed.locate(None))

    def _profile_row(self, db: Conn, customer_id: int, field: str) -> tuple[Any, int, str] | None:
        row = db.execute(
            f"SELECT {field}, version, provenance FROM customers WHERE id = %s FOR UPDATE",
            (customer_id,),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def _set_profile(
        self, db: Conn, customer_id: int, field: str, value: Any, kept: dict[str, Any], now: int
    ) -> None:
        db.execute(
            f"UPDATE customers SET {field} = %s, provenance = %s, updated_at = %s, "
            "version = version + 1 WHERE id = %s",
            (value, json.dumps(kept), now, customer_id),
        )

    def _refresh_search_name(self, db: Conn, customer_id: int) -> None:
        names = scalar(
            db, "SELECT first_name || ' ' || last_name FROM customers WHERE id = %s", (customer_id,)
        )
        db.execute(
            "UPDATE customer_search SET name = %s WHERE customer_id = %s",
            (plain(names), customer_id),
        )

    def _profile_value(self, db: Conn, customer_id: int, field: str) -> Any:
        return scalar(db, f"SELECT {field} FROM customers WHERE id = %s", (customer_id,))

    def _deliver(self, me: Agent, actor: Actor, arrival: Arrival) -> InboundResult:
        return inbound.deliver_inbound(self.store, me, actor, arrival)

    def outbox(self) -> outbox_store.PgOutbox:
        """See `Backend.outbox`: this database's outbox, shared by every server process."""
        self._writer()
        origin = Origin.WEBHOOK if self._origin == Origin.WEBHOOK else Origin.DISPATCHER
        actor = Actor("dispatcher", "", self._token, origin.value)
        return outbox_store.PgOutbox(self.store, actor=actor)

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
