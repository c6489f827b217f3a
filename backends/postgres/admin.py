"""Looking inside a PostgreSQL store (for `vista db info` and `vista db check`): schema
version, sizes and row counts per table, and integrity checks that make sense for a server
database (PostgreSQL keeps its own pages sound): the audit chain, rows that point nowhere,
id sequences behind their tables, indexes left invalid."""

from __future__ import annotations

from typing import Any

import psycopg

from backends.models import StoreInfo
from backends.postgres import audit
from backends.postgres.store import SCHEMA_VERSION, scalar

Conn = psycopg.Connection[Any]

#: Rows that must point at a row of another table: (what, table, column, target, its key).
REFERENCES: tuple[tuple[str, str, str, str, str], ...] = (
    ("contacts", "contacts", "customer_id", "customers", "id"),
    ("events", "events", "customer_id", "customers", "id"),
    ("orders", "orders", "customer_id", "customers", "id"),
    ("source records", "source_records", "customer_id", "customers", "id"),
    ("outbox entries", "outbox", "message_id", "messages", "id"),
    ("search rows", "customer_search", "customer_id", "customers", "id"),
    ("audit values", "audit_values", "seq", "audit", "seq"),
    ("legal holds", "legal_holds", "customer_id", "customers", "id"),
)


def _tables(db: Conn) -> list[str]:
    return [
        str(r[0])
        for r in db.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        )
    ]


def info(db: Conn, location: str) -> StoreInfo:
    """Schema version, the database's size, and per table its rows (PostgreSQL's estimate
    once the table was analysed, else counted) and bytes with indexes and TOAST."""
    version = int(scalar(db, "SELECT coalesce(max(version), 0) FROM schema_version"))
    rows: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for name in _tables(db):
        if name == "schema_version":
            continue
        found = db.execute(
            "SELECT reltuples::bigint, pg_total_relation_size(oid) FROM pg_class "
            "WHERE oid = %s::regclass",
            (name,),
        ).fetchone() or (-1, 0)
        estimate, size = int(found[0]), int(found[1])
        if estimate < 0:  # never analysed: count it
            estimate = int(scalar(db, f"SELECT count(*) FROM {name}"))  # type: ignore[arg-type]
        rows[name] = estimate
        sizes[name] = size
    total = int(scalar(db, "SELECT pg_database_size(current_database())"))
    server = str(scalar(db, "SHOW server_version")).split()[0]
    return StoreInfo(location, version, SCHEMA_VERSION, total, f"PostgreSQL {server}", rows, sizes)


def check(db: Conn) -> list[str]:
    """One line per problem; empty when the store is sound (an older schema is not a
    problem: `vista db info` says so)."""
    problems: list[str] = []
    present = set(_tables(db))
    if "audit" in present:  # an older schema has none yet
        chain = audit.verify(db)
        if not chain.ok:
            problems.append(f"audit trail: entry {chain.broken_seq}: {chain.problem}")
    for what, table, column, target, key in REFERENCES:
        if not {table, target} <= present:
            continue
        n = int(
            scalar(
                db,
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS "  # type: ignore[arg-type]
                f"(SELECT 1 FROM {target} x WHERE x.{key} = t.{column})",
            )
        )
        if n:
            problems.append(f"{n} {what} point to a missing {target} row ({table}.{column})")
    problems.extend(_sequences(db))
    problems.extend(
        f"index {r[0]} is invalid (a build that failed): REINDEX INDEX {r[0]}"
        for r in db.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT i.indisvalid ORDER BY c.relname"
        )
    )
    return problems


def _sequences(db: Conn) -> list[str]:
    """An id sequence behind the largest id of its table would hand out a taken id."""
    out: list[str] = []
    for table, column in db.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%') "
        "ORDER BY table_name"
    ).fetchall():
        sequence = scalar(db, "SELECT pg_get_serial_sequence(%s, %s)", (table, column))
        if sequence is None:
            continue
        found = db.execute(
            f"SELECT last_value, is_called FROM {sequence}"  # type: ignore[arg-type]
        ).fetchone() or (0, False)
        position = int(found[0]) if found[1] else int(found[0]) - 1
        largest = scalar(db, f"SELECT max({column}) FROM {table}")  # type: ignore[arg-type]
        if largest is not None and int(largest) > position:
            out.append(
                f"sequence {sequence} is at {position}, below the largest {table}.{column} "
                f"({largest}): new rows would collide (`vista migrate` moves it)"
            )
    return out
