"""Routing's storage on PostgreSQL: the rules in effect, the intent model, operators' load,
and assignment that holds across server processes.

Every function works on the caller's connection, inside its transaction. Two servers may
route at once; the database decides, not process memory:
- a routing decision first locks the rows of the agents it may choose from, in name order
  (`lock_candidates`: no two routers deadlock), so a capacity count and the assignment it
  allows cannot be split by another router, claim or assignment (`check_capacity` locks the
  one agent it counts for);
- waiting contacts are taken `FOR UPDATE SKIP LOCKED`: two routers offer disjoint contacts;
- a contact is given only `WHERE assignee IS NULL`: it is never assigned twice.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import psycopg

from backends.audit_chain import Actor
from backends.models import Channel, IntentGuess
from backends.postgres import audit
from backends.postgres.store import scalar
from backends.routing import agents, assign, rules

Conn = psycopg.Connection[Any]

#: A contact counts against capacity while in one of these statuses.
_HELD = agents.HELD_STATUSES


def current_rules(db: Conn) -> rules.RoutingRules:
    """The routing rules in effect: the store's own, else the defaults."""
    text = scalar(db, "SELECT value FROM settings WHERE key = 'routing_rules'")
    return rules.cached(text if text is not None else rules.default_text())


def intent_model(db: Conn) -> Any:
    """The newest trained intent model, or None (kept in memory per database and model)."""
    head = db.execute(
        "SELECT id, trained_at, length(model) FROM intent_models ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if head is None:
        return None
    where = scalar(db, "SELECT current_database() || '@' || coalesce(inet_server_port(), 0)")
    key = (where, int(head[0]), int(head[1]), int(head[2]))
    return agents.cached_model(
        key, lambda: scalar(db, "SELECT model FROM intent_models WHERE id = %s", (head[0],))
    )


def guess(db: Conn, text: str, fallback_language: str = "") -> IntentGuess:
    """The intent and language of a customer's words, with this store's model and rules."""
    return agents.guess(text, current_rules(db), intent_model(db), fallback_language)


def held(db: Conn, names: tuple[str, ...] | None = None) -> dict[str, dict[str, int]]:
    """Contacts held per agent and channel (of `names`, or of everyone)."""
    sql = "SELECT assignee, channel, count(*) FROM contacts WHERE status = ANY(%s) AND "
    if names is None:
        found = db.execute(sql + "assignee IS NOT NULL GROUP BY 1, 2", (list(_HELD),))
    else:
        found = db.execute(sql + "assignee = ANY(%s) GROUP BY 1, 2", (list(_HELD), list(names)))
    out: dict[str, dict[str, int]] = {}
    for name, channel, count in found:
        out.setdefault(name, {})[channel] = count
    return out


def _count(db: Conn, name: str, channel: str, contact_id: int = 0) -> int:
    return int(
        scalar(
            db,
            "SELECT count(*) FROM contacts WHERE assignee = %s AND channel = %s "
            "AND status = ANY(%s) AND id <> %s",
            (name, channel, list(_HELD), contact_id),
        )
    )


def check_capacity(db: Conn, name: str, channel: Channel, contact_id: int) -> None:
    """Refuse to give `name` one more contact on `channel` when they hold their limit. The
    agent's row stays locked until the caller commits: a router or another server counting
    for the same agent waits, then sees this assignment.

    Raises:
        Conflict: the agent is at capacity on that channel (the message names the numbers).
    """
    own = scalar(db, "SELECT capacity FROM agents WHERE name = %s FOR UPDATE", (name,))
    limit = agents.own_limit(current_rules(db), own, channel.value)
    refused = agents.at_capacity(
        name, channel.value, _count(db, name, channel.value, contact_id), limit
    )
    if refused is not None:
        raise refused


#: An agent's last sign of life: set_presence's, or a write's (agent_activity).
LAST_ACTIVE = (
    "greatest(a.last_active_at, (SELECT x.at FROM agent_activity x WHERE x.name = a.name))"
)
#: The columns of an agent's state (`backends.routing.agents.state`), of `agents a`.
STATE_COLUMNS = (
    "a.name, a.display_name, a.role, a.skills, a.capacity, a.presence, a.presence_at, "
    f"{LAST_ACTIVE} AS last_active_at, a.last_routed_at, a.disabled_at"
)


def note_active(db: Conn, name: str, now: int) -> None:
    """`name` wrote something: a sign of life (without touching their agents row, which a
    router may hold). A row already at `now` is left alone, unlocked: writes of one agent
    within a second do not queue on it."""
    db.execute(
        "INSERT INTO agent_activity(name, at) SELECT %s, %s WHERE NOT EXISTS "
        "(SELECT 1 FROM agent_activity WHERE name = %s AND at >= %s) ON CONFLICT (name) "
        "DO UPDATE SET at = greatest(agent_activity.at, excluded.at)",
        (name, now, name, now),
    )


def lock_candidates(db: Conn, now: int) -> list[assign.Candidate]:
    """The operators and admins routing may give work to now (enabled, online, active within
    the rules' idle limit), their rows locked in name order until the caller commits."""
    rs = current_rules(db)
    found = db.execute(
        "SELECT a.name, a.skills, a.capacity, a.presence_at, a.last_routed_at, a.routed_seq "
        "FROM agents a WHERE a.presence = 'online' AND a.disabled_at IS NULL "
        f"AND a.role <> 'supervisor' AND greatest({LAST_ACTIVE}, a.presence_at, 0) >= %s "
        "ORDER BY a.name FOR UPDATE",
        (now - rs.away_after_minutes * 60,),
    ).fetchall()
    return [agents.candidate(rs, *row) for row in found]


def held_on(db: Conn, channel: str) -> Callable[[str], int]:
    """How many contacts on `channel` an agent holds (read after their row is locked)."""
    return lambda name: _count(db, name, channel)


def note_given(db: Conn, name: str, now: int) -> None:
    """`name` just got a contact (routed, claimed or assigned): idle from now on."""
    db.execute(
        "UPDATE agents SET last_routed_at = %s, routed_seq = nextval('agents_routed_seq') "
        "WHERE name = %s",
        (now, name),
    )


def give(db: Conn, contact_id: int, name: str, now: int, actor: str) -> bool:
    """Assign a still unassigned contact to `name` (routing's offer) and log it; False when
    another writer assigned it first."""
    done = db.execute(
        "UPDATE contacts SET assignee = %s, assigned_at = %s, updated_at = %s, "
        "version = version + 1 WHERE id = %s AND assignee IS NULL",
        (name, now, now, contact_id),
    ).rowcount
    if not done:
        return False
    note_given(db, name, now)
    db.execute(
        "INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (%s,%s,%s,%s,%s)",
        (now, "contact", contact_id, f"routed:{name}", actor),
    )
    return True


@dataclasses.dataclass(frozen=True)
class Routed:
    """A contact routing gave: to whom, for which skill, whose contact."""

    contact_id: int
    customer_id: int
    agent: str
    skill: str


def route(
    db: Conn,
    contact_id: int,
    now: int,
    actor: str,
    pool: list[assign.Candidate] | None = None,
) -> Routed | None:
    """Offer one unassigned contact to the operator who should take it; None when nobody
    available has the skill and room. `pool` (from `lock_candidates`, whose locks the
    caller holds) is updated; without one, the candidates are locked here. The caller
    audits what was given (`audit_routed`) after its last lock."""
    row = db.execute(
        f"SELECT {agents.OFFER_COLUMNS} FROM contacts c "
        "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = %s",
        (contact_id,),
    ).fetchone()
    lazy = functools.cache(lambda: lock_candidates(db, now) if pool is None else pool)
    found = agents.offer(row, current_rules(db), lazy, functools.partial(held_on, db))
    if found is None or not give(db, contact_id, found[0].name, now, actor):
        return None
    chosen, skill = found
    agents.given(lazy(), chosen, now)
    assert row is not None  # offered: the contact exists
    return Routed(contact_id, int(row["customer_id"]), chosen.name, skill)


def audit_routed(db: Conn, actor: Actor, now: int, routed: Routed) -> None:
    """The audit entry of a contact routing gave (as the SQLite store records it)."""
    audit.record(
        db,
        actor,
        now,
        "route",
        "contact",
        routed.contact_id,
        customer_id=routed.customer_id,
        changes={"assignee": [None, routed.agent]},
        detail={"skill": routed.skill},
    )


def route_waiting(db: Conn, now: int, actor: str, limit: int) -> list[int]:
    """Offer up to `limit` waiting contacts, in queue order, to the operators with room; the
    ids given, each audited. Contacts another router holds are skipped (it offers them)."""
    pool = lock_candidates(db, now)
    if not pool:
        return []
    waiting = db.execute(
        "SELECT id FROM contacts WHERE assignee IS NULL AND status IN ('new', 'open') "
        "ORDER BY prio_sort, sla_sort, created_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
        (limit,),
    ).fetchall()
    given = [r for (cid,) in waiting if (r := route(db, cid, now, actor, pool)) is not None]
    for routed in given:  # last: the audit chain's lock after every row lock
        audit_routed(db, Actor(actor, origin="routing"), now, routed)
    return [r.contact_id for r in given]
