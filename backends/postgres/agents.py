"""Agents, presence, routing and intents for PostgreSQL: the ROUTING part of the contract.

A mixin of `PostgresBackend`: the shared flow (backends/agents.py) over this store's SQL,
here and in backends.postgres.routing (the storage and its locks). Every write is one
transaction that also appends to the change feed; a row an operation changes is locked
first (`FOR UPDATE`), and routing locks its candidates in name order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from backends.agents import AgentFlow
from backends.base import NotFound
from backends.models import Contact, IntentGuess, Presence
from backends.postgres import routing
from backends.postgres.store import scalar
from backends.routing import agents as pure
from backends.routing import rules as routing_rules

if TYPE_CHECKING:
    from backends.postgres.store import PgStore

Conn = psycopg.Connection[Any]


def unknown_agent(db: Conn, name: str) -> NotFound:
    """No agent named `name`: the error naming the enabled ones."""
    names = [
        r[0]
        for r in db.execute(
            "SELECT name FROM agents WHERE disabled_at IS NULL ORDER BY name LIMIT %s",
            (pure.SHOWN_AGENTS + 1,),
        )
    ]
    return pure.unknown(name, names)


class AgentOps(AgentFlow):
    """The SQL of agents' administration, presence, routing and intents on PostgreSQL."""

    store: PgStore
    #: routing locks every candidate's row in name order: not while holding one agent's
    _ROUTE_APART = True

    def _agent_row(self, db: Conn, name: str, *, lock: bool = False) -> Any:
        row = db.execute(
            "SELECT * FROM agents WHERE name = %s" + (" FOR UPDATE" if lock else ""), (name,)
        ).fetchone()
        if row is None:
            raise unknown_agent(db, name)
        return row

    def _has_admin(self, db: Conn) -> bool:
        sql = "SELECT 1 FROM agents WHERE role = 'admin' AND disabled_at IS NULL LIMIT 1"
        return bool(scalar(db, sql))

    def _insert_agent(self, db: Conn, new: pure.NewAgent, now: int) -> bool:
        return bool(
            db.execute(
                "INSERT INTO agents(name, display_name, role, created_at, skills, capacity) "
                "VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (name) DO NOTHING",
                (new.name, new.display_name, new.role.value, now, new.skills, new.capacity),
            ).rowcount
        )

    def _update_agent(self, db: Conn, name: str, values: tuple[str, str, str, str]) -> None:
        db.execute(
            "UPDATE agents SET display_name = %s, role = %s, skills = %s, capacity = %s "
            "WHERE name = %s",
            (*values, name),
        )

    def _set_disabled(self, db: Conn, name: str, disabled: bool, now: int) -> None:
        db.execute(
            "UPDATE agents SET disabled_at = %s, presence = CASE WHEN %s THEN 'offline' "
            "ELSE presence END WHERE name = %s",
            (now if disabled else None, disabled, name),
        )

    def _set_presence(self, db: Conn, name: str, presence: Presence, now: int) -> None:
        db.execute(
            "UPDATE agents SET presence = %s, presence_at = CASE WHEN presence = %s "
            "THEN presence_at ELSE %s END, last_active_at = %s WHERE name = %s",
            (presence.value, presence.value, now, now, name),
        )

    def _state_rows(self, db: Conn, name: str | None = None) -> list[Any]:
        sql = f"SELECT {routing.STATE_COLUMNS} FROM agents a WHERE "
        if name is not None:
            return db.execute(sql + "a.name = %s", (name,)).fetchall()
        where = "a.disabled_at IS NULL AND a.role <> 'supervisor' ORDER BY a.name"
        return db.execute(sql + where).fetchall()

    def _held(self, db: Conn, names: tuple[str, ...] | None = None) -> dict[str, dict[str, int]]:
        return routing.held(db, names)

    def _route_waiting(self, db: Conn, now: int, actor: str, limit: int) -> list[int]:
        return routing.route_waiting(db, now, actor, limit)

    def _contact(self, db: Conn, contact_id: int, *, lock: bool = False) -> Contact:
        from backends.postgres.backend import read_contact

        return read_contact(db, contact_id, lock=lock)

    def _set_intent(self, db: Conn, contact_id: int, intent: str, now: int) -> None:
        db.execute(
            "UPDATE contacts SET intent = %s, intent_source = 'agent', updated_at = %s, "
            "version = version + 1 WHERE id = %s",
            (intent, now, contact_id),
        )

    def _current_rules(self, db: Conn) -> routing_rules.RoutingRules:
        return routing.current_rules(db)

    def _guess(self, db: Conn, text: str) -> IntentGuess:
        return routing.guess(db, text)

    def _training_rows(self, db: Conn, limit: int) -> list[Any]:
        return db.execute(
            "SELECT c.intent, c.subject, (SELECT body FROM messages m WHERE m.contact_id = "
            "c.id AND m.direction = 'inbound' ORDER BY m.at, m.id LIMIT 1) AS body "
            "FROM contacts c WHERE c.intent <> '' AND (c.intent_source = 'agent' OR "
            "(c.intent_source = '' AND c.status = 'resolved')) ORDER BY c.id DESC LIMIT %s",
            (limit,),
        ).fetchall()

    def _save_model(self, db: Conn, now: int, by: str, report: str, model: bytes) -> None:
        db.execute(
            "INSERT INTO intent_models(trained_at, trained_by, report, model) VALUES (%s,%s,%s,%s)",
            (now, by, report, model),
        )
        # keep the newest three: an older model is only history
        db.execute(
            "DELETE FROM intent_models WHERE id NOT IN "
            "(SELECT id FROM intent_models ORDER BY id DESC LIMIT 3)"
        )

    def _model_report(self, db: Conn) -> str | None:
        text = scalar(db, "SELECT report FROM intent_models ORDER BY id DESC LIMIT 1")
        return None if text is None else str(text)

    def _save_rules(self, db: Conn, text: str | None, now: int, by: str) -> None:
        if text is None:
            db.execute("DELETE FROM settings WHERE key = 'routing_rules'")
            return
        db.execute(
            "INSERT INTO settings(key, value, updated_at, updated_by) "
            "VALUES ('routing_rules', %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
            "value = excluded.value, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by",
            (text, now, by),
        )
