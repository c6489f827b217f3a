"""Incremental clustering on the SQLite store: each new or changed source record is matched
against its candidates (records sharing an identifier or a blocking key), never against
everything.

A `Resolver` works inside the caller's write transaction, one batch at a time: it
sorts the batch against the stored records, has `backends.identity.resolve` decide
(reading candidates through `SQLiteCandidates`, a few set-based queries), then has
`writer` store the records, the merges (journaled) and the golden profile of every
customer it touched. The same code resolves a record or a million of them: only the
batch size differs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.keys import probe_keys
from backends.identity.model import Model
from backends.identity.resolve import BatchResult, Incoming, Key, decide, latest, triage
from backends.sqlite import record_shapes
from backends.sqlite.identity import store as st
from backends.sqlite.identity.model_store import load_model, load_term_shares
from backends.sqlite.identity.writer import identity_rows, write_batch

__all__ = ["BatchResult", "Incoming", "Resolver", "identity_rows", "probe_keys"]


class SQLiteCandidates:
    """`resolve.Candidates` over a SQLite connection (the caller's transaction)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def key_holders(
        self, keys: Iterable[Key], junk_limit: int, block_limit: int, count_limit: int
    ) -> tuple[dict[Key, list[int]], dict[Key, int]]:
        return st.key_holders(self.db, keys, junk_limit, block_limit, count_limit)

    def load_features(
        self, record_ids: Iterable[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]:
        return st.load_features(self.db, record_ids, texts)

    def load_profiles(self, customer_ids: Iterable[int]) -> dict[int, tuple[list[str], list[str]]]:
        return st.load_profiles(self.db, customer_ids)

    def customer_sizes(self, customer_ids: Iterable[int]) -> dict[int, int]:
        return st.customer_sizes(self.db, customer_ids)

    def customer_records(self, customer_ids: Iterable[int]) -> list[tuple[int, int]]:
        return st.customer_records(self.db, customer_ids)

    def apart_pairs(self) -> list[tuple[int, int]]:
        return st.apart_pairs(self.db)

    def record_customers(self, record_ids: Iterable[int]) -> dict[int, int | None]:
        return st.record_customers(self.db, record_ids)

    def load_term_shares(self, model: Model, names: dict[str, set[str]]) -> None:
        load_term_shares(self.db, model, names)


class Resolver:
    """Stores and resolves batches of source records in the caller's transaction."""

    def __init__(
        self,
        db: sqlite3.Connection,
        cfg: MatchConfig,
        now: int,
        actor: str = "import",
        spare_ids_from: int = 0,
    ) -> None:
        """`spare_ids_from`: new customers without a usable hint get ids above this (the
        demo keeps ids 1..N for its N people that way)."""
        self.db = db
        self.spare_ids_from = spare_ids_from
        self.cfg = cfg
        self.now = now
        self.actor = actor
        self.junk: set[tuple[str, str]] = {
            (r[0], r[1]) for r in db.execute("SELECT kind, value FROM identity_junk")
        }
        self._taken: set[int] = set()  # ids handed out in this batch (not in the table yet)
        self._top = 0
        self.workers: Any = None  # an import's `prepare.Workers`: golden profiles computed there
        self.model: Model = load_model(db)

    def _new_customer_id(self, hint: int | None) -> int:
        """A fresh customer id: `hint` when it is free, else one past every id seen."""
        db = self.db
        if (
            hint
            and hint not in self._taken
            and db.execute("SELECT 1 FROM customers WHERE id = ?", (hint,)).fetchone() is None
        ):
            self._taken.add(hint)
            self._top = max(self._top, hint)
            return hint
        self._top += 1
        self._taken.add(self._top)
        return self._top

    def add_batch(self, items: list[Incoming], import_id: int | None = None) -> BatchResult:
        """Store `items` (insert new, update changed) and resolve them."""
        db = self.db
        self._taken = set()
        self._top = max(
            self.spare_ids_from,
            db.execute("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0],
        )
        batch = latest(items)
        existing = st.existing_records(db, list(batch))
        top = [db.execute("SELECT coalesce(max(id), 0) FROM source_records").fetchone()[0]]

        def next_id() -> int:
            top[0] += 1
            return int(top[0])

        t = triage(batch, existing, next_id, import_id, self.now)
        if not t.todo:
            return t.result
        if t.updates:
            st.forget_keys(db, [r[2] for r in t.updates])
            sids = {rid: sid for (_src, sid), (rid, _f, _c) in existing.items()}
            kept = record_shapes.encode(db, [(u[0], sids[u[2]]) for u in t.updates])
            db.executemany(
                "UPDATE source_records SET fields = ?, shape = ?, updated_at = ? WHERE id = ?",
                [(*k, at, rid) for k, (_f, at, rid) in zip(kept, t.updates, strict=True)],
            )
            db.executemany(
                "INSERT OR REPLACE INTO record_changes(record_id, import_id, at, changed) "
                "VALUES (?,?,?,?)",
                t.changes,
            )
        d = decide(
            SQLiteCandidates(db),
            self.cfg,
            self.model,
            self.junk,
            t,
            self._new_customer_id,
            self.now,
            self.actor,
        )
        if d.junk:
            db.executemany(
                "INSERT OR REPLACE INTO identity_junk(kind, value, records) VALUES (?,?,?)", d.junk
            )
        write_batch(db, self.cfg, self.now, self.actor, d.resolved, self.workers)
        return t.result
