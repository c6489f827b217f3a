"""The match model in the store: the newest version in use, term frequencies, and training
on the store's own records (random pairs for u, blocked candidate pairs for m)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.fitting import fit
from backends.identity.model import TF_FIELDS, Model, default_model
from backends.sqlite.identity import store as st


def load_model(db: sqlite3.Connection) -> Model:
    """The newest stored model (the defaults if none is stored, or an older store)."""
    try:
        row = db.execute(
            "SELECT params FROM identity_models ORDER BY version DESC LIMIT 1"
        ).fetchone()
    except sqlite3.OperationalError:  # a store from before schema version 9
        return default_model()
    if row is None:
        return default_model()
    return Model.from_json(json.loads(row[0]))


def record_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM source_records").fetchone()[0])


def load_term_shares(db: sqlite3.Connection, model: Model, names: dict[str, set[str]]) -> None:
    """Put the share of records holding each of `names` (field -> name keys) in `model.tf`
    (a name counted by no training keeps the level's own weight). The counts are those of
    the model's training."""
    if not model.version:
        return  # the defaults: no counts yet
    total = max(model.records, 1)
    for fieldname, values in names.items():
        shares = model.tf.setdefault(fieldname, {})
        todo = sorted(v for v in values if v and v not in shares)
        for part in st.chunks(todo, 500):
            marks = ",".join("?" * len(part))
            for value, n in db.execute(
                f"SELECT value, records FROM identity_term_counts WHERE field = ? "
                f"AND value IN ({marks})",
                (fieldname, *part),
            ):
                shares[value] = n / total


def count_terms(db: sqlite3.Connection) -> None:
    """Recount how many records hold each first name and surname (from the name keys)."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in TF_FIELDS}
    for key, n in db.execute(
        "SELECT key, count(*) FROM match_keys WHERE key >= 'n:' AND key < 'n;' GROUP BY key"
    ):
        last, _sep, first = key[2:].partition("|")
        counts["last_name"][last] += n
        counts["first_name"][first] += n
    db.execute("DELETE FROM identity_term_counts")
    db.executemany(
        "INSERT INTO identity_term_counts(field, value, records) VALUES (?,?,?)",
        [(f, v, n) for f, c in counts.items() for v, n in c.items()],
    )


class _Reads:
    """`fitting.TrainingReads` over a SQLite connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def record_ids(self) -> list[int]:
        return [r for (r,) in self.db.execute("SELECT id FROM source_records")]

    def load_features(
        self, record_ids: Iterable[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]:
        return st.load_features(self.db, record_ids, texts)

    def key_holders(
        self, keys: Iterable[tuple[str, str]], junk_limit: int, block_limit: int, count_limit: int
    ) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], int]]:
        return st.key_holders(self.db, keys, junk_limit, block_limit, count_limit)


def train_model(db: sqlite3.Connection, cfg: MatchConfig, now: int, seed: int = 0) -> Model:
    """Estimate a new model version from the store's records and keep it (in `db`'s
    transaction). Returns the new model."""
    stored = load_model(db)
    count_terms(db)
    model, trained = fit(_Reads(db), stored, cfg, now, seed)
    if trained:
        db.execute(
            "INSERT INTO identity_models(version, trained_at, records, params) VALUES (?,?,?,?)",
            (model.version, now, model.records, json.dumps(model.to_json())),
        )
    return model


def needs_training(db: sqlite3.Connection, cfg: MatchConfig) -> bool:
    """Whether an import should train (between batches and at its end): enough records,
    and twice as many as the model was trained on."""
    n = record_count(db)
    if n < cfg.train_min_records:
        return False
    return load_model(db).records * 2 <= n
