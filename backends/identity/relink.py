"""Revisiting open suggestions once the model has learnt: a pair decided with the default
weights (a store's first records) or an older model is scored again with the new one, and
the two customers merge when it now links and they hold together as a whole.

Only suggestions that were one for want of evidence are revisited: those a guard made (a
household, namesakes, a record at odds with the rest of a customer, a customer under
review) stay for a person to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.model import Model, compare, family_emails

#: Reasons that keep a suggestion for a person whatever the new weights say.
KEPT = ("household", "namesakes", "elsewhere in customer", "do not hold", "review", "disagree")


@dataclass(frozen=True, slots=True)
class Relink:
    """Two customers to merge, and why."""

    keep: int
    gone: int
    probability: float
    reason: str


def revisitable(reason: str) -> bool:
    """Whether a suggestion was one for want of evidence (no guard but the learnt ones)."""
    return not any(word in reason for word in KEPT)


def decide_relink(
    model: Model,
    cfg: MatchConfig,
    a: Features,
    b: Features,
    ours: list[Features],
    theirs: list[Features],
) -> float | None:
    """The new match probability of a suggested pair (`a` of one customer, whose records are
    `ours`, `b` of the other, `theirs`) when the two customers should now merge, else None:
    the pair links, the customers together stay under `review_size`, and the average weight
    between their records holds."""
    if len(ours) + len(theirs) > cfg.review_size:
        return None
    people = ours + theirs
    groups: dict[str, list[Features]] = {}
    phones: dict[str, list[Features]] = {}
    for f in people:
        for e in f.emails:
            groups.setdefault(e, []).append(f)
        for p, _k in f.phones:
            phones.setdefault(p, []).append(f)
    family = family_emails(groups.items())
    busy = family_emails(phones.items())
    m = compare(model, a, b, busy, False, family)
    if m.probability < cfg.link_probability:
        return None
    weights = [compare(model, x, y, busy, False, family).weight for x in ours for y in theirs]
    if weights and sum(weights) / len(weights) < 0:
        return None
    return m.probability
