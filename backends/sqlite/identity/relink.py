"""Merging the customers of open suggestions that a newly trained model links, on SQLite
(the flow is `backends.identity.control.relink`'s)."""

from __future__ import annotations

import sqlite3

from backends.identity import control
from backends.identity.config import MatchConfig
from backends.identity.model import Model
from backends.sqlite.identity.operations import SQLiteIdentityRows
from backends.sqlite.identity.resolver import SQLiteCandidates


def relink(db: sqlite3.Connection, cfg: MatchConfig, model: Model, now: int, actor: str) -> int:
    """See `control.relink`: how many customers merged."""
    return control.relink(SQLiteIdentityRows(db), SQLiteCandidates(db), cfg, model, now, actor)
