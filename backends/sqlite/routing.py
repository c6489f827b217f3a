"""Routing's storage: the rules in effect, the intent model, operators' load, and assignment.

Every function works on the caller's connection (inside its transaction), so a contact's
arrival, its classification and its assignment commit together, and a capacity check and
the assignment it allows cannot be split by another writer (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

from backends.models import Channel, IntentGuess
from backends.routing import agents, assign, rules
from backends.sqlite import audit

HELD_STATUSES = agents.HELD_STATUSES
_HELD = ",".join(f"'{s}'" for s in HELD_STATUSES)


def current_rules(db: sqlite3.Connection) -> rules.RoutingRules:
    """The routing rules in effect: the store's own, else the defaults."""
    row = db.execute("SELECT value FROM settings WHERE key = 'routing_rules'").fetchone()
    return rules.cached(row[0] if row is not None else rules.default_text())


def intent_model(db: sqlite3.Connection) -> Any:
    """The newest trained intent model (a `backends.routing.model.IntentModel`), or None.
    Kept in memory per store file and model, so arrivals do not re-read the archive."""
    head = db.execute(
        "SELECT id, trained_at, length(model) FROM intent_models ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if head is None:
        return None
    file = db.execute("PRAGMA database_list").fetchone()[2]
    key = (file, int(head[0]), int(head[1]), int(head[2]))
    return agents.cached_model(
        key,
        lambda: db.execute("SELECT model FROM intent_models WHERE id = ?", (head[0],)).fetchone()[
            0
        ],
    )


def guess(db: sqlite3.Connection, text: str, fallback_language: str = "") -> IntentGuess:
    """The intent and language of a customer's words, with this store's model and rules."""
    return agents.guess(text, current_rules(db), intent_model(db), fallback_language)


#: A stored agent row as a model (backends.routing.agents).
agent = agents.agent


def held(db: sqlite3.Connection, names: tuple[str, ...] | None = None) -> dict[str, dict[str, int]]:
    """Contacts held per agent and channel (of `names`, or of everyone)."""
    sql = f"SELECT assignee, channel, count(*) FROM contacts WHERE status IN ({_HELD}) AND "
    if names is None:
        found = db.execute(sql + "assignee IS NOT NULL GROUP BY 1, 2")
    else:
        found = db.execute(sql + f"assignee IN ({','.join('?' * len(names))}) GROUP BY 1, 2", names)
    out: dict[str, dict[str, int]] = {}
    for name, channel, count in found:
        out.setdefault(name, {})[channel] = count
    return out


def check_capacity(db: sqlite3.Connection, name: str, channel: Channel, contact_id: int) -> None:
    """Refuse to give `name` one more contact on `channel` when they hold their limit.

    Raises:
        Conflict: the agent is at capacity on that channel (the message names the numbers).
    """
    row = db.execute("SELECT capacity FROM agents WHERE name = ?", (name,)).fetchone()
    limit = agents.own_limit(current_rules(db), row[0] if row is not None else None, channel.value)
    count = db.execute(
        f"SELECT count(*) FROM contacts WHERE assignee = ? AND channel = ? AND status IN ({_HELD}) "
        "AND id <> ?",
        (name, channel.value, contact_id),
    ).fetchone()[0]
    refused = agents.at_capacity(name, channel.value, count, limit)
    if refused is not None:
        raise refused


def candidates(db: sqlite3.Connection, now: int) -> list[assign.Candidate]:
    """The operators and admins routing may give work to now: enabled, online and active
    within the rules' idle limit, with their skills and limits (their load is read per
    candidate, in rank order, by `held_on`)."""
    rs = current_rules(db)
    since = now - rs.away_after_minutes * 60
    found = db.execute(
        "SELECT name, skills, capacity, presence_at, last_routed_at, routed_seq FROM agents "
        "WHERE presence = 'online' AND disabled_at IS NULL AND role <> 'supervisor' "
        "AND max(coalesce(last_active_at, 0), coalesce(presence_at, 0)) >= ?",
        (since,),
    ).fetchall()
    return [agents.candidate(rs, *row) for row in found]


def held_on(db: sqlite3.Connection, channel: str) -> Callable[[str], int]:
    """How many contacts on `channel` an agent holds (one seek of `contacts_held`)."""

    def count(name: str) -> int:
        return int(
            db.execute(
                f"SELECT count(*) FROM contacts WHERE status IN ({_HELD}) "
                "AND assignee = ? AND channel = ?",
                (name, channel),
            ).fetchone()[0]
        )

    return count


def note_given(db: sqlite3.Connection, name: str, now: int) -> None:
    """`name` just got a contact (routed, claimed or assigned): idle from now on."""
    db.execute(
        "UPDATE agents SET last_routed_at = ?, routed_seq = "
        "(SELECT coalesce(max(routed_seq), 0) + 1 FROM agents) WHERE name = ?",
        (now, name),
    )


def give(db: sqlite3.Connection, contact_id: int, name: str, now: int, actor: str) -> None:
    """Assign an unassigned contact to `name` (routing's offer) and log it."""
    db.execute(
        "UPDATE contacts SET assignee = ?, assigned_at = ?, updated_at = ?, "
        "version = version + 1 WHERE id = ?",
        (name, now, now, contact_id),
    )
    note_given(db, name, now)
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
        (now, "contact", contact_id, f"routed:{name}", actor),
    )


def route(
    db: sqlite3.Connection,
    contact_id: int,
    now: int,
    actor: str,
    pool: list[assign.Candidate] | None = None,
) -> str | None:
    """Offer one unassigned contact to the operator who should take it; their name, or None
    when nobody available has the skill and room. `pool` (from `candidates`) is updated."""
    row = db.execute(
        f"SELECT {agents.OFFER_COLUMNS} FROM contacts c "
        "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?",
        (contact_id,),
    ).fetchone()
    lazy = functools.cache(lambda: candidates(db, now) if pool is None else pool)
    found = agents.offer(row, current_rules(db), lazy, functools.partial(held_on, db))
    if found is None:
        return None
    chosen, skill = found
    give(db, contact_id, chosen.name, now, actor)
    audit.record(
        db,
        audit.Actor(actor, origin="routing"),
        now,
        "route",
        "contact",
        contact_id,
        customer_id=int(row["customer_id"]),
        changes={"assignee": [None, chosen.name]},
        detail={"skill": skill},
    )
    agents.given(lazy(), chosen, now)
    return chosen.name


def route_waiting(db: sqlite3.Connection, now: int, actor: str, limit: int) -> list[int]:
    """Offer up to `limit` waiting contacts, in queue order, to the operators with room; the
    ids given."""
    pool = candidates(db, now)
    if not pool:
        return []
    waiting = db.execute(
        "SELECT id FROM contacts WHERE status <> 'resolved' AND assignee IS NULL "
        "AND status IN ('new', 'open') "
        "ORDER BY prio_sort, sla_sort, created_at, id LIMIT ?",
        (limit,),
    ).fetchall()
    return [cid for (cid,) in waiting if route(db, cid, now, actor, pool) is not None]
