"""The audit trail in PostgreSQL: the chain of backends/audit_chain.py, appended by many
server processes at once.

`record` runs inside the caller's write transaction, so a write and its entry commit
together (or neither does). Appends are serialised by a transaction-level advisory lock
held until the transaction ends, so the next appender (in this process or another
server's) links to a committed head and entries commit in `seq` order. The entry is linked
to the head inside the database (its hash computed there, as `audit_chain.entry_hash`
does), and the lock and the entry are held back to go to the server with the COMMIT
(`PgStore`'s `at_commit`): the lock is held while the server runs them, not across round
trips and the server's Python (200 operators on two servers queued on it when it was held
from the head's read to the commit). The entry's `seq` is its place in commit order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from backends import audit_chain
from backends.audit_chain import PROFILE_FIELDS
from backends.models import AuditCheck, AuditPage
from backends.postgres.store import at_commit

Conn = psycopg.Connection[Any]

#: The advisory lock (two-key form: apart from the one-key locks of the store) that
#: orders appends to the chain.
CHAIN_LOCK = (0x56495354, 0x41554454)  # "VIST", "AUDT"

_COLUMNS = ", ".join(audit_chain.COLUMNS)
_SELECT = ", ".join(f"a.{c}" for c in audit_chain.COLUMNS)


#: The entry's own columns, cast to their types (an INSERT ... SELECT does not infer them).
_TYPES = {"at": "bigint", "customer_id": "bigint"}
_OWN = [c for c in audit_chain.CONTENT_COLUMNS if c != "seq"]
#: The head of the chain, read after the lock (its own statement: a statement's snapshot
#: is taken when it starts, so the lock must be held before the head is read).
_HEAD = (
    "WITH last AS (SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1), "
    "head AS (SELECT coalesce((SELECT seq FROM last), 0) + 1 AS seq, "
    "coalesce((SELECT hash FROM last), %s) AS prev)"
)
_KEPT = (
    ", kept AS (INSERT INTO audit_values(seq, customer_id, salt, body) "
    "SELECT head.seq, %s::bigint, %s, %s FROM head)"
)
#: The entry linked to the head in the database: its hash is `audit_chain.entry_hash`'s
#: (the predecessor's hash, a newline, then `[seq,` and the entry's `hash_tail`).
_LINKED = (
    f"INSERT INTO audit(seq, {', '.join(_OWN)}, prev_hash, hash) SELECT head.seq, "
    + ", ".join(f"%s::{_TYPES.get(c, 'text')}" for c in _OWN)
    + ", head.prev, encode(sha256(convert_to(head.prev || %s || head.seq::text || ',' || %s, "
    "'UTF8')), 'hex') FROM head"
)


def _link(db: Conn, row: dict[str, Any], tail: str, values: audit_chain.Values | None) -> None:
    """The lock that orders appends, then the entry linked to the chain's head: held back
    to go with the transaction's commit (`at_commit`), so the lock is held only while the
    database runs them and commits, not across round trips and the server's Python."""
    own = [row[c] for c in _OWN]
    if values is None:
        statement, params = f"{_HEAD} {_LINKED}", (audit_chain.GENESIS, *own, "\n[", tail)
    else:  # both rows in one statement
        statement = f"{_HEAD}{_KEPT} {_LINKED}"
        params = (
            audit_chain.GENESIS,
            row["customer_id"],
            values.salt,
            values.body,
            *own,
            "\n[",
            tail,
        )

    def send(conn: Conn) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", CHAIN_LOCK)
        conn.execute(statement, params)  # type: ignore[arg-type]

    at_commit(db, send)


#: Append one entry in `db`'s open write transaction.
record = audit_chain.Appender(link=_link)


def page(db: Conn, query: audit_chain.PageQuery) -> AuditPage:
    """Entries newest first, filtered; the cursor is the last shown entry's seq."""
    found = db.execute(*query.statement(_SELECT, "%s")).fetchall()
    return audit_chain.to_page(found, query.limit, lambda ids: erased_customers(db, ids))


def erased_customers(db: Conn, ids: Iterable[int | None]) -> set[int]:
    """Which of `ids` were erased."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return set()
    found = db.execute("SELECT customer_id FROM erasures WHERE customer_id = ANY(%s)", (wanted,))
    return {int(r[0]) for r in found}


def verify(db: Conn) -> AuditCheck:
    """Walk the chain from the first entry (see `audit_chain.walk`), streamed."""
    erased = {int(r[0]) for r in db.execute("SELECT customer_id FROM erasures")}
    with db.cursor(name="vista_audit_walk") as cur:
        cur.itersize = 5000
        cur.execute(
            f"SELECT {_SELECT}, v.salt, v.body FROM audit a "
            "LEFT JOIN audit_values v ON v.seq = a.seq ORDER BY a.seq"
        )
        return audit_chain.walk(cur, erased)


def profile(db: Conn, customer_id: int) -> dict[str, Any]:
    """A customer's profile fields as the trail compares them ({} when there is none)."""
    row = db.execute(
        f"SELECT {', '.join(PROFILE_FIELDS)} FROM customers WHERE id = %s", (customer_id,)
    ).fetchone()
    return {} if row is None else dict(zip(PROFILE_FIELDS, tuple(row), strict=True))
