"""The agents of a PostgreSQL store as the contract names them: an unknown agent is refused,
naming the known ones (agents' administration and routing are not offered here: no
Capability.ROUTING)."""

from __future__ import annotations

from typing import Any

import psycopg

from backends.base import NotFound


def known_agents(db: psycopg.Connection[Any]) -> str:
    """The enabled agents' names, for an error message ("anna, giulia, …")."""
    names = [
        r[0]
        for r in db.execute(
            "SELECT name FROM agents WHERE disabled_at IS NULL ORDER BY name LIMIT 21"
        )
    ]
    shown = ", ".join(names[:20]) + (" and more" if len(names) > 20 else "")
    return shown or "none"


def unknown_agent(db: psycopg.Connection[Any], name: str) -> NotFound:
    return NotFound(
        f"no agent named {name!r}; known agents: {known_agents(db)} "
        "(an API token's agent is registered when the token is made)",
        "Unknown agent",
    )
