"""API tokens in the PostgreSQL store: hashed, named, with a role (as the SQLite store's:
a token is `vista_` plus 256 random bits, shown once, kept as its SHA-256)."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from backends import limits, records
from backends.audit_chain import Actor, diff
from backends.base import Conflict, Forbidden, InvalidInput, NotFound
from backends.models import Agent, NewToken, Role, TokenInfo, utcnow
from backends.postgres import audit
from backends.postgres.store import PgStore

PREFIX = "vista_"
_NAME = re.compile(limits.TOKEN_NAME_PATTERN)
_COLUMNS = "name, role, agent, created_at, revoked_at"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(r: Any) -> TokenInfo:
    return TokenInfo(
        name=r[0], role=Role(r[1]), agent=r[2], created_at=records.ts(r[3]),
        revoked_at=records.from_ts(r[4]),
    )  # fmt: skip


def create(
    store: PgStore,
    name: str,
    role: Role | str,
    agent: str | None,
    *,
    by: Agent,
    actor: Actor | None = None,
) -> NewToken:
    """A new token for `agent` (default: `name`), made by `by` (see `Backend.create_token`)."""
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
    with store.write() as db:
        # one token per name, also when two admins create it at once
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 11))", (name,))
        has_admin = db.execute(
            "SELECT 1 FROM agents WHERE role = 'admin' UNION ALL "
            "SELECT 1 FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1"
        ).fetchone()
        if by.role is not Role.ADMIN and (role is not Role.ADMIN or has_admin is not None):
            raise Forbidden(f"{by.name} is a {by.role.value}: only an admin may create API tokens")
        old = db.execute("SELECT revoked_at FROM api_tokens WHERE name = %s", (name,)).fetchone()
        if old is not None and old[0] is None:
            raise Conflict(f"a token named {name} exists; revoke it first")
        db.execute("DELETE FROM api_tokens WHERE name = %s", (name,))
        row = db.execute(
            f"INSERT INTO api_tokens(name, hash, role, agent, created_at) VALUES (%s,%s,%s,%s,%s) "
            f"RETURNING {_COLUMNS}",
            (name, token_hash(token), role.value, agent, now),
        ).fetchone()
        db.execute(
            "INSERT INTO agents(name, display_name, role, created_at) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (name) DO NOTHING",
            (agent, agent, role.value, now),
        )
        audit.record(
            db,
            actor or Actor(by.name, by.role.value),
            now,
            "token-create",
            "token",
            name,
            changes=diff({}, {"role": role.value, "agent": agent}),
        )
    info = _info(row)
    return NewToken(token, info.name, info.role, info.agent, info.created_at, info.revoked_at)


def list_tokens(store: PgStore) -> tuple[TokenInfo, ...]:
    with store.read() as db:
        return tuple(
            _info(r) for r in db.execute(f"SELECT {_COLUMNS} FROM api_tokens ORDER BY name")
        )


def revoke(store: PgStore, name: str, *, actor: Actor | None = None) -> TokenInfo:
    now = records.to_ts(utcnow())
    with store.write() as db:
        row = db.execute(
            f"UPDATE api_tokens SET revoked_at = %s WHERE name = %s AND revoked_at IS NULL "
            f"RETURNING {_COLUMNS}",
            (now, name),
        ).fetchone()
        if row is None:
            raise NotFound(f"no active token named {name}")
        audit.record(
            db,
            actor or Actor("", origin="cli"),
            now,
            "token-revoke",
            "token",
            name,
            changes={"revoked_at": [None, now]},
        )
    return _info(row)


def verify(store: PgStore, token: str) -> TokenInfo | None:
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with store.single_reads() as db:  # one round trip: every request of a server checks one
        row = db.execute(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE hash = %s AND revoked_at IS NULL",
            (token_hash(token),),
        ).fetchone()
    return None if row is None else _info(row)
