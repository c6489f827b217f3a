"""The audit trail in SQLite: append-only, hash-chained entries of who did what, when.

Every write of the SQLite backend calls `record` inside its own transaction, so a write
and its entry commit together (or neither does); the writer's lock orders the entries.
The chain (hashes, values kept apart, the walk) is backends/audit_chain.py's, shared with
the PostgreSQL store. Triggers (migration 0009) refuse UPDATE and DELETE on the trail.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from backends import audit_chain
from backends.audit_chain import (
    GENESIS,
    PROFILE_FIELDS,
    READ_ACTION,
    Actor,
    Appender,
    PageQuery,
    Values,
    diff,
)
from backends.models import AuditCheck, AuditPage


def _head(db: sqlite3.Connection) -> tuple[int, str] | None:
    """The last entry's seq and hash (the writer's lock orders appends)."""
    last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return None if last is None else (int(last[0]), str(last[1]))


def _insert(db: sqlite3.Connection, row: dict[str, Any], values: Values | None) -> None:
    if values is not None:
        db.execute(
            "INSERT INTO audit_values(seq, customer_id, salt, body) VALUES (?,?,?,?)",
            (row["seq"], row["customer_id"], values.salt, values.body),
        )
    db.execute(
        f"INSERT INTO audit({', '.join(row)}) VALUES ({','.join('?' * len(row))})",
        tuple(row.values()),
    )


#: Append one entry in `db`'s open write transaction; its sequence number.
record = Appender(_head, _insert)


def page(db: sqlite3.Connection, query: PageQuery) -> AuditPage:
    """Entries newest first, filtered; the cursor is the last shown entry's seq."""
    found = db.execute(*query.statement("a.*", "?")).fetchall()
    return audit_chain.to_page(found, query.limit, lambda ids: erased_customers(db, ids))


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
