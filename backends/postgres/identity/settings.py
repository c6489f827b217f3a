"""The `[identity]` settings a PostgreSQL store keeps for later imports, merges and splits."""

from __future__ import annotations

import json
from typing import Any

from backends.identity.config import MatchConfig, apply_config, settings_rows


def stored_settings(db: Any) -> dict[str, Any]:
    """The `[identity]` settings kept in this database ({} if none)."""
    return {
        key: json.loads(value)
        for key, value in db.execute("SELECT key, value FROM identity_settings")
    }


def database_config(db: Any, base: MatchConfig | None = None) -> MatchConfig:
    """`base` (default: the defaults) with the settings kept in this database applied."""
    config = base or MatchConfig()
    settings = stored_settings(db)
    return apply_config(config, settings) if settings else config


def save_settings(db: Any, table: dict[str, Any]) -> None:
    """Keep an `[identity]` table's settings (see `config.settings_rows`).

    Raises:
        InvalidInput: an unknown key or policy (nothing is kept then).
    """
    rows = settings_rows(stored_settings(db), table)
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO identity_settings(key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rows,
        )
