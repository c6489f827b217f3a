"""API tokens of the HTTP server, kept in the store they open: hashed, named, with a role.

A token is `vista_` plus 256 random bits; it is shown once when created and only
its SHA-256 is stored (a slow KDF buys nothing for secrets this long). Only an
admin creates tokens; a store without any admin (agent or active token) lets its
local owner create the first admin token, which makes one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3

from backends import limits, records
from backends.base import Conflict, Forbidden, InvalidInput, NotFound
from backends.models import Agent, NewToken, Role, TokenInfo, utcnow
from backends.sqlite import audit
from backends.sqlite.store import Store

PREFIX = "vista_"
_NAME = re.compile(limits.TOKEN_NAME_PATTERN)

__all__ = ["PREFIX", "TokenInfo", "TokenStore", "token_hash"]


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(r: sqlite3.Row) -> TokenInfo:
    return TokenInfo(
        name=r["name"],
        role=Role(r["role"]),
        agent=r["agent"],
        created_at=records.ts(r["created_at"]),
        revoked_at=records.from_ts(r["revoked_at"]),
    )


def _has_admin(db: sqlite3.Connection) -> bool:
    """Whether the store has an admin: an agent, or an active token, with that role."""
    return (
        db.execute(
            "SELECT 1 FROM agents WHERE role = 'admin' UNION ALL "
            "SELECT 1 FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1"
        ).fetchone()
        is not None
    )


class TokenStore:
    """Create, list, revoke and verify tokens in one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        name: str,
        role: Role | str,
        agent: str | None = None,
        *,
        by: Agent,
        actor: audit.Actor | None = None,
    ) -> NewToken:
        """A new token for `agent` (default: `name`), made by `by`: the token, shown only now.

        Raises:
            InvalidInput: a malformed name or an unknown role.
            Conflict: an active token already has this name.
            Forbidden: `by` is not an admin (unless this is the first admin token of a
                store without any admin).
        """
        if not _NAME.fullmatch(name):
            raise InvalidInput(f"token name {name!r}: use letters, digits, . _ - @ (max 64)")
        try:
            role = Role(role)
        except ValueError as e:
            raise InvalidInput(f"unknown role {role!r}: operator, supervisor or admin") from e
        agent = (agent or name).strip()
        if not _NAME.fullmatch(agent):
            raise InvalidInput(f"agent name {agent!r}: use letters, digits, . _ - @ (max 64)")
        token = PREFIX + secrets.token_urlsafe(32)
        now = records.to_ts(utcnow())
        with self.store.write() as db:
            if by.role is not Role.ADMIN and (role is not Role.ADMIN or _has_admin(db)):
                raise Forbidden(
                    f"{by.name} is a {by.role.value}: only an admin may create API tokens"
                )
            old = db.execute("SELECT revoked_at FROM api_tokens WHERE name = ?", (name,)).fetchone()
            if old is not None and old["revoked_at"] is None:
                raise Conflict(f"a token named {name} exists; revoke it first")
            db.execute("DELETE FROM api_tokens WHERE name = ?", (name,))
            db.execute(
                "INSERT INTO api_tokens(name, hash, role, agent, created_at) VALUES (?,?,?,?,?)",
                (name, token_hash(token), role.value, agent, now),
            )
            # the agent exists from now on (transfer pickers, KPIs); an existing row keeps its role
            db.execute(
                "INSERT OR IGNORE INTO agents(name, display_name, role, created_at) "
                "VALUES (?,?,?,?)",
                (agent, agent, role.value, now),
            )
            row = db.execute("SELECT * FROM api_tokens WHERE name = ?", (name,)).fetchone()
            audit.record(
                db,
                actor or audit.Actor(by.name, by.role.value),
                now,
                "token-create",
                "token",
                name,
                changes=audit.diff({}, {"role": role.value, "agent": agent}),
            )
        info = _info(row)
        return NewToken(token, info.name, info.role, info.agent, info.created_at, info.revoked_at)

    def list(self) -> tuple[TokenInfo, ...]:
        """Every token, active and revoked, sorted by name."""
        with self.store.read() as db:
            found = db.execute("SELECT * FROM api_tokens ORDER BY name").fetchall()
        return tuple(_info(r) for r in found)

    def revoke(self, name: str, *, actor: audit.Actor | None = None) -> TokenInfo:
        """Revoke a token by name: it stops working at once.

        Raises:
            NotFound: no active token has this name.
        """
        now = records.to_ts(utcnow())
        with self.store.write() as db:
            cur = db.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (now, name),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no active token named {name}")
            row = db.execute("SELECT * FROM api_tokens WHERE name = ?", (name,)).fetchone()
            audit.record(
                db,
                actor or audit.Actor("", origin="cli"),
                now,
                "token-revoke",
                "token",
                name,
                changes={"revoked_at": [None, now]},
            )
        return _info(row)

    def verify(self, token: str) -> TokenInfo | None:
        """The grant of an active token, or None (unknown, malformed or revoked)."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        with self.store.read() as db:
            row = db.execute(
                "SELECT * FROM api_tokens WHERE hash = ? AND revoked_at IS NULL",
                (token_hash(token),),
            ).fetchone()
        return None if row is None else _info(row)
