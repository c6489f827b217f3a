"""Agents, presence, routing and intents for SQLite: the ROUTING part of the contract.

A mixin of `SQLiteBackend`: the shared flow (backends/agents.py) over this store's SQL,
here and in backends.sqlite.routing. Every write is one transaction (BEGIN IMMEDIATE) that
also appends to the change feed.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from backends.agents import AgentFlow
from backends.base import NotFound
from backends.models import Contact, IntentGuess, Presence
from backends.routing import agents as pure
from backends.routing import rules as routing_rules
from backends.sqlite import routing
from backends.sqlite.contacts import read_contact

if TYPE_CHECKING:
    from backends.sqlite.store import Store


def unknown_agent(db: sqlite3.Connection, name: str) -> NotFound:
    """No agent named `name`: the error naming the enabled ones."""
    names = [
        r[0] for r in db.execute("SELECT name FROM agents WHERE disabled_at IS NULL ORDER BY name")
    ]
    return pure.unknown(name, names, len(names) - pure.SHOWN_AGENTS)


class AgentOps(AgentFlow):
    """The SQL of agents' administration, presence, routing and intents on SQLite (one
    writer at a time: no row locks)."""

    store: Store

    def _agent_row(self, db: sqlite3.Connection, name: str, *, lock: bool = False) -> Any:
        row = db.execute("SELECT * FROM agents WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise unknown_agent(db, name)
        return row

    def _has_admin(self, db: sqlite3.Connection) -> bool:
        sql = "SELECT 1 FROM agents WHERE role = 'admin' AND disabled_at IS NULL LIMIT 1"
        return db.execute(sql).fetchone() is not None

    def _insert_agent(self, db: sqlite3.Connection, new: pure.NewAgent, now: int) -> bool:
        if db.execute("SELECT 1 FROM agents WHERE name = ?", (new.name,)).fetchone():
            return False
        db.execute(
            "INSERT INTO agents(name, display_name, role, created_at, skills, capacity) "
            "VALUES (?,?,?,?,?,?)",
            (new.name, new.display_name, new.role.value, now, new.skills, new.capacity),
        )
        return True

    def _update_agent(
        self, db: sqlite3.Connection, name: str, values: tuple[str, str, str, str]
    ) -> None:
        db.execute(
            "UPDATE agents SET display_name = ?, role = ?, skills = ?, capacity = ? WHERE name = ?",
            (*values, name),
        )

    def _set_disabled(self, db: sqlite3.Connection, name: str, disabled: bool, now: int) -> None:
        db.execute(
            "UPDATE agents SET disabled_at = ?, presence = CASE WHEN ? THEN 'offline' "
            "ELSE presence END WHERE name = ?",
            (now if disabled else None, int(disabled), name),
        )

    def _set_presence(
        self, db: sqlite3.Connection, name: str, presence: Presence, now: int
    ) -> None:
        db.execute(
            "UPDATE agents SET presence = ?, presence_at = CASE WHEN presence = ? "
            "THEN presence_at ELSE ? END, last_active_at = ? WHERE name = ?",
            (presence.value, presence.value, now, now, name),
        )

    def _state_rows(self, db: sqlite3.Connection, name: str | None = None) -> list[Any]:
        if name is not None:
            return [self._agent_row(db, name)]
        return db.execute(
            "SELECT * FROM agents WHERE disabled_at IS NULL AND role <> 'supervisor' ORDER BY name"
        ).fetchall()

    def _held(
        self, db: sqlite3.Connection, names: tuple[str, ...] | None = None
    ) -> dict[str, dict[str, int]]:
        return routing.held(db, names)

    def _route_waiting(self, db: sqlite3.Connection, now: int, actor: str, limit: int) -> list[int]:
        return routing.route_waiting(db, now, actor, limit)

    def _contact(self, db: sqlite3.Connection, contact_id: int, *, lock: bool = False) -> Contact:
        return read_contact(db, contact_id)

    def _set_intent(self, db: sqlite3.Connection, contact_id: int, intent: str, now: int) -> None:
        db.execute(
            "UPDATE contacts SET intent = ?, intent_source = 'agent', updated_at = ?, "
            "version = version + 1 WHERE id = ?",
            (intent, now, contact_id),
        )

    def _current_rules(self, db: sqlite3.Connection) -> routing_rules.RoutingRules:
        return routing.current_rules(db)

    def _guess(self, db: sqlite3.Connection, text: str) -> IntentGuess:
        return routing.guess(db, text)

    def _training_rows(self, db: sqlite3.Connection, limit: int) -> list[Any]:
        return db.execute(
            "SELECT c.intent, c.subject, (SELECT body FROM messages m WHERE m.contact_id = "
            "c.id AND m.direction = 'inbound' ORDER BY m.at, m.id LIMIT 1) AS body "
            "FROM contacts c WHERE c.intent <> '' AND (c.intent_source = 'agent' OR "
            "(c.intent_source = '' AND c.status = 'resolved')) ORDER BY c.id DESC LIMIT ?",
            (limit,),
        ).fetchall()

    def _save_model(
        self, db: sqlite3.Connection, now: int, by: str, report: str, model: bytes
    ) -> None:
        db.execute(
            "INSERT INTO intent_models(trained_at, trained_by, report, model) VALUES (?,?,?,?)",
            (now, by, report, model),
        )
        # keep the newest three: an older model is only history
        db.execute(
            "DELETE FROM intent_models WHERE id NOT IN "
            "(SELECT id FROM intent_models ORDER BY id DESC LIMIT 3)"
        )

    def _model_report(self, db: sqlite3.Connection) -> str | None:
        row = db.execute("SELECT report FROM intent_models ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else str(row[0])

    def _save_rules(self, db: sqlite3.Connection, text: str | None, now: int, by: str) -> None:
        if text is None:
            db.execute("DELETE FROM settings WHERE key = 'routing_rules'")
            return
        db.execute(
            "INSERT INTO settings(key, value, updated_at, updated_by) "
            "VALUES ('routing_rules', ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
            "value = excluded.value, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by",
            (text, now, by),
        )
