"""The audit trail in PostgreSQL: the chain of backends/audit_chain.py, appended by many
server processes at once.

`record` runs inside the caller's write transaction, so a write and its entry commit
together (or neither does). Appends are serialised by a transaction-level advisory lock:
an appender reads the chain's head, inserts the next entry and keeps the lock until its
transaction ends, so the next appender (in this process or another server's) links to
a committed head and entries commit in `seq` order. Call `record` last in a transaction
(after its row locks), so the lock is held for as short a time as possible.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from backends import audit_chain
from backends.audit_chain import PROFILE_FIELDS
from backends.models import AuditCheck, AuditPage

Conn = psycopg.Connection[Any]

#: The advisory lock (two-key form: apart from the one-key locks of the store) that
#: orders appends to the chain.
CHAIN_LOCK = (0x56495354, 0x41554454)  # "VIST", "AUDT"

_COLUMNS = ", ".join(audit_chain.COLUMNS)
_SELECT = ", ".join(f"a.{c}" for c in audit_chain.COLUMNS)


def _head(db: Conn) -> tuple[int, str] | None:
    """The last entry's seq and hash, under the lock that orders appends."""
    db.execute("SELECT pg_advisory_xact_lock(%s, %s)", CHAIN_LOCK)
    last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return None if last is None else (int(last[0]), str(last[1]))


def _insert(db: Conn, row: dict[str, Any], values: audit_chain.Values | None) -> None:
    insert = f"INSERT INTO audit({_COLUMNS}) VALUES ({', '.join(['%s'] * len(row))})"
    if values is None:
        db.execute(insert, tuple(row.values()))
    else:  # both rows in one round trip
        db.execute(
            "WITH kept AS (INSERT INTO audit_values(seq, customer_id, salt, body) "
            f"VALUES (%s,%s,%s,%s)) {insert}",
            (row["seq"], row["customer_id"], values.salt, values.body, *row.values()),
        )


#: Append one entry in `db`'s open write transaction; its sequence number.
record = audit_chain.Appender(_head, _insert)


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
