"""Merging the customers of open suggestions that a newly trained model links, on
PostgreSQL (the flow is `backends.identity.control.relink`'s)."""

from __future__ import annotations

from typing import Any

from backends.identity import control
from backends.identity.config import MatchConfig
from backends.identity.model import Model
from backends.postgres.identity.operations import PgIdentityRows
from backends.postgres.identity.store import PgCandidates


def relink(db: Any, cfg: MatchConfig, model: Model, now: int, actor: str) -> int:
    """See `control.relink`: how many customers merged."""
    return control.relink(PgIdentityRows(db), PgCandidates(db), cfg, model, now, actor)
