"""The identity and import part of the Backend contract on PostgreSQL: a mixin of
`PostgresBackend` (it uses the backend's `store`, `clock` and `_writer()`).

Merge, split, reject and training are writes: refused when read-only, one transaction
each, appended to the change feed. An import runs in batches of its own transactions
(backends/postgres/identity/importer.py), serialised per key against other imports.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.audit_chain import Actor
from backends.identity import review
from backends.identity.review import journal_entry
from backends.models import (
    Agent,
    CustomerExplanation,
    FieldProvenance,
    IdentityJournalEntry,
    IdentityModel,
    IdentitySuggestion,
    ImportResult,
    Origin,
    RecordLink,
)
from backends.postgres.rows import check_id

if TYPE_CHECKING:
    from backends.identity.config import MatchConfig
    from backends.postgres.store import PgStore


def _record(db: Any, who: Actor, now: int, notes: list[review.AuditNote]) -> None:
    """The audit entries of an identity write, last in its transaction."""
    from backends.postgres import audit

    for action, object_type, object_id, extra in notes:
        audit.record(db, who, now, action, object_type, object_id, **extra)


def _ops() -> Any:
    """Identity operations, imported on first use (they load phonenumbers and rapidfuzz)."""
    from backends.postgres.identity import operations

    return operations


class PgIdentityOps:
    """Suggestions, merge, split, explain, provenance, links, the match model and imports."""

    store: PgStore
    clock: Callable[[], datetime]
    identity_config: MatchConfig | None = None  # None: the defaults
    import_workers: int | None = None  # processes preparing an import's rows (None: by size)

    def _writer(self) -> Agent:  # provided by PostgresBackend
        raise NotImplementedError

    def actor(self, me: Agent | None = None) -> Actor:  # provided by PgGovernance
        raise NotImplementedError

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def _config(self, db: Any) -> MatchConfig:
        """The identity settings: this backend's, with those kept in the database applied."""
        from backends.identity.config import MatchConfig
        from backends.postgres.identity.settings import database_config

        return database_config(db, self.identity_config or MatchConfig())

    def identity_suggestions(
        self, limit: int = 50, after: str = ""
    ) -> tuple[IdentitySuggestion, ...]:
        review.check_limit(limit, 500)
        start = review.cursor(after)
        with self.store.read() as db:
            found = _ops().suggestions(db, limit, start)
        return tuple(review.suggestion(r) for r in found)

    def identity_model(self) -> IdentityModel:
        from backends.postgres.identity.model_store import load_model

        with self.store.read() as db:
            return review.model_info(load_model(db), self._config(db))

    def train_identity_model(self) -> IdentityModel:
        from backends.postgres.identity.model_store import train_model

        me = self._writer()
        with self.store.write() as db:
            cfg, now = self._config(db), self._now()
            model = review.model_info(train_model(db, cfg, now), cfg)
            _record(db, self.actor(me), now, review.train_notes(model))
            return model

    def merge_customers(self, keep: int, other: int, *, reason: str = "") -> IdentityJournalEntry:
        from backends.postgres import audit, values

        me = self._writer()
        check_id(keep, "customer id")
        check_id(other, "customer id")
        with self.store.write() as db:
            before, gone = audit.profile(db, keep), audit.profile(db, other)
            entry = _ops().merge(db, self._config(db), self._now(), me.name, keep, other, reason)
            values.refresh(db, (keep,), self._now())
            after = audit.profile(db, keep)
            notes = review.merge_notes(keep, other, before, gone, after, entry)
            _record(db, self.actor(me), self._now(), notes)
        return journal_entry(entry)

    def split_customer(self, customer_id: int, records: tuple[str, ...]) -> IdentityJournalEntry:
        from backends.postgres import audit, values

        me = self._writer()
        check_id(customer_id, "customer id")
        with self.store.write() as db:
            before = audit.profile(db, customer_id)
            entry = _ops().split(
                db, self._config(db), self._now(), me.name, customer_id, list(records)
            )
            values.refresh(db, (customer_id, entry["other_id"]), self._now())
            after, new = audit.profile(db, customer_id), audit.profile(db, entry["other_id"])
            notes = review.split_notes(customer_id, before, after, new, entry)
            _record(db, self.actor(me), self._now(), notes)
        return journal_entry(entry)

    def reject_suggestion(self, suggestion_id: int) -> None:
        me = self._writer()
        check_id(suggestion_id, "suggestion id")
        with self.store.write() as db:
            _ops().reject(db, self._now(), me.name, suggestion_id)
            _record(db, self.actor(me), self._now(), review.reject_notes(suggestion_id))

    def explain_customer(self, customer_id: int) -> CustomerExplanation:
        check_id(customer_id, "customer id")
        with self.store.read() as db:
            return review.explanation(customer_id, _ops().explain(db, customer_id))

    def provenance(self, customer_id: int) -> tuple[FieldProvenance, ...]:
        check_id(customer_id, "customer id")
        with self.store.read() as db:
            return review.provenance(_ops().require(db, customer_id))

    def record_links(self, after: int = 0, limit: int = 1000) -> tuple[RecordLink, ...]:
        review.check_limit(limit, 10_000)
        check_id(after, "record id")
        with self.store.read() as db:
            rows = _ops().links_page(db, after, limit)
        return tuple(RecordLink(*r) for r in rows)

    def import_file(
        self,
        path: str | Path,
        *,
        source: str,
        kind: str = "customers",
        fmt: str | None = None,
        mapping: str | Path | None = None,
        id_column: str | None = None,
        default_region: str = "IT",
        encoding: str | None = None,
        strict: bool = False,
        progress: Callable[[int, int], None] | None = None,
        on_bad: Callable[[int, str], None] | None = None,
    ) -> ImportResult:
        """See `Backend.import_file`: the import pipeline on this database, as the acting
        agent (backends/postgres/identity/importer.py)."""
        from backends.imports import import_options, result
        from backends.postgres.identity.importer import run_import

        me = self._writer()
        options = import_options(
            source=source,
            kind=kind,
            fmt=fmt,
            mapping=mapping,
            id_column=id_column,
            default_region=default_region,
            encoding=encoding,
            strict=strict,
            workers=self.import_workers,
        )
        if not Path(path).is_file():
            from backends.base import InvalidInput

            raise InvalidInput(f"no such file: {path}")
        who = self.actor(me)
        report = run_import(
            self.store,
            path,
            options,
            actor=me.name,
            audit_actor=Actor(who.agent, who.role, who.token, Origin.IMPORT.value),
            progress=progress,
            on_bad=on_bad,
        )
        return result(report)
