"""The embedded backend: the Backend contract over one SQLite file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from backends import limits, queue_page, records, templating
from backends import provenance as provenance_text
from backends.answers import AnswerOps
from backends.base import (
    Backend,
    Capability,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ReadOnly,
    Unavailable,
)
from backends.governance import GovernanceOps
from backends.inbound import Arrival
from backends.models import (
    OPEN_STATUSES,
    Agent,
    Change,
    ChangeBatch,
    ChangeEntity,
    Channel,
    Contact,
    ContactDetail,
    ContactStatus,
    Customer,
    CustomerFacts,
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
    StoreInfo,
    Template,
    TimelineEvent,
    TimelinePage,
    TokenInfo,
    utcnow,
)
from backends.ranking import Ranking
from backends.records import customer as customer_model
from backends.sqlite import answers, audit, deferred, gdpr, routing, rows, wal
from backends.sqlite import consents as consent_store
from backends.sqlite import outbox as outbox_store
from backends.sqlite import templates as template_store
from backends.sqlite import values as computed
from backends.sqlite.agents import AgentOps, unknown_agent
from backends.sqlite.contacts import read_contact
from backends.sqlite.desk_ops import DeskOps
from backends.sqlite.identity.backend_ops import IdentityOps
from backends.sqlite.identity.encoding import EXTERNAL_IDS, OWN_EXTERNAL_ID, RAW
from backends.sqlite.record_shapes import FIELDS, SHAPE_JOIN
from backends.sqlite.search import first_keystroke, fts_query
from backends.sqlite.stats import StatsQueries
from backends.sqlite.store import Store
from backends.sqlite.tokens import TokenStore
from backends.text import plain
from backends.values import ValuesConfig
from backends.writes import WriteOps

#: A contact whose SLA falls due within this many seconds is "at risk".
AT_RISK_SECONDS = 15 * 60

#: How many full-text matches are ranked for one search (see search_customers).
SEARCH_WINDOW = 1000


def _limit(limit: int, high: int = 500) -> int:
    if not 1 <= limit <= high:
        raise InvalidInput(f"limit must be between 1 and {high} (got {limit})")
    return limit


class SQLiteBackend(
    WriteOps, GovernanceOps, AgentOps, StatsQueries, IdentityOps, DeskOps, AnswerOps, Backend
):
    """Vista's embedded store. Thread-safe: one connection per thread."""

    _trail = audit
    _personal = gdpr
    _queue = outbox_store
    _templates = template_store
    _consents = consent_store
    _answers = answers

    CAPABILITIES = (
        Capability.WRITE
        | Capability.LIVE_UPDATES
        | Capability.FULL_TEXT_SEARCH
        | Capability.KPIS
        | Capability.IDENTITY
        | Capability.INBOUND
        | Capability.IMPORT
        | Capability.OUTBOX
        | Capability.TOKENS
        | Capability.INSPECT
        | Capability.AUDIT
        | Capability.PERSONAL_DATA
        | Capability.ROUTING
        | Capability.CALLS
        | Capability.KNOWLEDGE
    )

    def __init__(
        self,
        store: Store | str | Path,
        *,
        agent: str = "operator",
        role: Role | None = None,
        read_only: bool = False,
        create: bool = False,
        inspect: bool = False,
        clock: Callable[[], datetime] = utcnow,
        import_workers: int | None = None,
        origin: str = Origin.CONSOLE.value,
        token: str | None = None,
        read_audit: bool = False,
        audit_store: Store | None = None,
    ) -> None:
        """The store as `agent`.

        Args:
            store: an open `Store`, shared (its own mode applies; `close` leaves it
                open), or the path of a file to open (with `read_only`, `create` and
                `inspect` as `Store` takes them; `close` closes it).
            agent: who acts: an agent of the agents table (an unknown or disabled one is
                refused, naming the known ones); on a store without agents yet, its owner
                works as an operator.
            role: act with this role whatever the agents table says (a server passes
                its verified token's role).
            clock: the current time, for writes and the queue's SLA filters.
            import_workers: processes that prepare an import's rows (None: by file
                size; 0: in this process, as a server wants).
            origin: where this backend's calls come from (console, cli, api, webhook),
                and `token` the API token's name: both go into the audit trail.
            read_audit: record every read of a customer's profile in the audit trail
                (into `audit_store` when this store is read-only, as a server's
                supervisors' is; a read-only file without one records nothing).
        """
        if isinstance(store, Store):
            self.store, self._owns_store = store, False
        else:
            self.store = Store(store, read_only=read_only, create=create, inspect=inspect)
            self._owns_store = True
        self.clock = clock
        self._agent_name = agent
        self._role = role
        self._agent: Agent | None = None
        self.import_workers = import_workers
        self._audit_setup(origin, token, read_audit, audit_store)

    # -- identity --------------------------------------------------------------

    @property
    def location(self) -> str:
        return str(self.store.path)

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
                    "SELECT * FROM agents WHERE name = ?", (self._agent_name,)
                ).fetchone()
                if (
                    row is None
                    and self._role is None
                    and db.execute("SELECT 1 FROM agents LIMIT 1").fetchone() is not None
                ):
                    raise unknown_agent(db, self._agent_name)
            if row is None:  # the owner of a new local file, or a token's agent
                me = Agent(self._agent_name, self._agent_name, Role.OPERATOR)
            else:
                me = routing.agent(row)
                if me.disabled:
                    raise Forbidden(f"agent {me.name} is disabled (an admin enables them)")
            if self._role is not None:
                me = msgspec.structs.replace(me, role=Role(self._role))
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
            found = db.execute("SELECT * FROM agents ORDER BY name").fetchall()
        return tuple(routing.agent(r) for r in found)

    # -- customers ------------------------------------------------------------

    def search_customers(self, text: str, limit: int = 20) -> tuple[CustomerHit, ...]:
        _limit(limit)
        text = text.strip()
        if not text:
            return ()
        with self.store.read() as db:
            order = None
            if any(ch.isdigit() for ch in text) and " " not in text:
                # order numbers are stored upper-case: an exact primary-key lookup
                order = db.execute(
                    "SELECT customer_id FROM orders WHERE number = ?", (text.upper(),)
                ).fetchone()
            ids: list[tuple[int, str]] = []
            if order is not None:
                ids.append((order[0], "order"))
            short = first_keystroke(text)
            query = fts_query(text) if short is None else None
            if short is not None:  # no ranking for one character: see first_keystroke
                for match, target in short:
                    if len(ids) >= limit:
                        break
                    ids.extend(
                        (r[0], target)
                        for r in db.execute(
                            "SELECT rowid FROM customer_search WHERE customer_search MATCH ? LIMIT ?",
                            (match, limit + len(ids)),  # room for rows already listed
                        )
                    )
            elif query is not None:
                match, target = query
                # Rank at most SEARCH_WINDOW matches: a two-letter prefix matches
                # a large share of a million customers, and ranking all of them
                # would make type-ahead cost grow with the store.
                found = db.execute(
                    "SELECT rowid, bm25(customer_search, 10.0, 4.0, 4.0, 2.0), name, emails, "
                    "phones, orders FROM customer_search WHERE customer_search MATCH ? LIMIT ?",
                    (match, SEARCH_WINDOW),
                ).fetchall()
                if target == "text":
                    key = Ranking(text).key
                    found.sort(key=lambda r: key(r[2:], r[1], r[0]))
                else:
                    found.sort(key=lambda r: (r[1], r[0]))
                ids.extend((r[0], target) for r in found[:limit])
            wanted = list(dict.fromkeys(cid for cid, _ in ids))[:limit]
            matched_by: dict[int, str] = {}
            for cid, matched in ids:
                matched_by.setdefault(cid, "name" if matched == "text" else matched)
            found_rows = (
                {
                    r["id"]: r
                    for r in db.execute(
                        "SELECT id, first_name, last_name, emails, phones, addresses, segment "
                        f"FROM customers WHERE id IN ({','.join('?' * len(wanted))})",
                        wanted,
                    )
                }
                if wanted
                else {}
            )
        hits: list[CustomerHit] = []
        for cid in wanted:
            row = found_rows.get(cid)
            if row is None:
                continue
            emails = json.loads(row["emails"])
            phones = json.loads(row["phones"])
            addresses = json.loads(row["addresses"])
            hits.append(
                CustomerHit(
                    id=row["id"],
                    name=f"{row['first_name']} {row['last_name']}".strip(),
                    email=emails[0] if emails else "",
                    phone=phones[0] if phones else "",
                    city=addresses[0].get("city", "") if addresses else "",
                    segment=row["segment"],
                    matched=matched_by[cid],
                )
            )
        return tuple(hits)

    def get_customer(self, customer_id: int) -> Customer:
        customer = self._customer(customer_id)
        self._audit_read(customer_id, "profile")
        return customer

    def _customer(self, customer_id: int) -> Customer:
        """`get_customer` without the read audit (the backend's own reads)."""
        with self.store.read() as db:
            row = db.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
            if row is None:
                raise NotFound(f"no customer with id {customer_id}")
            records = db.execute(
                f"SELECT r.id, r.source, r.source_id, r.customer_id, {FIELDS} AS fields, "
                f"r.received_at, r.updated_at FROM source_records r {SHAPE_JOIN} "
                "WHERE r.customer_id = ? ORDER BY r.source, r.source_id",
                (customer_id,),
            ).fetchall()
            idents = db.execute(
                f"SELECT i.kind, i.value, {RAW} AS raw, r.source FROM identities i "
                f"JOIN source_records r ON r.id = i.record_id WHERE r.customer_id = ? "
                f"AND NOT ({OWN_EXTERNAL_ID}) UNION ALL {EXTERNAL_IDS} AND r.customer_id = ? "
                "ORDER BY 1, 2, 4",
                (customer_id, customer_id),
            ).fetchall()
        return customer_model(row, idents, records)

    def _require_customer(self, db: sqlite3.Connection, customer_id: int) -> None:
        if db.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            raise NotFound(f"no customer with id {customer_id}")

    def customer_facts(self, customer_id: int) -> CustomerFacts:
        with self.store.read() as db:
            self._require_customer(db, customer_id)
            order = db.execute(
                "SELECT number, status, at, total FROM orders WHERE customer_id = ? "
                "ORDER BY at DESC LIMIT 1",
                (customer_id,),
            ).fetchone()
            orders_count = db.execute(
                "SELECT count(*) FROM orders WHERE customer_id = ?", (customer_id,)
            ).fetchone()[0]
            contacts = db.execute(
                "SELECT count(*) FILTER (WHERE status <> 'resolved') AS open, "
                "avg(csat) AS csat FROM contacts WHERE customer_id = ?",
                (customer_id,),
            ).fetchone()
            last = db.execute(
                "SELECT created_at, channel, status, intent FROM contacts WHERE customer_id = ? "
                "ORDER BY created_at DESC LIMIT 1",
                (customer_id,),
            ).fetchone()
            tickets = db.execute(
                "SELECT count(*) FROM events WHERE customer_id = ? AND kind = 'ticket' "
                "AND json_extract(payload, '$.status') NOT IN ('closed', 'solved')",
                (customer_id,),
            ).fetchone()[0]
            nps = db.execute(
                "SELECT json_extract(payload, '$.nps') FROM events WHERE customer_id = ? "
                "AND kind = 'survey' AND json_extract(payload, '$.nps') IS NOT NULL "
                "ORDER BY at DESC LIMIT 1",
                (customer_id,),
            ).fetchone()
            web = _web_journey(db, customer_id, order["at"] if order else None)
        outcome = None
        if last is not None:
            outcome = "resolved" if last["status"] == "resolved" else last["status"]
        return CustomerFacts(
            customer_id=customer_id,
            last_order_number=order["number"] if order else None,
            last_order_status=order["status"] if order else None,
            last_order_at=records.from_ts(order["at"]) if order else None,
            last_order_total=order["total"] if order else None,
            open_tickets=tickets,
            open_contacts=contacts["open"] or 0,
            last_contact_at=records.from_ts(last["created_at"]) if last else None,
            last_contact_channel=last["channel"] if last else None,
            last_contact_outcome=outcome,
            orders_count=orders_count,
            csat_average=round(contacts["csat"], 2) if contacts["csat"] is not None else None,
            nps_last=nps[0] if nps else None,
            **web,
        )

    def timeline(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        cursor: str | None = None,
        limit: int = 50,
    ) -> TimelinePage:
        found, next_cursor = self.timeline_rows(
            customer_id, kinds=kinds, channels=channels, cursor=cursor, limit=limit
        )
        return TimelinePage(tuple(map(rows.event, found)), next_cursor)

    def timeline_rows(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[tuple[Any, ...]], str | None]:
        """`timeline` as stored rows (`rows.EVENT_COLUMNS` tuples) and the next cursor."""
        _limit(limit)
        where = ["customer_id = ?"]
        params: list[Any] = [customer_id]
        if kinds:
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            params.extend(EventKind(k).value for k in kinds)
        if channels:
            where.append(f"channel IN ({','.join('?' * len(channels))})")
            params.extend(channels)
        if cursor is not None:
            at, eid = rows.decode_cursor(cursor, 2)
            where.append("(at, id) < (?, ?)")
            params.extend((at, eid))
        with self.store.read() as db:
            if cursor is None:
                self._require_customer(db, customer_id)
            found = rows.tuples(
                db,
                f"SELECT {rows.EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} "
                "ORDER BY at DESC, id DESC LIMIT ?",
                (*params, limit + 1),
            )
        more = len(found) > limit
        found = found[:limit]
        next_cursor = records.encode_cursor(found[-1][2], found[-1][0]) if more else None
        return found, next_cursor

    def get_event(self, event_id: int) -> TimelineEvent:
        with self.store.read() as db:
            found = rows.tuples(
                db, f"SELECT {rows.EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)
            )
        if not found:
            raise NotFound(f"no timeline event with id {event_id}")
        return rows.event(found[0])

    # -- queue ------------------------------------------------------------------

    def _queue_where(self, query: QueueQuery) -> tuple[list[str], list[Any]]:
        now = records.to_ts(self.clock())
        where = ["c.status <> 'resolved'"] if ContactStatus.RESOLVED not in query.statuses else []
        params: list[Any] = []
        statuses = [ContactStatus(s).value for s in query.statuses]
        if statuses:
            clause = f"c.status IN ({','.join('?' * len(statuses))})"
            params.extend(statuses)
            if ContactStatus.OPEN.value in statuses and ContactStatus.SNOOZED.value not in statuses:
                # a snooze that has run out puts the contact back in the queue
                clause = f"({clause} OR (c.status = 'snoozed' AND c.snoozed_until <= ?))"
                params.append(now)
            where.append(clause)
        if query.channels:
            where.append(f"c.channel IN ({','.join('?' * len(query.channels))})")
            params.extend(Channel(ch).value for ch in query.channels)
        if query.unassigned:
            where.append("c.assignee IS NULL")
        elif query.assignee is not None:
            where.append("c.assignee = ?")
            params.append(query.assignee)
        if query.priorities:
            where.append(f"c.priority IN ({','.join('?' * len(query.priorities))})")
            params.extend(Priority(p).rank for p in query.priorities)
        # the SLA clock stops at the first reply (or resolution), as the KPIs count it:
        # then it was met or breached for good, whatever the time is now
        stopped = "coalesce(c.first_response_at, c.resolved_at)"
        if query.sla is SlaState.BREACHED:
            where.append(f"({stopped} IS NULL AND c.sla_due_at < ? OR {stopped} > c.sla_due_at)")
            params.append(now)
        elif query.sla is SlaState.AT_RISK:
            where.append(f"({stopped} IS NULL AND c.sla_due_at <= ? OR {stopped} > c.sla_due_at)")
            params.append(now + AT_RISK_SECONDS)
        elif query.sla is SlaState.OK:
            where.append(f"({stopped} IS NULL AND c.sla_due_at > ? OR {stopped} <= c.sla_due_at)")
            params.append(now + AT_RISK_SECONDS)
        elif query.sla is SlaState.NONE:
            where.append("c.sla_due_at IS NULL")
        if query.text.strip():
            like = (
                "%"
                + plain(query.text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            # as the queue shows them: a name with escapes or zero-width characters matches
            # by its visible letters (`vista_plain` is `backends.text.visible`)
            where.append(
                "(vista_plain(c.subject) LIKE ? ESCAPE '\\' OR "
                "vista_plain(cu.first_name || ' ' || cu.last_name) LIKE ? ESCAPE '\\')"
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
        after = None if cursor is None else rows.decode_cursor(cursor, len(queue_page.ORDER))
        sql, params = queue_page.statement(
            rows.CONTACT_COLUMNS, rows.CONTACT_FROM, where, params, after, limit + 1,
            backwards, "?",
        )  # fmt: skip
        with self.store.read() as db:
            found = db.execute(sql, params).fetchall()
        return queue_page.page(found, limit, cursor, backwards, rows.queue_key, rows.contact)

    def queue_count(self, query: QueueQuery = QueueQuery()) -> int:
        where, params = self._queue_where(query)
        join = rows.CONTACT_FROM if query.text.strip() else "contacts c"
        with self.store.read() as db:
            return int(
                db.execute(
                    f"SELECT count(*) FROM {join} WHERE {' AND '.join(where) or '1'}", params
                ).fetchone()[0]
            )

    def get_contact(self, contact_id: int) -> ContactDetail:
        with self.store.read() as db:
            contact = read_contact(db, contact_id)
            msgs = db.execute(
                "SELECT * FROM messages WHERE contact_id = ? ORDER BY at, id", (contact_id,)
            ).fetchall()
        return ContactDetail(contact, tuple(rows.message(m) for m in msgs))

    def templates(self, retired: bool = False) -> tuple[Template, ...]:
        with self.store.read() as db:
            found = db.execute(
                "SELECT * FROM templates WHERE ? OR NOT retired ORDER BY name", (int(retired),)
            ).fetchall()
        return tuple(rows.template(r) for r in found)

    def store_id(self) -> str:
        with self.store.read() as db:
            row = db.execute("SELECT value FROM store_meta WHERE key = 'store_id'").fetchone()
        if row is None:
            raise Unavailable(f"database {self.store.path} has no store id")
        return str(row[0])

    def changes(self, since: int = 0, limit: int = 500) -> ChangeBatch:
        _limit(limit, 10_000)
        limits.check_int(since, "since")
        with self.store.read() as db:
            if since < 0:
                end = db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
                return ChangeBatch((), end)
            found = db.execute(
                "SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit)
            ).fetchall()
        batch = tuple(
            Change(
                seq=r["seq"],
                at=records.ts(r["at"]),
                entity=ChangeEntity(r["entity"]),
                entity_id=r["entity_id"],
                action=r["action"],
                actor=r["actor"],
            )
            for r in found
        )
        return ChangeBatch(batch, batch[-1].seq if batch else since)

    # -- writes -------------------------------------------------------------------

    def _writer(self) -> Agent:
        """The acting agent, or ReadOnly. Registers a local owner on first write."""
        if self.store.read_only:
            raise ReadOnly(f"database {self.store.path} is open read-only")
        me = self.whoami()
        if not me.role.can_write:
            raise ReadOnly(f"{me.name} is a {me.role.value}: read-only")
        return me

    def _ensure_agent(self, db: sqlite3.Connection, me: Agent, now: int) -> None:
        """Registers the owner of a new store (or a token's agent) on their first write, and
        notes the agent's activity (an online agent idle too long counts as away)."""
        db.execute(
            "INSERT OR IGNORE INTO agents(name, display_name, role, created_at) VALUES (?,?,?,?)",
            (me.name, me.display_name, me.role.value, now),
        )
        db.execute("UPDATE agents SET last_active_at = ? WHERE name = ?", (now, me.name))

    @staticmethod
    def _log(
        db: sqlite3.Connection,
        now: int,
        entity: ChangeEntity,
        entity_id: int,
        action: str,
        actor: str,
    ) -> None:
        db.execute(
            "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
            (now, entity.value, entity_id, action, actor),
        )

    def _update_contact(
        self,
        contact_id: int,
        action: str,
        changes: dict[str, Any],
        expected_version: int | None,
        check: Callable[[Contact, Agent], None] | None = None,
    ) -> Contact:
        me = self._writer()
        now = records.to_ts(self.clock())
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
            columns = ", ".join(changes)
            before = db.execute(
                f"SELECT {columns} FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
            sets = ", ".join(f"{k} = ?" for k in changes)
            db.execute(
                f"UPDATE contacts SET {sets}, updated_at = ?, version = version + 1 "
                "WHERE id = ? AND version = ?",
                (*changes.values(), now, contact_id, current.version),
            )
            after = db.execute(
                f"SELECT {columns} FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
            self._contact_changed(db, me, now, action, current, dict(before), dict(after))
            return read_contact(db, contact_id)

    def claim(self, contact_id: int, *, expected_version: int | None = None) -> Contact:
        def check(current: Contact, me: Agent) -> None:
            if current.assignee not in (None, me.name):
                raise Conflict(
                    f"contact {contact_id} is taken by {current.assignee}", current=current
                )
            if current.assignee is None:
                routing.check_capacity(self.store.conn, me.name, current.channel, contact_id)
                routing.note_given(self.store.conn, me.name, now)

        me = self._writer()
        now = records.to_ts(self.clock())
        return self._update_contact(
            contact_id,
            "claimed",
            {"assignee": me.name, "assigned_at": now, "status": "open"},
            expected_version,
            check,
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
        with self.store.read() as db:
            row = db.execute(
                "SELECT role, disabled_at FROM agents WHERE name = ?", (agent,)
            ).fetchone()
            held = db.execute(
                "SELECT assignee FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
        if row is None:
            with self.store.read() as db:
                raise unknown_agent(db, agent)
        if row["role"] == Role.SUPERVISOR.value:
            raise InvalidInput(f"{agent} is a supervisor and cannot hold contacts")
        if row["disabled_at"] is not None:
            raise InvalidInput(f"{agent} is disabled and cannot hold contacts")
        me = self._writer()
        # an operator takes over another agent's contact only for themselves, and the
        # change feed says so; handing it to a third agent is an admin's call
        takeover = held is not None and held[0] not in (None, me.name) and agent == me.name
        now = records.to_ts(self.clock())
        others = None if agent == me.name else _not_anothers("reassign")

        def check(current: Contact, me: Agent) -> None:
            if others is not None:
                others(current, me)
            if current.assignee != agent:
                routing.check_capacity(self.store.conn, agent, current.channel, contact_id)
                routing.note_given(self.store.conn, agent, now)

        return self._update_contact(
            contact_id,
            "takeover" if takeover else "assigned",
            {"assignee": agent, "assigned_at": now},
            expected_version,
            check,
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
    def _last_whatsapp_inbound(db: sqlite3.Connection, customer_id: int) -> datetime | None:
        """When the customer last wrote on WhatsApp, on any of their contacts."""
        at = db.execute(
            "SELECT max(last_inbound_at) FROM contacts WHERE customer_id = ? "
            "AND channel = 'whatsapp'",
            (customer_id,),
        ).fetchone()[0]
        return records.ts(at) if at is not None else None

    @staticmethod
    def _add_event(
        db: sqlite3.Connection,
        customer_id: int,
        at: int,
        kind: EventKind,
        channel: str,
        summary: str,
        payload: dict[str, Any],
        contact_id: int | None = None,
    ) -> int:
        event_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0]
        db.execute(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
            "contact_id) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                customer_id,
                at,
                event_id,
                kind.value,
                channel,
                "vista",
                summary,
                json.dumps(payload, ensure_ascii=False),
                contact_id,
            ),
        )
        return int(event_id)

    # -- the write flows' SQL (backends/writes.py) -------------------------------------

    def _read_contact(
        self, db: sqlite3.Connection, contact_id: int, *, lock: bool = False
    ) -> Contact:
        return read_contact(db, contact_id)  # the writer's lock holds every row

    def _read_message(self, db: sqlite3.Connection, message_id: int) -> Message:
        return rows.message(
            db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        )

    def _message_by_key(self, db: sqlite3.Connection, key: str) -> Message | None:
        seen = db.execute("SELECT * FROM messages WHERE idempotency_key = ?", (key,)).fetchone()
        return None if seen is None else rows.message(seen)

    def _insert_message(
        self, db: sqlite3.Connection, contact: Contact, direction: Direction, channel: Channel,
        author: str, body: str, now: int, key: str | None, delivery: str | None,
    ) -> int:  # fmt: skip
        cur = db.execute(
            "INSERT INTO messages(contact_id, direction, channel, author, body, at, "
            "idempotency_key, delivery) VALUES (?,?,?,?,?,?,?,?)",
            (contact.id, direction.value, channel.value, author, body, now, key, delivery),
        )
        return int(cur.lastrowid or 0)

    def _touch_contact(
        self, db: sqlite3.Connection, contact_id: int, now: int, sets: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        watched = "SELECT status, assignee, first_response_at FROM contacts WHERE id = ?"
        before = db.execute(watched, (contact_id,)).fetchone()
        db.execute(
            f"UPDATE contacts SET {''.join(f'{column} = ?, ' for column in sets)}"
            "updated_at = ?, version = version + 1 WHERE id = ?",
            (*sets.values(), now, contact_id),
        )
        return dict(before), dict(db.execute(watched, (contact_id,)).fetchone())

    def _template_texts(self, db: sqlite3.Connection) -> list[tuple[str, str | None]]:
        return [tuple(r) for r in db.execute("SELECT body, html FROM templates")]

    def _sendable_template(self, db: sqlite3.Connection, name: str) -> Template:
        row = db.execute("SELECT * FROM templates WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise InvalidInput(f"no template named {name!r} (see `vista templates`)")
        return templating.check_sendable(rows.template(row))

    def _last_inbound_author(self, db: sqlite3.Connection, contact_id: int) -> str | None:
        row = db.execute(
            "SELECT author FROM messages WHERE contact_id = ? AND direction = 'inbound' "
            "ORDER BY at DESC, id DESC LIMIT 1",
            (contact_id,),
        ).fetchone()
        return None if row is None else str(row[0])

    def _sent_reply(self, db: sqlite3.Connection, message_id: int) -> tuple[Any, ...] | None:
        row = db.execute(
            "SELECT m.direction, m.delivery, m.contact_id, m.channel, m.body, o.status "
            "FROM messages m LEFT JOIN outbox o ON o.message_id = m.id WHERE m.id = ?",
            (message_id,),
        ).fetchone()
        return None if row is None else tuple(row)

    def _value_config(self) -> ValuesConfig:
        return computed.config_for(self.store.path)

    def _profile_row(
        self, db: sqlite3.Connection, customer_id: int, field: str
    ) -> tuple[Any, int, str] | None:
        row = db.execute(
            f"SELECT {field}, version, provenance FROM customers WHERE id = ?", (customer_id,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def _set_profile(
        self, db: sqlite3.Connection, customer_id: int, field: str, value: Any,
        kept: dict[str, Any], now: int,
    ) -> None:  # fmt: skip
        db.execute(
            f"UPDATE customers SET {field} = ?, provenance = ?, updated_at = ?, "
            "version = version + 1 WHERE id = ?",
            (value, provenance_text.dumps(kept), now, customer_id),
        )

    def _refresh_search_name(self, db: sqlite3.Connection, customer_id: int) -> None:
        names = db.execute(
            "SELECT first_name || ' ' || last_name FROM customers WHERE id = ?", (customer_id,)
        ).fetchone()[0]
        db.execute(
            "UPDATE customer_search SET name = ? WHERE rowid = ?", (plain(names), customer_id)
        )

    def _profile_value(self, db: sqlite3.Connection, customer_id: int, field: str) -> Any:
        return db.execute(f"SELECT {field} FROM customers WHERE id = ?", (customer_id,)).fetchone()[
            0
        ]

    def _deliver(self, me: Agent, actor: audit.Actor, arrival: Arrival) -> InboundResult:
        """backends/sqlite/inbound.py, imported on first use."""
        return deferred.inbound().deliver_inbound(self.store, me, actor, arrival)

    def housekeeping_due(self) -> bool:
        return not self.store.read_only and wal.wal_bytes(self.store.path) > wal.LARGE_WAL

    def housekeeping(self, *, wait_ms: int = 250) -> bool:
        """See `Backend.housekeeping`: a `wal_checkpoint(TRUNCATE)` (backends/sqlite/wal.py)."""
        return wal.checkpoint(self.store.path, wait_ms)

    def outbox(self) -> outbox_store.SQLiteOutbox:
        """See `Backend.outbox`: this store's outbox (backends/sqlite/outbox.py)."""
        self._writer()
        origin = Origin.WEBHOOK if self._origin == Origin.WEBHOOK else Origin.DISPATCHER
        actor = audit.Actor("dispatcher", "", self._token, origin.value)
        return outbox_store.SQLiteOutbox(self.store, actor=actor)

    # -- administration: imports, API tokens, the store file ---------------------------

    def _admin(self, doing: str) -> Agent:
        me = self.whoami()
        if me.role is not Role.ADMIN:
            raise Forbidden(f"{me.name} is a {me.role.value}: only an admin may {doing}")
        return me

    def tokens(self) -> tuple[TokenInfo, ...]:
        self._admin("list API tokens")
        return TokenStore(self.store).list()

    def create_token(self, name: str, role: Role, agent: str | None = None) -> NewToken:
        me = self._writer()
        return TokenStore(self.store).create(name, role, agent, by=me, actor=self.actor(me))

    def revoke_token(self, name: str) -> TokenInfo:
        self._writer()
        me = self._admin("revoke API tokens")
        return TokenStore(self.store).revoke(name, actor=self.actor(me))

    def verify_token(self, token: str) -> TokenInfo | None:
        return TokenStore(self.store).verify(token)

    # -- audit trail and personal data: backends/governance.py over audit.py, gdpr.py -----

    @contextmanager
    def _erasing(self) -> Iterator[None]:
        """SQLite zeroes what an erasure deletes (`secure_delete`)."""
        conn = self.store.conn
        conn.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            conn.execute("PRAGMA secure_delete = OFF")

    def _after_erasure(self, counts: Mapping[str, int]) -> bool:
        """The old pages are still in the write-ahead log: copy back and truncate it."""
        return wal.checkpoint(self.store.path, 2000)

    def store_info(self) -> StoreInfo:
        return deferred.admin().info(self.store.path)

    def check_store(self) -> tuple[str, ...]:
        return tuple(deferred.admin().check(self.store.path))


__all__ = ["AT_RISK_SECONDS", "OPEN_STATUSES", "SQLiteBackend"]


def _not_anothers(verb: str) -> Callable[[Contact, Agent], None]:
    """A check for `_update_contact`: an operator may not `verb` a contact another agent
    holds (admins may; the holder can release it first, or the operator take it over
    with `assign` to themselves)."""

    def check(current: Contact, me: Agent) -> None:
        held_by = current.assignee
        if held_by not in (None, me.name) and me.role is not Role.ADMIN:
            raise Forbidden(
                f"contact {current.id} is held by {held_by}: only an admin can {verb} it "
                f"(assign it to yourself to take it over, or {held_by} releases it)"
            )

    return check


#: The newest visit, product view and checkout step of a customer (three `events_kind`
#: index seeks in one statement), with the payload fields each needs, read by SQLite only
#: from payloads that are JSON objects (anything else from a source system is ignored).
_WEB_JOURNEY = " UNION ALL ".join(
    f"SELECT * FROM (SELECT kind, at, summary, CASE WHEN json_valid(payload) AND "
    f"json_type(payload) = 'object' THEN json_extract(payload, '{field}', '{extra}') END "
    f"FROM events WHERE customer_id = ?1 AND kind = '{kind}' ORDER BY at DESC LIMIT 1)"
    for kind, field, extra in (
        ("web_session", "$.abandoned_at", "$.abandoned_at"),
        ("product_view", "$.name", "$.name"),
        ("checkout_step", "$.step", "$.cart"),
    )
)


def _web_journey(
    db: sqlite3.Connection, customer_id: int, last_order_at: int | None
) -> dict[str, Any]:
    """The web-journey key facts (see `CustomerFacts`): the newest visit and product view,
    and the newest checkout left unfinished, if no order came after it."""
    newest: dict[str, tuple[int, str, Any]] = {}
    for kind, at, summary, fields in db.execute(_WEB_JOURNEY, (customer_id,)):
        newest[kind] = (at, summary, _json_list(fields) or [None, None])  # [field, extra]
    out: dict[str, Any] = {}
    visit, viewed, step = (newest.get(k) for k in ("web_session", "product_view", "checkout_step"))
    if visit is not None:
        out["last_visit_at"] = records.from_ts(visit[0])
        out["last_visit"] = visit[1] or None
    if viewed is not None:
        name = viewed[2][0]
        out["last_viewed"] = str(name) if name not in (None, "") else (viewed[1] or None)
    left: tuple[int, str, Any] | None = None  # (at, step, cart)
    if step is not None:
        left = (step[0], str(step[2][0] or "?"), step[2][1])
    if visit is not None and visit[2][0] and (left is None or visit[0] > left[0]):
        left = (visit[0], str(visit[2][0]), None)
    if left is not None and (last_order_at is None or left[0] > last_order_at):
        out["checkout_abandoned_at"] = records.from_ts(left[0])
        out["checkout_abandoned_step"] = left[1]
        cart = left[2] if isinstance(left[2], list) else []
        out["checkout_cart"] = tuple(
            str(item.get("name") or item.get("sku") or "?")
            for item in cart
            if isinstance(item, dict)
        )
    return out


def _json_list(text: Any) -> list[Any]:
    if not isinstance(text, str):
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []
