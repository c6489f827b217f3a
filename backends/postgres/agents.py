"""Agents, presence, routing and intents for PostgreSQL: the ROUTING part of the contract.

A mixin of `PostgresBackend`: it uses the backend's `store`, `clock`, `whoami()`, `_writer()`
and `_admin()`. What an admin may write, a row's model and the choice of an operator are
backends.routing's; the storage and its locks are backends.postgres.routing's. Every write
is one transaction that also appends to the change feed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

from backends import limits, records
from backends.audit_chain import Actor, diff
from backends.base import Conflict, Forbidden, InvalidInput, NotFound
from backends.models import (
    Agent,
    AgentState,
    Channel,
    Contact,
    IntentGuess,
    IntentReport,
    Presence,
    Role,
)
from backends.postgres import audit, routing
from backends.postgres.store import scalar
from backends.routing import agents as pure
from backends.routing import rules as routing_rules

if TYPE_CHECKING:
    from backends.postgres.store import PgStore

Conn = psycopg.Connection[Any]


def known_agents(db: Conn) -> str:
    """The enabled agents' names, for an error message ("anna, giulia, …")."""
    names = [
        r[0]
        for r in db.execute(
            "SELECT name FROM agents WHERE disabled_at IS NULL ORDER BY name LIMIT 21"
        )
    ]
    shown = ", ".join(names[:20]) + (" and more" if len(names) > 20 else "")
    return shown or "none"


def unknown_agent(db: Conn, name: str) -> NotFound:
    return NotFound(
        f"no agent named {name!r}; known agents: {known_agents(db)} "
        "(an admin adds one with `vista agents add NAME`)",
        "Unknown agent",
    )


def _read(db: Conn, name: str, *, lock: bool = False) -> Any:
    row = db.execute(
        "SELECT * FROM agents WHERE name = %s" + (" FOR UPDATE" if lock else ""), (name,)
    ).fetchone()
    if row is None:
        raise unknown_agent(db, name)
    return row


def _log(db: Conn, now: int, entity: str, entity_id: int, action: str, actor: str) -> None:
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (%s,%s,%s,%s,%s)",
        (now, entity, entity_id, action, actor),
    )


class AgentOps:
    """Agents' administration, presence, routing and intents over the PostgreSQL store."""

    store: PgStore
    clock: Callable[[], datetime]

    if TYPE_CHECKING:

        def whoami(self) -> Agent: ...
        def _writer(self) -> Agent: ...
        def _admin(self, doing: str) -> Agent: ...
        def actor(self, me: Agent | None = None) -> Actor: ...

    def _audit(
        self,
        db: Conn,
        me: Agent,
        now: int,
        action: str,
        object_type: str,
        object_id: object,
        changes: dict[str, list[Any]],
        customer_id: int | None = None,
    ) -> None:
        """The write's audit entry (last in its transaction: the chain's lock)."""
        audit.record(
            db,
            self.actor(me),
            now,
            action,
            object_type,
            object_id,
            customer_id=customer_id,
            changes=changes,
        )

    def _read_contact(self, db: Conn, contact_id: int, *, lock: bool = False) -> Contact:
        from backends.postgres.backend import read_contact

        return read_contact(db, contact_id, lock=lock)

    # -- administration -------------------------------------------------------------

    def _manager(self, db: Conn, doing: str) -> Agent:
        """The acting admin; on a store without any admin, its owner (bootstrap)."""
        me = self._writer()
        if me.role is Role.ADMIN:
            return me
        if scalar(db, "SELECT 1 FROM agents WHERE role = 'admin' AND disabled_at IS NULL LIMIT 1"):
            raise Forbidden(f"{me.name} is a {me.role.value}: only an admin may {doing}")
        return me

    def add_agent(
        self,
        name: str,
        display_name: str = "",
        role: Role = Role.OPERATOR,
        *,
        intents: tuple[str, ...] = (),
        languages: tuple[str, ...] = (),
        channels: tuple[Channel, ...] = (),
        capacity: dict[str, int] | None = None,
    ) -> Agent:
        self._writer()
        new = pure.check_new(name, display_name, role, intents, languages, channels, capacity)
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "add agents")
            inserted = db.execute(
                "INSERT INTO agents(name, display_name, role, created_at, skills, capacity) "
                "VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (name) DO NOTHING",
                (new.name, new.display_name, new.role.value, now, new.skills, new.capacity),
            ).rowcount
            if not inserted:
                raise Conflict(
                    f"an agent named {new.name} exists (`vista agents edit` changes one)"
                )
            _log(db, now, "agent", 0, f"agent-added:{new.name}", me.name)
            after = _read(db, new.name)
            self._audit(db, me, now, "agent-add", "agent", new.name, diff({}, dict(after)))
            return pure.agent(after)

    def edit_agent(
        self,
        name: str,
        *,
        display_name: str | None = None,
        role: Role | None = None,
        intents: tuple[str, ...] | None = None,
        languages: tuple[str, ...] | None = None,
        channels: tuple[Channel, ...] | None = None,
        capacity: dict[str, int] | None = None,
    ) -> Agent:
        self._writer()
        if role is not None:
            role = pure.check_role(role)
        if display_name is not None:
            limits.check_fields({"name": display_name})
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "change agents")
            row = _read(db, name, lock=True)
            skills = pure.skills(intents, languages, channels, pure.json_object(row["skills"]))
            own = pure.json_object(row["capacity"]) if capacity is None else pure.capacity(capacity)
            db.execute(
                "UPDATE agents SET display_name = %s, role = %s, skills = %s, capacity = %s "
                "WHERE name = %s",
                (
                    row["display_name"] if not display_name else display_name.strip(),
                    row["role"] if role is None else role.value,
                    json.dumps(skills),
                    json.dumps(own),
                    name,
                ),
            )
            _log(db, now, "agent", 0, f"agent-edited:{name}", me.name)
            after = _read(db, name)
            self._audit(db, me, now, "agent-edit", "agent", name, diff(dict(row), dict(after)))
            return pure.agent(after)

    def disable_agent(self, name: str, *, disabled: bool = True) -> Agent:
        self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "disable agents")
            row = _read(db, name, lock=True)
            if disabled and name == me.name:
                raise Forbidden("you cannot disable yourself (another admin can)")
            db.execute(
                "UPDATE agents SET disabled_at = %s, presence = CASE WHEN %s THEN 'offline' "
                "ELSE presence END WHERE name = %s",
                (now if disabled else None, disabled, name),
            )
            action = "agent-disabled" if disabled else "agent-enabled"
            _log(db, now, "agent", 0, f"{action}:{name}", me.name)
            after = _read(db, name)
            verb = "agent-disable" if disabled else "agent-enable"
            self._audit(db, me, now, verb, "agent", name, diff(dict(row), dict(after)))
            return pure.agent(after)

    # -- presence and routing -----------------------------------------------------------

    def set_presence(self, presence: Presence, agent: str | None = None) -> AgentState:
        presence = pure.check_presence(presence)
        me = self._writer()
        name = me.name if agent is None else agent
        if name != me.name and me.role is not Role.ADMIN:
            raise Forbidden(
                f"{me.name} is a {me.role.value}: only an admin sets another's presence"
            )
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            before = _read(db, name, lock=True)["presence"]
            db.execute(
                "UPDATE agents SET presence = %s, presence_at = CASE WHEN presence = %s "
                "THEN presence_at ELSE %s END, last_active_at = %s WHERE name = %s",
                (presence.value, presence.value, now, now, name),
            )
            if before != presence.value:  # a console's "still here" changes nothing to log
                _log(db, now, "agent", 0, f"presence-{presence.value}", me.name)
                changes = {"presence": [before, presence.value]}
                self._audit(db, me, now, "presence", "agent", name, changes)
        if presence is Presence.ONLINE:
            # a transaction of its own: routing locks every candidate's row in name order,
            # which it could not do while holding this agent's
            with self.store.write() as db:
                routing.route_waiting(db, now, me.name, 100)
        with self.store.read() as db:
            row = db.execute(
                f"SELECT {routing.STATE_COLUMNS} FROM agents a WHERE a.name = %s", (name,)
            ).fetchone()
            return pure.state(row, routing.current_rules(db), now, routing.held(db, (name,)))

    def agent_states(self) -> tuple[AgentState, ...]:
        now = records.to_ts(self.clock())
        with self.store.read() as db:
            found = db.execute(
                f"SELECT {routing.STATE_COLUMNS} FROM agents a WHERE a.disabled_at IS NULL "
                "AND a.role <> 'supervisor' ORDER BY a.name"
            ).fetchall()
            load = routing.held(db)
            rs = routing.current_rules(db)
            return tuple(pure.state(r, rs, now, load) for r in found)

    def route_waiting(self, limit: int = 100) -> tuple[Contact, ...]:
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit must be between 1 and 1000 (got {limit})")
        me = self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            given = routing.route_waiting(db, now, me.name, limit)
            return tuple(self._read_contact(db, c) for c in given)

    # -- intents ----------------------------------------------------------------------

    def set_intent(
        self, contact_id: int, intent: str, *, expected_version: int | None = None
    ) -> Contact:
        intent = pure.check_intent(intent)
        me = self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            current = self._read_contact(db, contact_id, lock=True)
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"contact {contact_id} changed meanwhile (version {current.version}, "
                    f"you had {expected_version})",
                    current=current,
                )
            db.execute(
                "UPDATE contacts SET intent = %s, intent_source = 'agent', updated_at = %s, "
                "version = version + 1 WHERE id = %s",
                (intent, now, contact_id),
            )
            _log(db, now, "contact", contact_id, f"intent:{intent}", me.name)
            changes = {"intent": [current.intent, intent]}
            cid = current.customer_id
            self._audit(db, me, now, "intent", "contact", contact_id, changes, cid)
            return self._read_contact(db, contact_id)

    def classify(self, text: str) -> IntentGuess:
        if not text.strip():
            raise InvalidInput("there is no text to classify")
        limits.check_fields({"text": text})
        with self.store.read() as db:
            return routing.guess(db, text)

    def train_intents(self) -> IntentReport:
        me = self._writer()
        self._admin("train the intent model")
        started = time.perf_counter()
        with self.store.read() as db:
            found = db.execute(
                "SELECT c.intent, c.subject, (SELECT body FROM messages m WHERE m.contact_id = "
                "c.id AND m.direction = 'inbound' ORDER BY m.at, m.id LIMIT 1) AS body "
                "FROM contacts c WHERE c.intent <> '' AND (c.intent_source = 'agent' OR "
                "(c.intent_source = '' AND c.status = 'resolved')) ORDER BY c.id DESC LIMIT %s",
                (pure.MAX_TRAINING,),
            ).fetchall()
        texts = [pure.training_text(r["subject"], r["body"]) for r in found]
        labels = [r["intent"] for r in found]
        from backends.routing import model as intent_model  # NumPy: only to train

        model, report = intent_model.train(texts, labels)
        now = records.to_ts(self.clock())
        data = pure.report_data(report, now, time.perf_counter() - started)
        with self.store.write() as db:
            db.execute(
                "INSERT INTO intent_models(trained_at, trained_by, report, model) "
                "VALUES (%s,%s,%s,%s)",
                (now, me.name, json.dumps(data), model.to_bytes()),
            )
            # keep the newest three: an older model is only history
            db.execute(
                "DELETE FROM intent_models WHERE id NOT IN "
                "(SELECT id FROM intent_models ORDER BY id DESC LIMIT 3)"
            )
            summary = {"samples": report.samples, "accuracy": data["accuracy"]}
            self._audit(db, me, now, "intents-train", "intent_model", now, diff({}, summary))
        return pure.report(data)

    def intent_report(self) -> IntentReport | None:
        with self.store.read() as db:
            text = scalar(db, "SELECT report FROM intent_models ORDER BY id DESC LIMIT 1")
        return None if text is None else pure.report(json.loads(text))

    # -- the rules file -------------------------------------------------------------------

    def routing_rules(self) -> str:
        with self.store.read() as db:
            return routing.current_rules(db).text

    def set_routing_rules(self, text: str) -> str:
        me = self._writer()
        self._admin("change the routing rules")
        if text.strip():
            routing_rules.parse(text)  # refused here, not when a message arrives
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            was = routing.current_rules(db).text
            if text.strip():
                db.execute(
                    "INSERT INTO settings(key, value, updated_at, updated_by) "
                    "VALUES ('routing_rules', %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
                    "value = excluded.value, updated_at = excluded.updated_at, "
                    "updated_by = excluded.updated_by",
                    (text, now, me.name),
                )
            else:
                db.execute("DELETE FROM settings WHERE key = 'routing_rules'")
            now_text = routing.current_rules(db).text
            changes = diff({"rules": was}, {"rules": now_text})
            self._audit(db, me, now, "routing-rules", "settings", "routing_rules", changes)
            return now_text
