"""Agents, presence, routing and intents for SQLite: the ROUTING part of the contract.

A mixin of `SQLiteBackend`: it uses the backend's `store`, `clock`, `whoami()`, `_writer()`
and `_admin()`. Every write is one transaction that also appends to the change feed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backends import limits, records
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
from backends.routing import agents as pure
from backends.routing import rules as routing_rules
from backends.sqlite import audit, deferred, routing
from backends.sqlite.contacts import read_contact

if TYPE_CHECKING:
    from backends.sqlite.store import Store

MAX_TRAINING = pure.MAX_TRAINING


def known_agents(db: sqlite3.Connection) -> str:
    """The enabled agents' names, for an error message ("anna, giulia, …")."""
    names = [
        r[0] for r in db.execute("SELECT name FROM agents WHERE disabled_at IS NULL ORDER BY name")
    ]
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    return shown or "none"


def unknown_agent(db: sqlite3.Connection, name: str) -> NotFound:
    return NotFound(
        f"no agent named {name!r}; known agents: {known_agents(db)} "
        "(an admin adds one with `vista agents add NAME`)",
        "Unknown agent",
    )


class AgentOps:
    """Agents' administration, presence, routing and intents over the SQLite store."""

    store: Store
    clock: Callable[[], datetime]

    if TYPE_CHECKING:

        def whoami(self) -> Agent: ...
        def _writer(self) -> Agent: ...
        def _admin(self, doing: str) -> Agent: ...
        def actor(self, me: Agent | None = None) -> audit.Actor: ...

    def _audit(
        self,
        db: sqlite3.Connection,
        me: Agent,
        now: int,
        action: str,
        object_type: str,
        object_id: object,
        changes: dict[str, list[Any]],
        customer_id: int | None = None,
    ) -> None:
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

    # -- administration -------------------------------------------------------------

    def _manager(self, db: sqlite3.Connection, doing: str) -> Agent:
        """The acting admin; on a local store without any admin, its owner (bootstrap)."""
        me = self._writer()
        if me.role is Role.ADMIN:
            return me
        has_admin = db.execute(
            "SELECT 1 FROM agents WHERE role = 'admin' AND disabled_at IS NULL LIMIT 1"
        ).fetchone()
        if has_admin is not None:
            raise Forbidden(f"{me.name} is a {me.role.value}: only an admin may {doing}")
        return me

    def _read_agent(self, db: sqlite3.Connection, name: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM agents WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise unknown_agent(db, name)
        return row

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
        name = new.name
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "add agents")
            if db.execute("SELECT 1 FROM agents WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"an agent named {name} exists (`vista agents edit` changes one)")
            db.execute(
                "INSERT INTO agents(name, display_name, role, created_at, skills, capacity) "
                "VALUES (?,?,?,?,?,?)",
                (name, new.display_name, new.role.value, now, new.skills, new.capacity),
            )
            self._log_agent(db, now, "agent-added", name, me.name)
            after = self._read_agent(db, name)
            self._audit(db, me, now, "agent-add", "agent", name, audit.diff({}, dict(after)))
            return pure.agent(after)

    @staticmethod
    def _log_agent(db: sqlite3.Connection, now: int, action: str, name: str, actor: str) -> None:
        db.execute(
            "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
            (now, "agent", 0, f"{action}:{name}", actor),
        )

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
            row = self._read_agent(db, name)
            skills = pure.skills(intents, languages, channels, pure.json_object(row["skills"]))
            own = pure.json_object(row["capacity"]) if capacity is None else pure.capacity(capacity)
            db.execute(
                "UPDATE agents SET display_name = ?, role = ?, skills = ?, capacity = ? "
                "WHERE name = ?",
                (
                    row["display_name"] if not display_name else display_name.strip(),
                    row["role"] if role is None else role.value,
                    json.dumps(skills),
                    json.dumps(own),
                    name,
                ),
            )
            self._log_agent(db, now, "agent-edited", name, me.name)
            after = self._read_agent(db, name)
            self._audit(
                db, me, now, "agent-edit", "agent", name, audit.diff(dict(row), dict(after))
            )
            return pure.agent(after)

    def disable_agent(self, name: str, *, disabled: bool = True) -> Agent:
        self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "disable agents")
            row = self._read_agent(db, name)
            if disabled and name == me.name:
                raise Forbidden("you cannot disable yourself (another admin can)")
            db.execute(
                "UPDATE agents SET disabled_at = ?, presence = CASE WHEN ? THEN 'offline' "
                "ELSE presence END WHERE name = ?",
                (now if disabled else None, int(disabled), name),
            )
            self._log_agent(
                db, now, "agent-disabled" if disabled else "agent-enabled", name, me.name
            )
            after = self._read_agent(db, name)
            action = "agent-disable" if disabled else "agent-enable"
            self._audit(db, me, now, action, "agent", name, audit.diff(dict(row), dict(after)))
            return pure.agent(after)

    # -- presence and routing -----------------------------------------------------------

    def _state(
        self, db: sqlite3.Connection, row: sqlite3.Row, now: int, load: dict[str, dict[str, int]]
    ) -> AgentState:
        return pure.state(row, routing.current_rules(db), now, load)

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
            before = self._read_agent(db, name)["presence"]
            db.execute(
                "UPDATE agents SET presence = ?, presence_at = CASE WHEN presence = ? "
                "THEN presence_at ELSE ? END, last_active_at = ? WHERE name = ?",
                (presence.value, presence.value, now, now, name),
            )
            if before != presence.value:  # a console's "still here" changes nothing to log
                self._log_agent(db, now, f"presence-{presence.value}", name, me.name)
                changes = {"presence": [before, presence.value]}
                self._audit(db, me, now, "presence", "agent", name, changes)
            if presence is Presence.ONLINE:
                self._route_waiting(db, now, me.name, 100)
            row = self._read_agent(db, name)
            return self._state(db, row, now, routing.held(db, (name,)))

    def agent_states(self) -> tuple[AgentState, ...]:
        now = records.to_ts(self.clock())
        with self.store.read() as db:
            found = db.execute(
                "SELECT * FROM agents WHERE disabled_at IS NULL AND role <> 'supervisor' "
                "ORDER BY name"
            ).fetchall()
            load = routing.held(db)
            return tuple(self._state(db, r, now, load) for r in found)

    def _route_waiting(self, db: sqlite3.Connection, now: int, actor: str, limit: int) -> list[int]:
        pool = routing.candidates(db, now)
        if not pool:
            return []
        waiting = db.execute(
            "SELECT id FROM contacts WHERE status <> 'resolved' AND assignee IS NULL "
            "AND status IN ('new', 'open') "
            "ORDER BY prio_sort, sla_sort, created_at, id LIMIT ?",
            (limit,),
        ).fetchall()
        given = []
        for (contact_id,) in waiting:
            if routing.route(db, contact_id, now, actor, pool) is not None:
                given.append(contact_id)
        return given

    def route_waiting(self, limit: int = 100) -> tuple[Contact, ...]:
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit must be between 1 and 1000 (got {limit})")
        me = self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            given = self._route_waiting(db, now, me.name, limit)
            return tuple(read_contact(db, c) for c in given)

    # -- intents ----------------------------------------------------------------------

    def set_intent(
        self, contact_id: int, intent: str, *, expected_version: int | None = None
    ) -> Contact:
        intent = pure.check_intent(intent)
        me = self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            current = read_contact(db, contact_id)
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"contact {contact_id} changed meanwhile (version {current.version}, "
                    f"you had {expected_version})",
                    current=current,
                )
            db.execute(
                "UPDATE contacts SET intent = ?, intent_source = 'agent', updated_at = ?, "
                "version = version + 1 WHERE id = ?",
                (intent, now, contact_id),
            )
            db.execute(
                "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
                (now, "contact", contact_id, f"intent:{intent}", me.name),
            )
            changes = {"intent": [current.intent, intent]}
            cid = current.customer_id
            self._audit(db, me, now, "intent", "contact", contact_id, changes, cid)
            return read_contact(db, contact_id)

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
                "(c.intent_source = '' AND c.status = 'resolved')) ORDER BY c.id DESC LIMIT ?",
                (MAX_TRAINING,),
            ).fetchall()
        texts = [pure.training_text(r["subject"], r["body"]) for r in found]
        labels = [r["intent"] for r in found]
        model, report = deferred.intent_model().train(texts, labels)
        now = records.to_ts(self.clock())
        data = pure.report_data(report, now, time.perf_counter() - started)
        with self.store.write() as db:
            db.execute(
                "INSERT INTO intent_models(trained_at, trained_by, report, model) VALUES (?,?,?,?)",
                (now, me.name, json.dumps(data), model.to_bytes()),
            )
            # keep the newest three: an older model is only history
            db.execute(
                "DELETE FROM intent_models WHERE id NOT IN "
                "(SELECT id FROM intent_models ORDER BY id DESC LIMIT 3)"
            )
            summary = {"samples": report.samples, "accuracy": data["accuracy"]}
            self._audit(db, me, now, "intents-train", "intent_model", now, audit.diff({}, summary))
        return pure.report(data)

    def intent_report(self) -> IntentReport | None:
        with self.store.read() as db:
            row = db.execute("SELECT report FROM intent_models ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else pure.report(json.loads(row[0]))

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
                    "VALUES ('routing_rules', ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                    "value = excluded.value, updated_at = excluded.updated_at, "
                    "updated_by = excluded.updated_by",
                    (text, now, me.name),
                )
            else:
                db.execute("DELETE FROM settings WHERE key = 'routing_rules'")
            now_text = routing.current_rules(db).text
            changes = audit.diff({"rules": was}, {"rules": now_text})
            self._audit(db, me, now, "routing-rules", "settings", "routing_rules", changes)
            return now_text
