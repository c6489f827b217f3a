"""The `[identity]` settings a store keeps for later imports, merges and splits."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from backends.identity.config import MatchConfig, apply_config, settings_rows


def stored_settings(db: sqlite3.Connection) -> dict[str, Any]:
    """The `[identity]` settings kept in this database ({} if none, or an older store)."""
    try:
        rows = db.execute("SELECT key, value FROM identity_settings").fetchall()
    except sqlite3.OperationalError:  # a store from before schema version 5
        return {}
    return {key: json.loads(value) for key, value in rows}


def database_config(db: sqlite3.Connection, base: MatchConfig | None = None) -> MatchConfig:
    """`base` (default: the defaults) with the settings kept in this database applied."""
    config = base or MatchConfig()
    settings = stored_settings(db)
    return apply_config(config, settings) if settings else config


def save_settings(db: sqlite3.Connection, table: dict[str, Any]) -> None:
    """Keep an `[identity]` table's settings in the database, for later imports, merges
    and splits (a later table changes only the keys, and policies, it names).

    Raises:
        InvalidInput: an unknown key or policy (nothing is kept then).
    """
    db.executemany(
        "INSERT OR REPLACE INTO identity_settings(key, value) VALUES (?, ?)",
        settings_rows(stored_settings(db), table),
    )
