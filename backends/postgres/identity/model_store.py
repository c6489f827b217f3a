"""The match model in a PostgreSQL store: the newest version in use, term frequencies,
and training on the store's own records (`backends.identity.fitting`)."""

from __future__ import annotations

import json
from typing import Any

from backends.identity.config import MatchConfig
from backends.identity.fitting import fit
from backends.identity.model import Model, default_model
from backends.postgres.identity.store import PgCandidates

#: One training at a time per database (two imports finishing together train once).
_TRAIN_LOCK = 0x56494432  # "VID2"


def load_model(db: Any) -> Model:
    """The newest stored model (the defaults if none is stored)."""
    row = db.execute("SELECT params FROM identity_models ORDER BY version DESC LIMIT 1").fetchone()
    return default_model() if row is None else Model.from_json(json.loads(row[0]))


def record_count(db: Any) -> int:
    return int(db.execute("SELECT count(*) FROM source_records").fetchone()[0])


def count_terms(db: Any) -> None:
    """Recount how many records hold each first name and surname (from the name keys)."""
    db.execute("DELETE FROM identity_term_counts")
    for fieldname, part in (("last_name", 1), ("first_name", 2)):
        db.execute(
            "INSERT INTO identity_term_counts(field, value, records) "
            "SELECT %s, split_part(substr(key, 3), '|', %s) AS v, count(*) FROM match_keys "
            "WHERE key >= 'n:' AND key < 'n;' GROUP BY v",
            (fieldname, part),
        )


def train_model(db: Any, cfg: MatchConfig, now: int, seed: int = 0) -> Model:
    """Estimate a new model version from the store's records and keep it (in `db`'s
    transaction). Returns the new model."""
    db.execute("SELECT pg_advisory_xact_lock(%s)", (_TRAIN_LOCK,))
    stored = load_model(db)
    count_terms(db)
    model, trained = fit(PgCandidates(db), stored, cfg, now, seed)
    if trained:
        db.execute(
            "INSERT INTO identity_models(version, trained_at, records, params) "
            "VALUES (%s,%s,%s,%s)",
            (model.version, now, model.records, json.dumps(model.to_json())),
        )
    return model


def needs_training(db: Any, cfg: MatchConfig) -> bool:
    """Whether an import should train (between batches and at its end): enough records,
    and twice as many as the model was trained on."""
    n = record_count(db)
    if n < cfg.train_min_records:
        return False
    return load_model(db).records * 2 <= n
