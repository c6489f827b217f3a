"""The match model in the store: the newest version in use, term frequencies, and training
on the store's own records (random pairs for u, blocked candidate pairs for m)."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from collections.abc import Iterable

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.keys import probe_keys
from backends.identity.model import (
    TF_FIELDS,
    Model,
    default_levels,
    default_model,
    family_emails,
    gamma,
)
from backends.identity.training import train
from backends.sqlite.identity import store as st

RANDOM_PAIRS = 20_000  # random record pairs counted for u
SAMPLED_RECORDS = 5_000  # records whose blocked candidates EM runs on


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


def _features(db: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Features]:
    return {rid: f for rid, (_cid, f) in st.load_features(db, ids).items()}


def train_model(db: sqlite3.Connection, cfg: MatchConfig, now: int, seed: int = 0) -> Model:
    """Estimate a new model version from the store's records and keep it (in `db`'s
    transaction). Returns the new model."""
    rng = random.Random(seed)
    ids = [r for (r,) in db.execute("SELECT id FROM source_records")]
    records = len(ids)
    stored = load_model(db)
    # EM starts from (and an estimate that is not sane falls back to) the default m
    base = Model(default_levels(), stored.prior, stored.version)
    count_terms(db)
    if records < 2:
        return base
    # u: random pairs
    left = [rng.choice(ids) for _ in range(RANDOM_PAIRS)]
    right = [rng.choice(ids) for _ in range(RANDOM_PAIRS)]
    feats = _features(db, set(left) | set(right))
    random_patterns = [
        gamma(feats[a], feats[b])
        for a, b in zip(left, right, strict=True)
        if a != b and a in feats and b in feats
    ]
    # m: each sampled record against the candidates the resolver would find for it
    sampled = rng.sample(ids, min(SAMPLED_RECORDS, records))
    mine = _features(db, sampled)
    keys = {rid: probe_keys(f) for rid, f in mine.items()}
    wanted = {k for ks in keys.values() for k in ks if not k[1].startswith("n:")}
    holders, _counts = st.key_holders(
        db, wanted, cfg.junk_limit, cfg.block_limit, cfg.common_name_limit
    )
    pairs: set[tuple[int, int]] = set()
    for rid, ks in keys.items():
        for k in ks:
            for other in holders.get(k, ()):
                if other != rid:
                    pairs.add((rid, other))
    others = _features(db, {b for _a, b in pairs} - mine.keys())
    others.update(mine)
    family = family_emails(
        (key[1], [others[r] for r in rids if r in others])
        for key, rids in holders.items()
        if key[0] == "email"
    )
    blocked = [gamma(mine[a], others[b], frozenset(), family) for a, b in pairs if b in others]
    model = train(base, random_patterns, blocked, records, len(mine))
    model.trained_at = now
    db.execute(
        "INSERT INTO identity_models(version, trained_at, records, params) VALUES (?,?,?,?)",
        (model.version, now, records, json.dumps(model.to_json())),
    )
    return model


def needs_training(db: sqlite3.Connection, cfg: MatchConfig) -> bool:
    """Whether an import should train (between batches and at its end): enough records,
    and half as many again as the model was trained on."""
    n = record_count(db)
    if n < cfg.train_min_records:
        return False
    return load_model(db).records * 3 <= n * 2
