"""The audit trail: append-only, hash-chained entries of who did what, when.

Every write of the SQLite backend calls `record` inside its own transaction, so
a write and its entry commit together (or neither does). An entry's hash is
SHA-256 over the previous entry's hash and the entry's canonical content; the
before and after values live in `audit_values`, salted, and only their digest is
part of the entry, so erasing a person can delete their values while the chain
still verifies (`verify` accepts missing values only for erased customers).
Triggers (migration 0010) refuse UPDATE and DELETE on the trail.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from backends.base import InvalidInput
from backends.models import AuditCheck, AuditEntry, AuditPage, Origin

GENESIS = "0" * 64

#: What a read of a customer's profile is recorded as.
READ_ACTION = "read"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the agent and role, the API token's name ('' when none), and the origin."""

    agent: str
    role: str = ""
    token: str = ""
    origin: str = Origin.CONSOLE.value

    def as_(self, agent: str, origin: str | None = None) -> Actor:
        """The same call credited to another actor (an inbound message to its channel): no
        agent's role, the token and origin kept."""
        return replace(self, agent=agent, role="", origin=origin or self.origin)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def entry_hash(prev: str, row: Mapping[str, Any]) -> str:
    """The hash of an entry: its predecessor's hash and its own canonical content."""
    content = _canonical(
        [
            row["seq"],
            row["at"],
            row["agent"],
            row["role"],
            row["token"],
            row["origin"],
            row["action"],
            row["object_type"],
            row["object_id"],
            row["customer_id"],
            row["detail"],
            row["values_hash"],
        ]
    )
    return _digest(prev, content)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field -> [before, after] for every field whose value differs (missing is None)."""
    out: dict[str, list[Any]] = {}
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [old, new]
    return out


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
    values_hash = ""
    if changes:
        salt = secrets.token_hex(16)
        body = _canonical(changes)
        values_hash = _digest(salt, body)
        db.execute(
            "INSERT INTO audit_values(seq, customer_id, salt, body) VALUES (?,?,?,?)",
            (seq, customer_id, salt, body),
        )
    row = {
        "seq": seq,
        "at": int(at),
        "agent": actor.agent,
        "role": actor.role,
        "token": actor.token,
        "origin": actor.origin,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "customer_id": customer_id,
        "detail": _canonical(dict(detail or {})),
        "values_hash": values_hash,
    }
    row["prev_hash"] = prev
    row["hash"] = entry_hash(prev, row)
    db.execute(
        f"INSERT INTO audit({', '.join(row)}) VALUES ({','.join('?' * len(row))})",
        tuple(row.values()),
    )
    return seq


def _entry(row: sqlite3.Row, erased: set[int]) -> AuditEntry:
    body = row["body"]
    changes = {k: (v[0], v[1]) for k, v in json.loads(body).items()} if body else {}
    cid = row["customer_id"]
    return AuditEntry(
        seq=row["seq"],
        at=datetime.fromtimestamp(row["at"], UTC),
        agent=row["agent"],
        role=row["role"],
        token=row["token"],
        origin=row["origin"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        customer_id=cid,
        changes=changes,
        detail=json.loads(row["detail"]),
        erased=cid is not None and cid in erased,
        hash=row["hash"],
    )


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
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be between 1 and 1000 (got {limit})")
    where: list[str] = []
    params: list[Any] = []
    if customer_id is not None:
        where.append("a.customer_id = ?")
        params.append(customer_id)
    if agent is not None:
        where.append("a.agent = ?")
        params.append(agent)
    if since is not None:
        where.append("a.at >= ?")
        params.append(int(since.timestamp()))
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 18:
            raise InvalidInput(f"not an audit cursor: {cursor[:40]!r}")
        where.append("a.seq < ?")
        params.append(int(cursor))
    found = db.execute(
        "SELECT a.*, v.body FROM audit a LEFT JOIN audit_values v ON v.seq = a.seq "
        f"WHERE {' AND '.join(where) or '1'} ORDER BY a.seq DESC LIMIT ?",
        (*params, limit + 1),
    ).fetchall()
    more = len(found) > limit
    found = found[:limit]
    erased = erased_customers(db, (r["customer_id"] for r in found))
    entries = tuple(_entry(r, erased) for r in found)
    return AuditPage(entries, str(entries[-1].seq) if more and entries else None)


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
    """Walk the chain from the first entry: each links to its predecessor, hashes to what
    it says, and its values (when kept) digest to what it records. The first entry that
    does not is named."""
    erased = {r[0] for r in db.execute("SELECT customer_id FROM erasures")}
    prev = GENESIS
    checked = 0
    expected_seq = 1
    for row in db.execute(
        "SELECT a.*, v.salt, v.body FROM audit a LEFT JOIN audit_values v ON v.seq = a.seq "
        "ORDER BY a.seq"
    ):
        seq = row["seq"]
        problem = ""
        if seq != expected_seq:
            problem = f"entry {expected_seq} is missing (the next is {seq})"
        elif row["prev_hash"] != prev:
            problem = "it does not link to the entry before it"
        elif entry_hash(prev, row) != row["hash"]:
            problem = "its content does not match its hash (changed after it was written)"
        elif row["body"] is not None:
            if _digest(row["salt"], row["body"]) != row["values_hash"]:
                problem = "its before/after values were changed"
        elif row["values_hash"] and row["customer_id"] not in erased:
            problem = "its before/after values were removed"
        if problem:
            return AuditCheck(False, checked, seq if seq == expected_seq else expected_seq, problem)
        prev = row["hash"]
        checked += 1
        expected_seq += 1
    return AuditCheck(True, checked)


#: A customer's fields as the audit trail compares them (bookkeeping columns left out).
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "emails",
    "phones",
    "addresses",
    "birth_date",
    "language",
    "segment",
    "tier",
    "consents",
    "lifetime_value",
    "currency",
    "tags",
    "attributes",
    "churn_risk",
    "unhappy",
)


def profile(db: sqlite3.Connection, customer_id: int) -> dict[str, Any]:
    """A customer's profile fields ({} when there is no such customer)."""
    row = db.execute(
        f"SELECT {', '.join(PROFILE_FIELDS)} FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    return {} if row is None else dict(zip(PROFILE_FIELDS, tuple(row), strict=True))
