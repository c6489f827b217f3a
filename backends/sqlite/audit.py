"""The audit trail in SQLite: append-only, hash-chained entries of who did what, when.

Every write of the SQLite backend calls `record` inside its own transaction, so a write
and its entry commit together (or neither does); the writer's lock orders the entries.
The chain (hashes, values kept apart, the walk) is backends/audit_chain.py's, shared with
the PostgreSQL store. Triggers (migration 0009) refuse UPDATE and DELETE on the trail.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from backends import audit_chain
from backends.audit_chain import GENESIS, PROFILE_FIELDS, READ_ACTION, Actor, diff
from backends.models import AuditCheck, AuditPage


def record(
    db: sqlite3.Connection,
    actor: Actor,
    at: int,
    action: str,
    object_type: str,
    object_id: object,
    *,
    customer_id: int | None = None,
    changes: Mapping[str, list[Any]] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry in `db`'s open write transaction; its sequence number."""
    last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
    row, values = audit_chain.new_entry(
        seq,
        prev,
        actor,
        at,
        action,
        object_type,
        object_id,
        customer_id=customer_id,
        changes=changes,
        detail=detail,
    )
    if values is not None:
        db.execute(
            "INSERT INTO audit_values(seq, customer_id, salt, body) VALUES (?,?,?,?)",
            (seq, customer_id, values.salt, values.body),
        )
    db.execute(
        f"INSERT INTO audit({', '.join(row)}) VALUES ({','.join('?' * len(row))})",
        tuple(row.values()),
    )
    return seq


def page(
    db: sqlite3.Connection,
    *,
    customer_id: int | None = None,
    agent: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AuditPage:
    """Entries newest first, filtered; the cursor is the last shown entry's seq."""
    where, params = audit_chain.page_filters(customer_id, agent, since, cursor, limit, "?")
    found = db.execute(
        f"SELECT a.*, v.body FROM audit a LEFT JOIN audit_values v ON v.seq = a.seq "
        f"WHERE {where} ORDER BY a.seq DESC LIMIT ?",
        (*params, limit + 1),
    ).fetchall()
    return audit_chain.to_page(found, limit, lambda ids: erased_customers(db, ids))


def erased_customers(db: sqlite3.Connection, ids: Iterable[int | None]) -> set[int]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return set()
    marks = ",".join("?" * len(wanted))
    return {
        r[0]
        for r in db.execute(
            f"SELECT customer_id FROM erasures WHERE customer_id IN ({marks})", wanted
        )
    }


def verify(db: sqlite3.Connection) -> AuditCheck:
    """Walk the chain from the first entry (see `audit_chain.walk`)."""
    erased = {r[0] for r in db.execute("SELECT customer_id FROM erasures")}
    return audit_chain.walk(
        db.execute(
            "SELECT a.*, v.salt, v.body FROM audit a LEFT JOIN audit_values v ON v.seq = a.seq "
            "ORDER BY a.seq"
        ),
        erased,
    )


def profile(db: sqlite3.Connection, customer_id: int) -> dict[str, Any]:
    """A customer's profile fields ({} when there is no such customer)."""
    row = db.execute(
        f"SELECT {', '.join(PROFILE_FIELDS)} FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    return {} if row is None else dict(zip(PROFILE_FIELDS, tuple(row), strict=True))


__all__ = [
    "GENESIS",
    "PROFILE_FIELDS",
    "READ_ACTION",
    "Actor",
    "diff",
    "erased_customers",
    "page",
    "profile",
    "record",
    "verify",
]
