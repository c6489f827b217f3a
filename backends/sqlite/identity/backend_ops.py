"""The identity part of the Backend contract for SQLite, delegating to `backends.identity`.

A mixin of `SQLiteBackend`: it uses the backend's `store`, `clock`, `_writer()`
and `_limit` conventions. Merge and split are writes: refused when read-only,
one transaction each, appended to the change feed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from backends.base import InvalidInput
from backends.models import (
    CustomerExplanation,
    FieldProvenance,
    IdentityJournalEntry,
    IdentityLink,
    IdentityModel,
    IdentityModelLevel,
    IdentitySuggestion,
    RecordChange,
    RecordLink,
    RecordRef,
)
from backends.sqlite import audit

if TYPE_CHECKING:
    from collections.abc import Callable

    from backends.identity.config import MatchConfig
    from backends.models import Agent
    from backends.sqlite.store import Store


def _ts(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _cursor(after: str) -> tuple[float, int] | None:
    """(score, id) a suggestions page starts after; None for the first page.

    Raises:
        InvalidInput: not a cursor a suggestion gave.
    """
    if not after:
        return None
    score, _sep, ident = after.partition(":")
    try:
        return float(score), int(ident)
    except ValueError:
        raise InvalidInput(f"not a suggestions cursor: {after!r}") from None


def _model(model: Any, cfg: MatchConfig) -> IdentityModel:
    return IdentityModel(
        model.version,
        _ts(model.trained_at or None),
        model.records,
        model.pairs,
        model.prior,
        cfg.link_probability,
        cfg.suggest_probability,
        tuple(
            IdentityModelLevel(name, lv.name, lv.m, lv.u, round(lv.weight, 3))
            for name, levels in model.levels.items()
            for lv in levels
        ),
        dict(model.guards),
    )


def _entry(d: dict[str, Any]) -> IdentityJournalEntry:
    return IdentityJournalEntry(
        d["id"],
        datetime.fromtimestamp(d["at"], UTC),
        d["actor"],
        d["action"],
        d["customer_id"],
        d["other_id"],
        tuple(d["records"]),
        d["reason"],
    )


def _refresh_values(db: Any, customer_ids: tuple[int, ...], now: int) -> None:
    """Lifetime value and churn risk of customers whose orders and contacts a merge or a
    split moved."""
    from backends.sqlite import values as computed

    computed.refresh(db, customer_ids, computed.config_of(db), now)


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
        if not 1 <= limit <= 500:
            raise InvalidInput(f"limit must be between 1 and 500 (got {limit})")
        start = _cursor(after)
        with self.store.read() as db:
            found = _ops().suggestions(db, limit, start)
        return tuple(
            IdentitySuggestion(
                r["id"],
                r["ca"],
                r["cb"],
                r["na"],
                r["nb"],
                r["ka"],
                r["kb"],
                r["score"],
                r["reason"],
                datetime.fromtimestamp(r["created_at"], UTC),
                f"{r['score']!r}:{r['id']}",
            )
            for r in found
        )

    def identity_model(self) -> IdentityModel:
        from backends.sqlite.identity.model_store import load_model

        with self.store.read() as db:
            cfg = self._config(db)
            return _model(load_model(db), cfg)

    def train_identity_model(self) -> IdentityModel:
        from backends.sqlite.identity.model_store import train_model
        from backends.sqlite.identity.relink import relink

        me = self._writer()
        with self.store.write() as db:
            cfg, now = self._config(db), self._now()
            trained = train_model(db, cfg, now)
            relink(db, cfg, trained, now, me.name)
            model = _model(trained, cfg)
            was = model.version - 1
            audit.record(
                db,
                self.actor(me),
                now,
                "train",
                "identity-model",
                model.version,
                changes={"version": [was, model.version]},
                detail={"records": model.records, "pairs": model.pairs, "prior": model.prior},
            )
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
            who, now = self.actor(me), self._now()
            audit.record(
                db,
                who,
                now,
                "merge",
                "customer",
                keep,
                customer_id=keep,
                changes=audit.diff(before, audit.profile(db, keep)),
                detail={"absorbed": other, "records": entry["records"], "journal": entry["id"]},
            )
            audit.record(
                db,
                who,
                now,
                "merged-into",
                "customer",
                other,
                customer_id=other,
                changes=audit.diff(gone, {}),
                detail={"into": keep, "journal": entry["id"]},
            )
            _refresh_values(db, (keep,), self._now())
        return _entry(entry)

    def split_customer(self, customer_id: int, records: tuple[str, ...]) -> IdentityJournalEntry:
        me = self._writer()
        with self.store.write() as db:
            before = audit.profile(db, customer_id)
            entry = _ops().split(
                db, self._config(db), self._now(), me.name, customer_id, list(records)
            )
            who, now, new = self.actor(me), self._now(), entry["other_id"]
            audit.record(
                db,
                who,
                now,
                "split",
                "customer",
                customer_id,
                customer_id=customer_id,
                changes=audit.diff(before, audit.profile(db, customer_id)),
                detail={"new_customer": new, "records": entry["records"], "journal": entry["id"]},
            )
            audit.record(
                db,
                who,
                now,
                "split-from",
                "customer",
                new,
                customer_id=new,
                changes=audit.diff({}, audit.profile(db, new)),
                detail={"from": customer_id, "journal": entry["id"]},
            )
            moved = (customer_id, entry["other_id"]) if entry["other_id"] else (customer_id,)
            _refresh_values(db, moved, self._now())
        return _entry(entry)

    def reject_suggestion(self, suggestion_id: int) -> None:
        me = self._writer()
        with self.store.write() as db:
            _ops().reject(db, self._now(), me.name, suggestion_id)
            audit.record(
                db,
                self.actor(me),
                self._now(),
                "reject-suggestion",
                "suggestion",
                suggestion_id,
                changes={"status": ["open", "rejected"]},
            )

    def explain_customer(self, customer_id: int) -> CustomerExplanation:
        with self.store.read() as db:
            d = _ops().explain(db, customer_id)
        return CustomerExplanation(
            customer_id,
            tuple(
                RecordRef(
                    r["id"],
                    r["source"],
                    r["source_id"],
                    datetime.fromtimestamp(r["received_at"], UTC),
                    datetime.fromtimestamp(r["updated_at"], UTC),
                )
                for r in d["records"]
            ),
            tuple(
                IdentityLink(
                    x["record_a"],
                    x["record_b"],
                    x["kind"],
                    x["score"],
                    x["reason"],
                    x["actor"],
                    datetime.fromtimestamp(x["at"], UTC),
                )
                for x in d["links"]
            ),
            tuple(_entry(j) for j in d["journal"]),
            tuple(
                RecordChange(
                    c["record"], datetime.fromtimestamp(c["at"], UTC), c["import_id"], c["changed"]
                )
                for c in d["changes"]
            ),
        )

    def provenance(self, customer_id: int) -> tuple[FieldProvenance, ...]:
        with self.store.read() as db:
            found = _ops().provenance(db, customer_id)
        return tuple(
            FieldProvenance(
                p["field"],
                p["value"],
                p["source"],
                p["source_id"],
                _ts(p["at"]),
                tuple(p["losers"]),
                p["values"],
            )
            for p in found
        )

    def record_links(self, after: int = 0, limit: int = 1000) -> tuple[RecordLink, ...]:
        if not 1 <= limit <= 10_000:
            raise InvalidInput(f"limit must be between 1 and 10000 (got {limit})")
        with self.store.read() as db:
            rows = _ops().links_page(db, after, limit)
        return tuple(RecordLink(*r) for r in rows)
