"""Merging the customers of open suggestions that a newly trained model links, in
PostgreSQL (the decision is `backends.identity.relink`'s; this module reads and writes)."""

from __future__ import annotations

from typing import Any

from backends.identity.config import MatchConfig
from backends.identity.model import Model
from backends.identity.relink import relink_open, revisitable
from backends.postgres.identity import operations
from backends.postgres.identity.store import PgCandidates


def relink(db: Any, cfg: MatchConfig, model: Model, now: int, actor: str) -> int:
    """Score the open suggestions again with `model` and merge the customers of those that
    now link (journaled merges, undone like any other). Returns how many merged."""
    rows = db.execute(
        "SELECT s.record_a, s.record_b, s.reason FROM identity_suggestions s "
        "JOIN source_records ra ON ra.id = s.record_a JOIN source_records rb ON rb.id = s.record_b "
        "WHERE s.status = 'open' AND ra.customer_id <> rb.customer_id ORDER BY s.score DESC, s.id"
    ).fetchall()
    pairs = [(a, b) for a, b, reason in rows if revisitable(reason, model)]
    if not pairs:
        return 0

    def merge(keep: int, gone: int, reason: str) -> None:
        operations.merge(db, cfg, now, actor, keep, gone, reason)

    return relink_open(PgCandidates(db), pairs, model, cfg, merge)
