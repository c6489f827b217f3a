"""Revisiting open suggestions once the model has learnt: a pair decided with the default
weights (a store's first records) or an older model is scored again with the new one, and
the two customers merge when it now links and they hold together as a whole.

Only suggestions that were one for want of evidence or by a learnt guard (twins, a
household: the new model weighs them again) are revisited: those another guard made
(namesakes, a record at odds with the rest of a customer, a customer under review) stay
for a person to decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backends import link_reasons
from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.model import Model, compare, family_emails

if TYPE_CHECKING:
    from backends.identity.resolve import Candidates

#: Reasons that keep a suggestion for a person whatever the new weights say. A household
#: is not one: the new model weighs it again (learnt, it is 0 where the data holds none).
KEPT = ("namesakes", "elsewhere in customer", "do not hold", "review", "disagree")


@dataclass(frozen=True, slots=True)
class Relink:
    """Two customers to merge, and why."""

    keep: int
    gone: int
    probability: float
    reason: str


def revisitable(reason: str, model: Model | None = None) -> bool:
    """Whether a suggestion was one for want of evidence (no guard but the learnt ones, which
    the new model weighs again); `reason` as a store keeps it (packed as `link_reasons`
    packs it, or written out). Namesakes are a learnt sign too: where `model` reads none
    in the data (its evidence at or below 0, as in a file of duplicates resolved before
    the model learnt it), a suggestion they made is weighed again."""
    text = link_reasons.unpack(reason)
    kept: tuple[str, ...] = KEPT
    if model is not None and model.guards.get("namesakes", 1.0) <= 0:
        kept = tuple(word for word in KEPT if word != "namesakes")
    return not any(word in text for word in kept)


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


def relink_open(
    store: Candidates,
    pairs: list[tuple[int, int]],
    model: Model,
    cfg: MatchConfig,
    merge: Callable[[int, int, str], None],
) -> int:
    """Score the records of open suggestions (`pairs`, most likely first, those worth
    revisiting) again with `model`, and `merge(keep, gone, reason)` the customers of those
    that now link and hold together, unless a person kept them apart. Reads through
    `store` (see `resolve.Candidates`); returns how many merged."""
    apart = store.apart_pairs()
    owner = store.record_customers({r for pair in pairs + apart for r in pair})
    customers = {c for c in owner.values() if c is not None}
    members: dict[int, list[int]] = {}
    for rid, cid in store.customer_records(customers):
        members.setdefault(cid, []).append(rid)
    wanted = {r for m in members.values() for r in m}
    feats = {rid: f for rid, (_c, f) in store.load_features(wanted).items()}
    names: dict[str, set[str]] = {"first_name": set(), "last_name": set()}
    for f in feats.values():
        names["first_name"].add(f.fk)
        names["last_name"].add(f.lk)
    store.load_term_shares(model, names)
    merged_into: dict[int, int] = {}

    def find(cid: int) -> int:
        while cid in merged_into:
            cid = merged_into[cid]
        return cid

    def kept_apart(x: int, y: int) -> bool:
        for ra, rb in apart:
            oa, ob = owner.get(ra), owner.get(rb)
            if oa is not None and ob is not None and {find(oa), find(ob)} == {x, y}:
                return True
        return False

    done = 0
    for a, b in pairs:
        ca, cb = owner.get(a), owner.get(b)
        if ca is None or cb is None or a not in feats or b not in feats:
            continue
        ca, cb = find(ca), find(cb)
        if ca == cb or kept_apart(ca, cb):
            continue
        ours = [feats[r] for r in members.get(ca, ()) if r in feats]
        theirs = [feats[r] for r in members.get(cb, ()) if r in feats]
        p = decide_relink(model, cfg, feats[a], feats[b], ours, theirs)
        if p is None:
            continue
        keep, gone = (ca, cb) if ca < cb else (cb, ca)
        merge(keep, gone, f"match model version {model.version}: probability {p:.4f}")
        merged_into[gone] = keep
        members.setdefault(keep, []).extend(members.pop(gone, ()))
        done += 1
    return done
