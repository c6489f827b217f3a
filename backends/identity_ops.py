"""The identity part of the Backend contract, the same for every store: suggestions, the
match model, merge, split, reject, explain, provenance, the link export and imports.

Merge, split, reject and training are writes: refused when read-only, one transaction
each, audited last in it, appended to the change feed; their flow is
`backends.identity.control`'s. A store's backend mixes `IdentityOps` in and names its
`StoreIdentity` as `_identity` (backends/sqlite/identity/backend_ops.py,
backends/postgres/identity/backend_ops.py). No SQL here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from backends.audit_chain import Actor
from backends.base import InvalidInput
from backends.identity import review
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

if TYPE_CHECKING:
    from backends.identity.config import MatchConfig
    from backends.identity.control import IdentityRows
    from backends.identity.model import Model


class StoreIdentity:
    """A store's identity statements (each in the caller's transaction) and its import,
    from its package's modules (`identity.operations`, `identity.settings`,
    `identity.model_store`, `identity.relink`, `audit`), imported on first use.

    A store subclasses it for what differs: how computed values are refreshed, how an
    import runs, which ids it can hold."""

    #: Whether a merge's or split's computed values are refreshed before the audit trail
    #: reads the customer's profile after it (else after the entry is recorded).
    REFRESH_BEFORE_AUDIT = False

    def __init__(self, package: str) -> None:
        self.package = package

    def _module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.{name}")

    def rows(self, db: Any) -> IdentityRows:
        return cast("IdentityRows", self._module("identity.operations").rows(db))

    def config(self, db: Any, base: MatchConfig) -> MatchConfig:
        return cast("MatchConfig", self._module("identity.settings").database_config(db, base))

    def load_model(self, db: Any) -> Model:
        return cast("Model", self._module("identity.model_store").load_model(db))

    def train(self, db: Any, cfg: MatchConfig, now: int, actor: str) -> Model:
        """Train the match model and relink the open suggestions it now links."""
        trained = self._module("identity.model_store").train_model(db, cfg, now)
        self._module("identity.relink").relink(db, cfg, trained, now, actor)
        return cast("Model", trained)

    def profile(self, db: Any, customer_id: int) -> dict[str, Any]:
        return dict(self._module("audit").profile(db, customer_id))

    def record(self, db: Any, who: Actor, now: int, note: review.AuditNote) -> None:
        action, object_type, object_id, extra = note
        self._module("audit").record(db, who, now, action, object_type, object_id, **extra)

    def check_id(self, value: int, what: str) -> int:
        """`value` when the store can hold it as an id (InvalidInput otherwise)."""
        return value

    def refresh_values(self, db: Any, customer_ids: tuple[int, ...], now: int) -> None:
        raise NotImplementedError

    def importer(self) -> Any:
        """The store's import module (its `run_import`)."""
        return self._module("identity.importer")

    def importing(self, store: Any) -> AbstractContextManager[Any]:
        """The store an import writes to: the backend's own, unless the store says."""
        return nullcontext(store)


def _control() -> Any:
    """The identity flow, imported on first use: it loads phonenumbers and rapidfuzz, which
    the console's start-up does not need."""
    from backends.identity import control

    return control


class IdentityOps:
    """Suggestions, merge, split, explain, provenance, links, the match model and imports
    over a store's `_identity` statements."""

    _identity: StoreIdentity
    store: Any
    clock: Callable[[], datetime]
    identity_config: MatchConfig | None = None  # None: the defaults (config imported on use)
    import_workers: int | None = None  # processes preparing an import's rows (None: by size)

    if TYPE_CHECKING:  # provided by the store's backend

        def _writer(self) -> Agent: ...

        def actor(self, me: Agent | None = None) -> Actor: ...

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def _config(self, db: Any) -> MatchConfig:
        """The identity settings: this backend's, with those kept in the database applied."""
        from backends.identity.config import MatchConfig

        return self._identity.config(db, self.identity_config or MatchConfig())

    def _record(self, db: Any, who: Actor, now: int, notes: list[review.AuditNote]) -> None:
        """The audit entries of an identity write, last in its transaction."""
        for note in notes:
            self._identity.record(db, who, now, note)

    def identity_suggestions(
        self, limit: int = 50, after: str = ""
    ) -> tuple[IdentitySuggestion, ...]:
        review.check_limit(limit, 500)
        start = review.cursor(after)
        with self.store.read() as db:
            found = self._identity.rows(db).suggestions(limit, start)
        return tuple(review.suggestion(r) for r in found)

    def identity_model(self) -> IdentityModel:
        with self.store.read() as db:
            return review.model_info(self._identity.load_model(db), self._config(db))

    def train_identity_model(self) -> IdentityModel:
        me = self._writer()
        with self.store.write() as db:
            cfg, now = self._config(db), self._now()
            trained = self._identity.train(db, cfg, now, me.name)
            model = review.model_info(trained, cfg)
            self._record(db, self.actor(me), now, review.train_notes(model))
            return model

    def merge_customers(self, keep: int, other: int, *, reason: str = "") -> IdentityJournalEntry:
        me = self._writer()
        ids = self._identity
        ids.check_id(keep, "customer id")
        ids.check_id(other, "customer id")
        with self.store.write() as db:
            before, gone = ids.profile(db, keep), ids.profile(db, other)
            entry = _control().merge(
                ids.rows(db), self._config(db), self._now(), me.name, keep, other, reason
            )
            self._identity_audited(db, me, (keep,), entry, before, keep, other, gone)
        return review.journal_entry(entry)

    def split_customer(self, customer_id: int, records: tuple[str, ...]) -> IdentityJournalEntry:
        me = self._writer()
        ids = self._identity
        ids.check_id(customer_id, "customer id")
        with self.store.write() as db:
            before = ids.profile(db, customer_id)
            entry = _control().split(
                ids.rows(db), self._config(db), self._now(), me.name, customer_id, list(records)
            )
            moved = (customer_id, entry["other_id"])
            self._identity_audited(
                db, me, moved, entry, before, customer_id, entry["other_id"], None
            )
        return review.journal_entry(entry)

    def _identity_audited(
        self,
        db: Any,
        me: Agent,
        moved: tuple[int, ...],
        entry: dict[str, Any],
        before: dict[str, Any],
        customer_id: int,
        other: int,
        gone: dict[str, Any] | None,
    ) -> None:
        """A merge's (`gone`: the absorbed customer's profile) or a split's audit entries,
        and the computed values of the customers whose orders and contacts it moved."""
        ids = self._identity
        if ids.REFRESH_BEFORE_AUDIT:
            ids.refresh_values(db, moved, self._now())
        after = ids.profile(db, customer_id)
        if gone is not None:
            notes = review.merge_notes(customer_id, other, before, gone, after, entry)
        else:
            notes = review.split_notes(customer_id, before, after, ids.profile(db, other), entry)
        self._record(db, self.actor(me), self._now(), notes)
        if not ids.REFRESH_BEFORE_AUDIT:
            ids.refresh_values(db, moved, self._now())

    def reject_suggestion(self, suggestion_id: int) -> None:
        me = self._writer()
        self._identity.check_id(suggestion_id, "suggestion id")
        with self.store.write() as db:
            _control().reject(self._identity.rows(db), self._now(), me.name, suggestion_id)
            self._record(db, self.actor(me), self._now(), review.reject_notes(suggestion_id))

    def explain_customer(self, customer_id: int) -> CustomerExplanation:
        self._identity.check_id(customer_id, "customer id")
        with self.store.read() as db:
            d = _control().explain(self._identity.rows(db), customer_id)
        return review.explanation(customer_id, d)

    def provenance(self, customer_id: int) -> tuple[FieldProvenance, ...]:
        self._identity.check_id(customer_id, "customer id")
        with self.store.read() as db:
            row = _control().require(self._identity.rows(db), customer_id)
        return review.provenance(row)

    def record_links(self, after: int = 0, limit: int = 1000) -> tuple[RecordLink, ...]:
        review.check_limit(limit, 10_000)
        self._identity.check_id(after, "record id")
        with self.store.read() as db:
            rows = self._identity.rows(db).links_page(after, limit)
        return tuple(RecordLink(*r) for r in rows)

    def import_file(
        self,
        path: str | Path,
        *,
        progress: Callable[[int, int], None] | None = None,
        on_bad: Callable[[int, str], None] | None = None,
        **options: Any,
    ) -> ImportResult:
        """See `Backend.import_file`: the import pipeline on this store, as the acting agent
        (`options`: the contract's import options, checked by `imports.import_options`)."""
        from backends.imports import DEFAULTS, import_options, result

        me = self._writer()
        checked = import_options(**(DEFAULTS | options), workers=self.import_workers)
        if not Path(path).is_file():
            raise InvalidInput(f"no such file: {path}")
        who = self.actor(me)
        audit_actor = Actor(who.agent, who.role, who.token, Origin.IMPORT.value)
        importer = self._identity.importer()
        with self._identity.importing(self.store) as store:
            report = importer.run_import(
                store,
                Path(path),
                checked,
                actor=me.name,
                audit_actor=audit_actor,
                progress=progress,
                on_bad=on_bad,
            )
        return result(report)
