"""Resolving a batch of source records in PostgreSQL, safely beside other imports.

`backends.identity.resolve` decides; this module reads for it (`PgCandidates`), writes
what it decided (`writer`), and serialises batches that could decide about the same
people: before reading anything, a batch takes a transaction-level advisory lock per
record key (source, source id) and per identifier and blocking key it probes, in sorted
order. Two imports running at once then see each other's records exactly as one after
the other would. The customers a batch read are locked too (rows, in id order) and
checked to still hold the records they held when read: a concurrent merge through some
other key makes the batch `Retry` (the caller rolls back and runs it again).
"""

from __future__ import annotations

from typing import Any

from backends.base import Conflict
from backends.identity.config import MatchConfig
from backends.identity.keys import probe_keys
from backends.identity.model import Model
from backends.identity.resolve import BatchResult, Incoming, decide, latest, triage
from backends.postgres.identity import store as st
from backends.postgres.identity.model_store import load_model
from backends.postgres.identity.writer import write_batch


class Retry(Conflict):
    """A concurrent merge moved records this batch read: run the batch again."""


def lock_names(items: dict[tuple[str, str], Incoming]) -> list[str]:
    """What a batch locks: each record's (source, source id) and every identifier and
    blocking key it is matched on (names included: two batches of one name see each other)."""
    names: list[str] = []
    for (source, sid), item in items.items():
        names.append(f"r\x00{source}\x00{sid}")
        probe = item.probe if item.probe is not None else probe_keys(item.features)
        names += [f"{kind}\x00{value}" for kind, value in probe]
    return names


class PgResolver:
    """Stores and resolves batches of source records, each in the caller's transaction."""

    def __init__(self, db: Any, cfg: MatchConfig, now: int, actor: str = "import") -> None:
        self.db = db
        self.cfg = cfg
        self.now = now
        self.actor = actor
        self.workers: Any = None  # an import's `prepare.Workers`: golden profiles computed there
        self.model: Model = load_model(db)

    def add_batch(self, items: list[Incoming], import_id: int | None = None) -> BatchResult:
        """Store `items` (insert new, update changed) and resolve them.

        Raises:
            Retry: a concurrent merge moved records this batch read (nothing kept: the
                caller rolls its transaction back and calls again).
        """
        db = self.db
        batch = latest(items)
        st.lock_keys(db, lock_names(batch))
        junk = {(r[0], r[1]) for r in db.execute("SELECT kind, value FROM identity_junk")}
        existing = st.existing_records(db, list(batch))
        fresh = iter(st.new_ids(db, "source_records", len(batch.keys() - existing.keys())))
        t = triage(batch, existing, lambda: next(fresh), import_id, self.now)
        if not t.todo:
            return t.result
        if t.updates:
            rids = [r[2] for r in t.updates]
            st.forget_keys(db, rids)
            with db.cursor() as cur:
                cur.executemany(
                    "UPDATE source_records SET fields = %s, updated_at = %s WHERE id = %s",
                    t.updates,
                )
                cur.executemany(
                    "INSERT INTO record_changes(record_id, import_id, at, changed) "
                    "VALUES (%s,%s,%s,%s) ON CONFLICT (record_id, import_id) DO UPDATE SET "
                    "at = excluded.at, changed = excluded.changed",
                    t.changes,
                )
        read = {rid: cid for rid, cid in t.cust_of.items() if cid is not None}
        todo = {rid for rid, _item in t.todo}

        spare: list[int] = []

        def new_customer(_hint: int | None) -> int:
            """A customer id from the sequence. A hint (`Incoming.customer_hint`) never
            reaches this store: only the demo's builder gives one, writing a SQLite file
            (its people keep ids 1..N, which its orders and contacts use); PostgreSQL gets
            the demo through `vista migrate`, which keeps every id, and `vista import`
            gives none."""
            if not spare:
                spare.extend(reversed(st.new_ids(db, "customers", len(t.todo))))
            return spare.pop()

        d = decide(
            st.PgCandidates(db), self.cfg, self.model, junk, t, new_customer, self.now, self.actor
        )
        read.update(
            (rid, cid) for rid, cid in t.cust_of.items() if rid not in todo and cid is not None
        )
        self._check(read)
        if d.junk:
            with db.cursor() as cur:
                cur.executemany(
                    "INSERT INTO identity_junk(kind, value, records) VALUES (%s,%s,%s) "
                    "ON CONFLICT (kind, value) DO UPDATE SET records = excluded.records",
                    d.junk,
                )
        write_batch(db, self.cfg, self.now, self.actor, d.resolved, self.workers)
        return t.result

    def _check(self, read: dict[int, int]) -> None:
        """Lock the customers the batch read, then make sure their records are where they
        were read.

        Raises:
            Retry: some moved (a concurrent merge or split committed meanwhile).
        """
        if not read:
            return
        db = self.db
        db.execute(
            "SELECT id FROM customers WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            (sorted(set(read.values())),),
        )
        now = st.PgCandidates(db).record_customers(read)
        if any(now.get(rid) != cid for rid, cid in read.items()):
            raise Retry("records moved while this batch was resolved; it runs again")
