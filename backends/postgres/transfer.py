"""Moving a store: copy one SQLite store whole into a PostgreSQL store, then check it.

Every table is read from the SQLite file (opened read-only) and streamed with COPY, in one
transaction. An empty table (the first copy) takes the rows straight, its secondary
indexes built after the load; otherwise they go into a temporary table and are merged
into the PostgreSQL table by primary key: a second run updates rows that changed in the
source and adds new ones, and keeps rows written only in PostgreSQL. Sequences are moved
past the copied ids, so new rows never collide. The check compares row counts and a
sample of rows by key, and walks the audit trail's chain in PostgreSQL.

The audit trail is one chain: its entries are appended, never rewritten. A second run adds
the entries the SQLite file gained since; it refuses (and copies nothing) when both stores
wrote different entries since the last copy, as their chains can no longer be one. A
person erased in the SQLite file since an earlier copy is erased from what that copy
brought over too (`gdpr.scrub`). Legal holds are copied; one lifted in SQLite after a
copy stays on in PostgreSQL until lifted there (the safe side).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from backends import link_reasons, provenance, record_fields
from backends.base import Conflict, InvalidInput, Unavailable
from backends.postgres import audit, gdpr
from backends.postgres.store import PgStore, scalar

#: Tables in copy order, each with the SELECT that reads it from SQLite when its
#: columns differ from PostgreSQL's (else every PostgreSQL column of the same name).
TABLES: tuple[str, ...] = (
    "agents",
    "customers",
    "source_records",
    "identities",
    "events",
    "orders",
    "contacts",
    "messages",
    "templates",
    "changes",
    "customer_search",
    "record_features",
    "match_keys",
    "identity_junk",
    "identity_links",
    "identity_suggestions",
    "identity_journal",
    "imports",
    "record_changes",
    "identity_profiles",
    "identity_settings",
    "identity_models",
    "identity_term_counts",
    "api_tokens",
    "inbound_receipts",
    "outbox",
    "settings",
    "intent_models",
    "calls",
    "kb_articles",
    "kb_terms",
    "kb_uses",
    "erasures",
    "erased_records",
    "legal_holds",
    "audit",
    "audit_values",
)

#: Append-only tables: rows already there are never rewritten (their triggers refuse it).
_APPEND_ONLY = frozenset({"audit", "audit_values"})
#: Tables always merged through a staging table, even when empty in PostgreSQL: a
#: re-run reads what is new in them (people erased since the last copy).
_STAGED = frozenset({"erasures"})

#: Reads whose columns SQLite keeps elsewhere: a message's customer is its contact's, and
#: the search rows are an FTS5 table whose key is its rowid.
_SOURCE_SQL = {
    "messages": (
        "SELECT c.customer_id AS customer_id, m.* FROM messages m "
        "JOIN contacts c ON c.id = m.contact_id"
    ),
    "customer_search": (
        "SELECT rowid AS customer_id, name, emails, phones, orders FROM customer_search"
    ),
    # raw forms left empty where they are the value or the source_id, and each record's
    # own external id, which SQLite reads from source_records
    "identities": (
        "SELECT i.record_id, i.kind, i.value, CASE WHEN i.raw <> '' THEN i.raw "
        "WHEN i.kind = 'external_id' THEN coalesce(r.source_id, '') ELSE i.value END AS raw "
        "FROM identities i LEFT JOIN source_records r ON r.id = i.record_id UNION "
        "SELECT id, 'external_id', source || ':' || source_id, source_id FROM source_records r "
        "WHERE EXISTS (SELECT 1 FROM record_features f WHERE f.record_id = r.id)"
    ),
    # an imported record's values and the keys of its shape (schema 17)
    "source_records": (
        "SELECT r.*, s.keys AS shape_keys FROM source_records r "
        "LEFT JOIN record_shapes s ON s.id = r.shape"
    ),
}

#: Columns SQLite keeps in a compact form, read back in PostgreSQL's (the full) form: a
#: blocking key kept as a 64-bit code, provenance packed (`backends.provenance`), a link's
#: reason as phrase numbers (`backends.link_reasons`).
_COLUMN_SQL = {
    ("match_keys", "key"): "CAST(key AS TEXT)",
    ("customers", "provenance"): "vista_provenance(provenance)",
    ("identity_links", "reason"): "vista_link_reason(reason)",
    ("identity_suggestions", "reason"): "vista_link_reason(reason)",
    ("source_records", "fields"): "vista_record_fields(fields, shape_keys, source_id)",
}

SAMPLE_ROWS = 25


@dataclass
class TableCopy:
    """One table's outcome: rows in the source, rows in the target after the copy."""

    table: str
    source: int
    target: int
    sampled: int = 0
    mismatched: list[str] = field(default_factory=list)


@dataclass
class CopyReport:
    tables: list[TableCopy]

    @property
    def problems(self) -> list[str]:
        out: list[str] = []
        for t in self.tables:
            if t.target < t.source:
                out.append(f"{t.table}: {t.source} rows in the source, {t.target} copied")
            out.extend(f"{t.table}: {m}" for m in t.mismatched)
        return out


def _sqlite(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise Unavailable(f"no such database file: {path}")
    # a copy reads the rows on a thread of its own (one at a time)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.create_function("vista_provenance", 1, provenance.expand, deterministic=True)
    db.create_function("vista_link_reason", 1, link_reasons.unpack, deterministic=True)
    db.create_function("vista_record_fields", 3, record_fields.unpack, deterministic=True)
    return db


def _sqlite_tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _target_columns(conn: Any, table: str) -> tuple[list[str], list[str]]:
    """The table's writable columns (not generated) and its primary key columns."""
    cols = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND is_generated = 'NEVER' "
            "ORDER BY ordinal_position",
            (table,),
        )
    ]
    key = [
        r[0]
        for r in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (table,),
        )
    ]
    return cols, key


def _source_query(db: sqlite3.Connection, table: str, cols: list[str]) -> tuple[str, list[str]]:
    """The SELECT reading `table` from SQLite and the columns it yields, in target order."""
    base = _SOURCE_SQL.get(table, f"SELECT * FROM {table}")
    plain = table == "source_records" and "record_shapes" not in _sqlite_tables(db)
    if plain:  # a store of schema 15 or older: records as received
        base = f"SELECT * FROM {table}"
    have = {d[0] for d in db.execute(f"SELECT * FROM ({base}) LIMIT 0").description}
    used = [c for c in cols if c in have]
    exprs = [f"{c if plain else _COLUMN_SQL.get((table, c), c)} AS {c}" for c in used]
    return f"SELECT {', '.join(exprs)} FROM ({base})", used


def copy_store(
    source: Path,
    target: PgStore,
    *,
    progress: Callable[[str, int], None] | None = None,
    sample: int = SAMPLE_ROWS,
) -> CopyReport:
    """Copy the SQLite store at `source` into `target` (migrated), then check the copy.

    Raises:
        Unavailable: a database cannot be read or written.
        InvalidInput: the source is not a Vista store.
    """
    src = _sqlite(source)
    try:
        present = _sqlite_tables(src)
        if not {"customers", "contacts", "events"} <= present:
            raise InvalidInput(f"{source} is not a Vista store (no customers table)")
        counts: dict[str, int] = {}
        erased: list[int] = []
        with target.write() as conn:
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # index builds after a load
            for table in TABLES:
                if table not in present:
                    continue
                cols, key = _target_columns(conn, table)
                select, used = _source_query(src, table, cols)
                if table not in _STAGED and scalar(
                    conn, f"SELECT NOT EXISTS (SELECT 1 FROM {table})"
                ):
                    counts[table] = _load_empty(conn, table, src.execute(select), used)
                    if progress is not None:
                        progress(table, counts[table])
                    continue
                stage = f"vista_copy_{table}"
                conn.execute(
                    f"CREATE TEMP TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                for generated in set(_all_columns(conn, table)) - set(cols):
                    conn.execute(f"ALTER TABLE {stage} DROP COLUMN {generated}")
                n = 0
                with conn.cursor().copy(f"COPY {stage} ({', '.join(used)}) FROM STDIN") as cp:
                    for row in src.execute(select):
                        cp.write_row(tuple(row))
                        n += 1
                counts[table] = n
                if table == "audit":
                    _check_one_chain(conn, stage, source, target)
                elif table == "erasures":
                    erased += _new_erasures(conn, stage)
                updates = [c for c in used if c not in key]
                action = (
                    "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
                    if updates and table not in _APPEND_ONLY
                    else "DO NOTHING"
                )
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(used)}) SELECT {', '.join(used)} "
                    f"FROM {stage} ON CONFLICT ({', '.join(key)}) {action}"
                )
                if progress is not None:
                    progress(table, n)
            for customer_id in erased:  # what an earlier copy brought of them goes too
                gdpr.scrub(conn, customer_id)
            _move_sequences(conn)
        _vacuum(target, progress)
        return _check(src, target, counts, sample)
    finally:
        src.close()


def _vacuum(target: PgStore, progress: Callable[[str, int], None] | None) -> None:
    """VACUUM (ANALYZE) the database after a copy (outside its transaction): the planner's
    row estimates and the visibility map are right from the first query, and autovacuum's
    first pass over the freshly loaded tables does not land on the first users instead."""
    if progress is not None:
        progress("VACUUM (ANALYZE)", -1)  # a step, not a table: no row count
    try:
        with target.maintenance() as conn:
            conn.execute("VACUUM (ANALYZE)")
    except psycopg.Error as e:
        raise Unavailable(f"the copy is committed, but VACUUM (ANALYZE) failed: {e}") from e


def _check_one_chain(conn: Any, stage: str, source: Path, target: PgStore) -> None:
    """Refuse a copy whose audit entries differ from the ones PostgreSQL holds at the same
    place in the chain (both stores were written since the last copy)."""
    fork = scalar(
        conn,
        f"SELECT min(s.seq) FROM {stage} s JOIN audit a ON a.seq = s.seq WHERE a.hash <> s.hash",
    )
    if fork is not None:
        raise Conflict(
            f"the audit trails of {source} and {target.location} differ from entry {fork} "
            "on: both stores were written since the last copy, and one chain cannot hold "
            "both; nothing was copied",
            "Audit trail",
        )


def _new_erasures(conn: Any, stage: str) -> list[int]:
    """The customers erased in the source that the target does not know as erased yet."""
    return [
        int(r[0])
        for r in conn.execute(
            f"SELECT customer_id FROM {stage} s WHERE NOT EXISTS "
            "(SELECT 1 FROM erasures e WHERE e.customer_id = s.customer_id)"
        )
    ]


def _load_empty(conn: Any, table: str, rows: Iterable[Sequence[Any]], used: list[str]) -> int:
    """COPY `rows` straight into the empty `table`, its secondary indexes (and its primary
    key, where no foreign key leans on it) dropped first and built again after, one sort
    each instead of millions of inserts: the first copy of a large store. The SQLite rows
    are read on another thread while this one writes. Returns the rows copied."""
    rebuild = [
        (f'DROP INDEX "{r[0]}"', r[1])
        for r in conn.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
            "AND NOT x.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            (table,),
        )
    ]
    rebuild += [
        (
            f'ALTER TABLE {table} DROP CONSTRAINT "{r[0]}"',
            f'ALTER TABLE {table} ADD CONSTRAINT "{r[0]}" {r[1]}',
        )
        for r in conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
            "%s::regclass AND contype = 'p' AND NOT EXISTS (SELECT 1 FROM pg_constraint f "
            "WHERE f.contype = 'f' AND f.confrelid = %s::regclass)",
            (table, table),
        )
    ]
    for drop, _ in rebuild:
        conn.execute(drop)
    types = [
        r[0]
        for r in conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM unnest(%s::text[]) WITH ORDINALITY "
            "AS u(name, n) JOIN pg_attribute ON attrelid = %s::regclass AND attname = u.name "
            "ORDER BY u.n",
            (used, table),
        )
    ]
    n = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(used)}) FROM STDIN") as cp:
        cp.set_types(types)
        for batch in _prefetched(rows):
            for row in batch:
                cp.write_row(row)
            n += len(batch)
    for _, create in rebuild:
        conn.execute(create)
    if n:
        conn.execute(f"ANALYZE {table}")
    return n


def _prefetched(rows: Iterable[Sequence[Any]], size: int = 5000) -> Iterator[list[Any]]:
    """`rows` in batches, read ahead on a thread (SQLite lets go of the GIL while it reads)."""
    batches: queue.Queue[list[Any] | BaseException | None] = queue.Queue(maxsize=4)

    def read() -> None:
        try:
            batch: list[Any] = []
            for row in rows:
                batch.append(row)
                if len(batch) == size:
                    batches.put(batch)
                    batch = []
            batches.put(batch)
            batches.put(None)
        except BaseException as e:  # noqa: BLE001 - handed to the writer, which raises it
            batches.put(e)

    reader = threading.Thread(target=read, name="vista-migrate-read", daemon=True)
    reader.start()
    while (item := batches.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
    reader.join()


def _all_columns(conn: Any, table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s",
            (table,),
        )
    ]


def _move_sequences(conn: Any) -> None:
    """Every id sequence past the largest id its table holds (and routing's order of
    offers past the largest copied)."""
    conn.execute(
        "SELECT setval('agents_routed_seq', greatest((SELECT max(routed_seq) FROM agents), 1))"
    )
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%')"
    ).fetchall():
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), "
            f"greatest((SELECT max({column}) FROM {table}), 1))",
            (table, column),
        )


def _check(
    src: sqlite3.Connection, target: PgStore, counts: dict[str, int], sample: int
) -> CopyReport:
    """Row counts of every copied table, and `sample` rows of each compared by key."""
    report: list[TableCopy] = []
    with target.read() as conn:
        for table, n in counts.items():
            got = int(scalar(conn, f"SELECT count(*) FROM {table}"))
            entry = TableCopy(table, n, got)
            cols, key = _target_columns(conn, table)
            select, used = _source_query(src, table, cols)
            for row in src.execute(f"{select} ORDER BY random() LIMIT ?", (sample,)):
                values = dict(zip(used, tuple(row), strict=True))
                found = conn.execute(
                    f"SELECT {', '.join(used)} FROM {table} WHERE "
                    + " AND ".join(f"{k} = %s" for k in key),
                    tuple(values[k] for k in key),
                ).fetchone()
                entry.sampled += 1
                if found is None:
                    entry.mismatched.append(f"row {[values[k] for k in key]} is missing")
                elif tuple(found) != tuple(values[c] for c in used):
                    entry.mismatched.append(f"row {[values[k] for k in key]} differs")
            report.append(entry)
        chain = audit.verify(conn) if "audit" in counts else None
    if chain is not None and not chain.ok:  # said on the trail's own row of the report
        trail = next(t for t in report if t.table == "audit")
        trail.mismatched.append(f"the chain breaks at entry {chain.broken_seq}: {chain.problem}")
    return CopyReport(report)
