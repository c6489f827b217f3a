"""The identity part of the Backend contract for SQLite, delegating to `backends.identity`.

A mixin of `SQLiteBackend`: it uses the backend's `store`, `clock`, `_writer()`
and `_limit` conventions. Merge and split are writes: refused when read-only,
one transaction each, appended to the change feed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backends.identity import review
from backends.identity.review import journal_entry as _entry
from backends.models import (
    CustomerExplanation,
    FieldProvenance,
    IdentityJournalEntry,
    IdentityModel,
    IdentitySuggestion,
    RecordLink,
)
from backends.sqlite import audit

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from backends.identity.config import MatchConfig
    from backends.models import Agent
    from backends.sqlite.store import Store


def _refresh_values(db: Any, customer_ids: tuple[int, ...], now: int) -> None:
    """Lifetime value and churn risk of customers whose orders and contacts a merge or a
    split moved."""
    from backends.sqlite import values as computed

    computed.refresh(db, customer_ids, computed.config_of(db), now)


def _record(db: Any, who: audit.Actor, now: int, notes: list[review.AuditNote]) -> None:
    for action, object_type, object_id, extra in notes:
        audit.record(db, who, now, action, object_type, object_id, **extra)


def _ops():
    """Identity operations, imported on first use: they load phonenumbers and rapidfuzz,
    which the console's start-up does not need."""
    from backends.sqlite.identity import operations

    return operations


class IdentityOps:
    """Suggestions, merge, split, explain, provenance and link export over the SQLite store."""

    store: Store
    clock: Callable[[], datetime]
    identity_config: MatchConfig | None = None  # None: the defaults (config imported on use)

    def _writer(self) -> Agent:  # provided by SQLiteBackend
        raise NotImplementedError

    def actor(self, me: Agent | None = None) -> audit.Actor:  # provided by SQLiteBackend
        raise NotImplementedError

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def identity_suggestions(
        self, limit: int = 50, after: str = ""
    ) -> tuple[IdentitySuggestion, ...]:
        review.check_limit(limit, 500)
        start = review.cursor(after)
        with self.store.read() as db:
            found = _ops().suggestions(db, limit, start)
        return tuple(review.suggestion(r) for r in found)

    def identity_model(self) -> IdentityModel:
        from backends.sqlite.identity.model_store import load_model

        with self.store.read() as db:
            cfg = self._config(db)
            return review.model_info(load_model(db), cfg)

    def train_identity_model(self) -> IdentityModel:
        from backends.sqlite.identity.model_store import train_model

        me = self._writer()
        with self.store.write() as db:
            cfg, now = self._config(db), self._now()
            trained = train_model(db, cfg, now)
            model = review.model_info(trained, cfg)
            _record(db, self.actor(me), now, review.train_notes(model))
            return model

    def _config(self, db: Any) -> MatchConfig:
        """The identity settings: this backend's, with those kept in the database applied."""
        from backends.identity.config import MatchConfig
        from backends.sqlite.identity.settings import database_config

        return database_config(db, self.identity_config or MatchConfig())

    def merge_customers(self, keep: int, other: int, *, reason: str = "") -> IdentityJournalEntry:
        me = self._writer()
        with self.store.write() as db:
            before, gone = audit.profile(db, keep), audit.profile(db, other)
            entry = _ops().merge(db, self._config(db), self._now(), me.name, keep, other, reason)
            after = audit.profile(db, keep)
            notes = review.merge_notes(keep, other, before, gone, after, entry)
            _record(db, self.actor(me), self._now(), notes)
            _refresh_values(db, (keep,), self._now())
        return _entry(entry)

    def split_customer(self, customer_id: int, records: tuple[str, ...]) -> IdentityJournalEntry:
        me = self._writer()
        with self.store.write() as db:
            before = audit.profile(db, customer_id)
            entry = _ops().split(
                db, self._config(db), self._now(), me.name, customer_id, list(records)
            )
            after, new = audit.profile(db, customer_id), audit.profile(db, entry["other_id"])
            notes = review.split_notes(customer_id, before, after, new, entry)
            _record(db, self.actor(me), self._now(), notes)
            moved = (customer_id, entry["other_id"]) if entry["other_id"] else (customer_id,)
            _refresh_values(db, moved, self._now())
        return _entry(entry)

    def reject_suggestion(self, suggestion_id: int) -> None:
        me = self._writer()
        with self.store.write() as db:
            _ops().reject(db, self._now(), me.name, suggestion_id)
            _record(db, self.actor(me), self._now(), review.reject_notes(suggestion_id))

    def explain_customer(self, customer_id: int) -> CustomerExplanation:
        with self.store.read() as db:
            d = _ops().explain(db, customer_id)
        return review.explanation(customer_id, d)

    def provenance(self, customer_id: int) -> tuple[FieldProvenance, ...]:
        with self.store.read() as db:
            row = _ops().require(db, customer_id)
        return review.provenance(row)

    def record_links(self, after: int = 0, limit: int = 1000) -> tuple[RecordLink, ...]:
        review.check_limit(limit, 10_000)
        with self.store.read() as db:
            rows = _ops().links_page(db, after, limit)
        return tuple(RecordLink(*r) for r in rows)
