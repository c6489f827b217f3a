"""Loading a new store in bulk: what the demo generator writes, and how it writes it fast.

The generator (`console.demo`) makes people and their rows in Python; every statement that
puts them into a store being built is here. Three parts:

- the build itself (`start_build`, `seed_staff`, `write_extras`, `finish_build`): a private
  file with no journal and no syncs, discarded unless complete, so a run that stops
  leaves nothing half-written;
- deferred upkeep (`DeferredUpkeep`): indexes and triggers that nothing reads during the
  load are dropped, then rebuilt set-wise at the end to exactly what row-by-row upkeep
  would have left;
- the timeline's staging file (`Stage`, `create_stage`, `note_moved`, `copy_in`): events,
  written by the people's process into a file of their own, copied across at the end.

Deferred upkeep (chosen by measuring; the rest costs less live than rebuilt):

- the secondary indexes of contacts, messages and survey scores, except the one identity
  resolution reads when customers merge (and the contacts' foreign-key check needs then),
  which is rebuilt with the others at the end: each table gets its indexes back in their
  original order, the order the query planner meets them in;
- every trigger of migration 0004: the hourly KPI rollup (seven upserts per contact) and
  the survey scores (a trigger program run for every event; and the events table must be
  trigger-free for `copy_in`). Their tables are then filled by that migration's own
  backfill statements, so the result is the same as if every row had fired them.

Indexes and triggers are recreated from the SQL text they had, so the final schema is
identical to a migrated store's (`sqlite_master` holds the same text).

The staging file: events are nine tenths of the demo's rows. Binding them one by one into
SQLite is the biggest cost outside identity resolution, so the process that makes the
people writes them (in key order, batch by batch) into a file of their own beside the
database being built, with the same table and indexes. At the end the writer moves them
across in one `INSERT … SELECT`, which SQLite runs as a copy of the table's and indexes'
records in key order, never decoding them (its transfer optimisation: identical
definitions, an empty target, no triggers): about a third of the writer's cost of
binding them itself. Events are keyed by person and generator record id there; customers
that identity resolution put elsewhere are re-pointed (`copy_in`) before the copy.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from backends.sqlite import values as computed
from backends.sqlite.store import Store, migration_sql, statements

# -- the build ----------------------------------------------------------------------------

#: Schema name under which `finish_build` attaches the staging file.
STAGE_SCHEMA = "demo_stage"


def start_build(db: sqlite3.Connection, cache_kib: int) -> None:
    """Make `db` (a private file discarded unless complete) fast to load: no journal, no
    syncs, a page cache of `cache_kib` KiB, index builds sorting on two cores."""
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    db.execute("PRAGMA threads = 2")


def seed_staff(
    db: sqlite3.Connection,
    agents: Iterable[tuple[str, str, str]],
    templates: Iterable[tuple[Any, ...]],
    now: int,
) -> None:
    """Insert agents (name, display name, role) and templates (name, channel, language,
    WhatsApp-approved, body)."""
    db.executemany(
        "INSERT INTO agents(name, display_name, role, created_at) VALUES (?,?,?,?)",
        [(*a, now) for a in agents],
    )
    db.executemany(
        "INSERT INTO templates(name, channel, language, whatsapp_approved, body) "
        "VALUES (?,?,?,?,?)",
        templates,
    )


def last_record_id(db: sqlite3.Connection) -> int:
    """The highest source record id stored (0 for none)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM source_records").fetchone()[0])


def records_after(db: sqlite3.Connection, record_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    """(source, source id) -> (record id, customer id) of the records stored after `record_id`."""
    return {
        (r[0], r[1]): (r[2], r[3])
        for r in db.execute(
            "SELECT source, source_id, id, customer_id FROM source_records WHERE id > ?",
            (record_id,),
        )
    }


def write_extras(
    db: sqlite3.Connection,
    profiles: list[tuple[Any, ...]],
    orders: list[tuple[Any, ...]],
    contacts: list[tuple[Any, ...]],
    messages: list[tuple[Any, ...]],
) -> None:
    """Write what customers have beside their source records.

    `profiles`: (segment, tier, tags, attributes, unhappy, created at, updated at,
    customer id), set on existing customers
    (a tier the records set is kept, the earliest creation time too); `orders`: (number,
    customer id, at, status, total, event id); `contacts`: (id, customer id, channel,
    subject, intent, priority, status, created at, updated at, first response at, resolved
    at, SLA due at, assignee, assigned at, last inbound at, CSAT); `messages`: (id, contact
    id, direction, channel, author, body, at). The order numbers join their customer's
    search row.
    """
    db.executemany(
        "UPDATE customers SET segment = ?, tier = coalesce(nullif(tier, ''), ?), "
        "tags = ?, attributes = ?, unhappy = ?, created_at = min(created_at, ?), "
        "updated_at = ? WHERE id = ?",
        profiles,
    )
    db.executemany(
        "INSERT INTO orders(number, customer_id, at, status, total, event_id) VALUES (?,?,?,?,?,?)",
        orders,
    )
    db.executemany(
        "INSERT INTO contacts(id, customer_id, channel, subject, intent, priority, "
        "status, created_at, updated_at, first_response_at, resolved_at, sla_due_at, "
        "assignee, assigned_at, last_inbound_at, csat) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        contacts,
    )
    db.executemany(
        "INSERT INTO messages(id, contact_id, direction, channel, author, body, at) "
        "VALUES (?,?,?,?,?,?,?)",
        messages,
    )
    numbers: dict[int, list[str]] = {}
    for number, customer, *_r in orders:
        numbers.setdefault(customer, []).append(number)
    db.executemany(
        "UPDATE customer_search SET orders = trim(orders || ' ' || ?) WHERE rowid = ?",
        [(" ".join(n), customer) for customer, n in numbers.items()],
    )


def finish_build(store: Store, stage: Path, upkeep: DeferredUpkeep, now: int) -> None:
    """Copy the staged events in, rebuild the deferred upkeep, compute every customer's
    lifetime value and churn risk as of `now` (backends/sqlite/values.py), optimise the
    search index, gather the planner's statistics and put the store back in WAL mode."""
    db = store.conn
    db.execute(f"ATTACH DATABASE ? AS {STAGE_SCHEMA}", (str(stage),))
    db.execute(f"PRAGMA {STAGE_SCHEMA}.journal_mode = OFF")  # scratch, like the store
    db.execute(f"PRAGMA {STAGE_SCHEMA}.synchronous = OFF")
    with store.write() as w:
        copy_in(w, STAGE_SCHEMA)
        computed.refresh_all(w, now)  # before the deferred indexes: their build reuses pages
        upkeep.restore()
        w.execute("INSERT INTO customer_search(customer_search) VALUES ('optimize')")
        w.execute("ANALYZE main")
    db.execute(f"DETACH DATABASE {STAGE_SCHEMA}")
    db.execute("PRAGMA journal_mode = WAL")


# -- deferred upkeep ----------------------------------------------------------------------

#: The migration whose triggers keep the derived tables, and whose INSERT/DELETE
#: statements fill those tables from scratch.
DERIVED_MIGRATION = "0004_stats.sql"
#: Derived tables rebuilt at the end, and the triggers deferred.
DERIVED_TABLES = ("kpi_hourly", "kpi_agent_hourly", "survey_scores")
DEFERRED_TRIGGERS = frozenset(
    {
        "kpi_hourly_insert",
        "kpi_hourly_update",
        "kpi_hourly_delete",
        "survey_scores_insert",
        "survey_scores_update",
        "survey_scores_delete",
        "survey_scores_contact_insert",
        "survey_scores_contact_channel",
    }
)

#: Tables loaded in bulk: their secondary indexes wait for the end of the load...
BULK_TABLES = ("contacts", "messages", "survey_scores")
#: ...except this one: identity resolution reads contacts by customer when customers merge,
#: and deleting a merged customer checks the contacts' foreign key through it.
KEEP_INDEXES = frozenset({"contacts_customer"})

_TARGET = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)


def backfill_statements() -> list[str]:
    """The statements of DERIVED_MIGRATION that fill DERIVED_TABLES from events and contacts."""
    out = []
    for statement in statements(migration_sql(DERIVED_MIGRATION)):
        match = _TARGET.match(statement)
        if match and match.group(1) in DERIVED_TABLES:
            out.append(statement)
    return out


@dataclass
class DeferredUpkeep:
    """Drops deferred indexes and triggers of a store being loaded; `restore` rebuilds them."""

    db: sqlite3.Connection
    saved: list[tuple[str, str, str]] = field(default_factory=list)  # (type, name, sql)
    backfill: list[str] = field(default_factory=list)

    def suspend(self) -> None:
        """Drop what the load does not need (call inside the load's transaction)."""
        self.backfill = backfill_statements()
        marks = ",".join("?" * len(BULK_TABLES))
        rows = self.db.execute(
            f"SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
            f"(type = 'index' AND tbl_name IN ({marks})) OR type = 'trigger') ORDER BY rowid",
            BULK_TABLES,
        ).fetchall()
        self.saved = [(t, n, s) for t, n, s in rows if t == "index" or n in DEFERRED_TRIGGERS]
        for kind, name, _sql in self.saved:
            if name not in KEEP_INDEXES:
                self.db.execute(f'DROP {kind.upper()} "{name}"')

    def restore(self) -> None:
        """Rebuild the derived tables set-wise, then recreate the indexes (in their original
        order, the kept ones too) and the triggers."""
        for statement in self.backfill:
            self.db.execute(statement)
        for name in KEEP_INDEXES:
            self.db.execute(f'DROP INDEX IF EXISTS "{name}"')
        for kind in ("index", "trigger"):
            for k, _name, sql in self.saved:
                if k == kind:
                    self.db.execute(sql)
        self.saved = []


# -- the timeline's staging file ----------------------------------------------------------

EVENT_COLUMNS = (
    "customer_id, at, id, kind, channel, source, summary, payload, contact_id, record_id"
)
_INSERT = f"INSERT INTO events({EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
_KEY = itemgetter(0, 1, 2)  # the events table's key: customer, time, id
#: Indexes kept while loading: partial and empty, so free to keep and costly to rebuild.
LIVE_INDEXES = frozenset({"events_external"})


def stage_path(building: Path) -> Path:
    """The staging file of the database being built at `building`."""
    return building.with_name(building.name + "-events")


def remove_stage(path: Path) -> None:
    """Delete a staging file and its SQLite side files."""
    for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # scratch: discarded unless the build completes
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    return conn


def create_stage(path: Path, store: sqlite3.Connection) -> None:
    """A staging file with the store's events table; its indexes wait in `_pending_indexes`."""
    remove_stage(path)
    rows = store.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'events' "
        "AND sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    conn = _connect(path)
    try:
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE _pending_indexes(sql TEXT NOT NULL)")
        for kind, name, sql in rows:
            if kind == "table" or name in LIVE_INDEXES:
                conn.execute(sql)
            elif kind == "index":
                conn.execute("INSERT INTO _pending_indexes(sql) VALUES (?)", (sql,))
        conn.execute("COMMIT")
    finally:
        conn.close()


class Stage:
    """The writing side of a staging file (in the people's process): events in, batch after
    batch."""

    def __init__(self, path: Path) -> None:
        self.conn = _connect(path)
        self.conn.execute("BEGIN")

    def add(self, events: list[tuple[Any, ...]]) -> None:
        """Store one batch's events."""
        events.sort(key=_KEY)  # appends to the clustered table instead of inserting
        self.conn.executemany(_INSERT, events)

    def finish(self) -> None:
        """Build the pending indexes and close the file."""
        for (sql,) in self.conn.execute("SELECT sql FROM _pending_indexes").fetchall():
            self.conn.execute(sql)
        self.conn.execute("DELETE FROM _pending_indexes")
        self.conn.execute("COMMIT")
        self.conn.close()

    def abandon(self) -> None:
        self.conn.close()


def begin_repoints(db: sqlite3.Connection) -> None:
    """Temporary tables (in the store's connection) of people whose records resolved to
    another customer or record id than their own."""
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS demo_moved_people("
        "person INTEGER PRIMARY KEY, customer INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS demo_moved_records("
        "record INTEGER PRIMARY KEY, new_record INTEGER NOT NULL, "
        "customer INTEGER NOT NULL)"
    )


def note_moved(
    db: sqlite3.Connection, people: list[tuple[int, int]], records: list[tuple[int, int, int]]
) -> None:
    """Remember (person, customer of their first record) and (record, new id, customer)."""
    db.executemany("INSERT INTO temp.demo_moved_people(person, customer) VALUES (?,?)", people)
    db.executemany(
        "INSERT INTO temp.demo_moved_records(record, new_record, customer) VALUES (?,?,?)", records
    )


def copy_in(db: sqlite3.Connection, schema: str) -> None:
    """Re-point moved people's events in the attached staging `schema`, then copy the events
    into the store's events table (empty and trigger-free, for the transfer optimisation)."""
    # an event goes to the customer of the record it came through, else to the customer of
    # its person's first record (SET reads the row's old values)
    db.execute(
        f"UPDATE {schema}.events SET "
        "customer_id = CASE WHEN record_id IS NULL THEN (SELECT customer FROM "
        "temp.demo_moved_people WHERE person = customer_id) ELSE (SELECT customer FROM "
        "temp.demo_moved_records WHERE record = record_id) END, "
        "record_id = (SELECT new_record FROM temp.demo_moved_records WHERE record = record_id) "
        "WHERE customer_id IN (SELECT person FROM temp.demo_moved_people)"
    )
    db.execute(f"INSERT INTO main.events SELECT * FROM {schema}.events")
