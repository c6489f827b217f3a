"""The timeline's staging file: where the people's process writes their events.

Events are nine tenths of the demo's rows. Binding them one by one into SQLite is the
biggest cost outside identity resolution, so the process that makes the people writes
them (in key order, batch by batch) into a file of their own beside the database being
built, with the same table and indexes. At the end the writer moves them across in one
`INSERT … SELECT`, which SQLite runs as a copy of the table's and indexes' records in key
order, never decoding them (its transfer optimisation: identical definitions, an empty
target, no triggers): about a third of the writer's cost of binding them itself.

Events are keyed by person and generator record id here; customers that identity
resolution put elsewhere are re-pointed (`copy_in`) before the copy.
"""

from __future__ import annotations

import sqlite3
from operator import itemgetter
from pathlib import Path
from typing import Any

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


def remove(path: Path) -> None:
    """Delete a staging file and its SQLite side files."""
    for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # scratch: discarded unless the build completes
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    return conn


def create(path: Path, store: sqlite3.Connection) -> None:
    """A staging file with the store's events table; its indexes wait in `_pending_indexes`."""
    remove(path)
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
    """The writing side (in the people's process): events in, batch after batch."""

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
