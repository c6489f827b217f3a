"""Training the match model on a store's own records: random pairs for u, each sampled
record against the candidates the resolver would find for it for m (EM in `training`).

Pure: a store reads for it through `TrainingReads` and keeps the model it returns.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Protocol

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.keys import found_by_name, is_name_key, probe_keys
from backends.identity.model import Model, default_levels, family_emails, gamma
from backends.identity.training import train

RANDOM_PAIRS = 20_000  # random record pairs counted for u
SAMPLED_RECORDS = 5_000  # records whose blocked candidates EM runs on

Key = tuple[str, str]


class TrainingReads(Protocol):
    """What training reads from a store (see `resolve.Candidates`)."""

    def record_ids(self) -> list[int]:
        """Every source record's id."""
        ...

    def load_features(
        self, record_ids: Iterable[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]: ...

    def key_holders(
        self, keys: Iterable[Key], junk_limit: int, block_limit: int, count_limit: int
    ) -> tuple[dict[Key, list[int]], dict[Key, int]]: ...


def fit(
    store: TrainingReads, stored: Model, cfg: MatchConfig, now: int, seed: int = 0
) -> tuple[Model, bool]:
    """(model, whether it was trained): a new version estimated from the store's records,
    or (fewer than two records) the default levels with `stored`'s prior, untrained."""
    rng = random.Random(seed)
    ids = store.record_ids()
    records = len(ids)
    # EM starts from (and an estimate that is not sane falls back to) the default m
    base = Model(default_levels(), stored.prior, stored.version)
    if records < 2:
        return base, False

    def features(wanted: Iterable[int]) -> dict[int, Features]:
        return {rid: f for rid, (_cid, f) in store.load_features(wanted).items()}

    # u: random pairs
    left = [rng.choice(ids) for _ in range(RANDOM_PAIRS)]
    right = [rng.choice(ids) for _ in range(RANDOM_PAIRS)]
    feats = features(set(left) | set(right))
    random_patterns = [
        gamma(feats[a], feats[b])
        for a, b in zip(left, right, strict=True)
        if a != b and a in feats and b in feats
    ]
    # m: each sampled record against the candidates the resolver would find for it
    sampled = rng.sample(ids, min(SAMPLED_RECORDS, records))
    mine = features(sampled)
    keys = {rid: probe_keys(f) for rid, f in mine.items()}
    wanted = {k for ks in keys.values() for k in ks}
    holders, _counts = store.key_holders(
        wanted, cfg.junk_limit, cfg.block_limit, cfg.common_name_limit
    )
    pairs: set[tuple[int, int]] = set()
    for rid, ks in keys.items():
        by_name = found_by_name(mine[rid])
        for k in ks:
            if not by_name and is_name_key(k):
                continue  # as the resolver: a record with an e-mail or phone is found by it
            for other in holders.get(k, ()):
                if other != rid:
                    pairs.add((rid, other))
    others = features({b for _a, b in pairs} - mine.keys())
    others.update(mine)
    family = family_emails(
        (key[1], [others[r] for r in rids if r in others])
        for key, rids in holders.items()
        if key[0] == "email"
    )
    blocked = [gamma(mine[a], others[b], frozenset(), family) for a, b in pairs if b in others]
    model = train(base, random_patterns, blocked, records, len(mine))
    model.trained_at = now
    return model, True


def first_batch(cfg: MatchConfig, kind: str, trained: bool, records: int, size: int) -> int:
    """The size of an import's first batch: in an untrained store it ends where the model
    can be trained, so the rest of the file resolves with weights learnt from it."""
    room = cfg.train_min_records - records
    if kind == "customers" and cfg.matcher == "model" and not trained and 0 < room < size:
        return room
    return size


def training_due(trained_on: int, records: int, cfg: MatchConfig) -> bool:
    """Whether an import should train (between batches and at its end): enough records,
    and half as many again as the model in use was trained on (`trained_on`)."""
    return records >= cfg.train_min_records and trained_on * 3 <= records * 2
