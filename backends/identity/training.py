"""Estimating the match model from unlabelled records, as Splink and fastLink do.

u (how often two different people agree at a level) is counted on random record pairs,
which are almost all two different people. m (how often one person's two records do) is
estimated by expectation maximisation on blocked candidate pairs, holding u fixed: each
pass weighs every pair by its current match probability and recounts the levels. The
prior follows from the share of matches among the candidate pairs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from backends.identity.model import (
    COMPARISONS,
    DEFAULT_PRIOR,
    FIRST_CROSSED,
    FIRST_DIFFERENT,
    FIRST_SWAPPED,
    MIN_PROB,
    MISSING,
    Level,
    Model,
)

#: Pseudo-count added to every level when counting u, so an unseen level is rare, not impossible.
U_SMOOTHING = 1.0
M_FLOOR = 0.001  # no level is impossible for a true match (typos happen)
M_PSEUDO = 50.0  # weight of the starting m in each EM estimate, in pairs


def _clamp(p: float, floor: float = MIN_PROB) -> float:
    return min(max(p, floor), 1 - floor)


#: A level seen fewer times than this among the random pairs keeps its prior u when that is
#: rarer than the sample can tell (a shared e-mail is far rarer than 1 in 30,000 pairs).
U_MIN_COUNT = 5


#: Levels a household shares (a landline): random pairs, almost never of one household,
#: cannot tell how often two people share one, so u never drops below the prior guess.
HOUSEHOLD_LEVELS = frozenset({("phone", 1)})


def _u(prior: float, n: float, total: float) -> float:
    estimate = (n + U_SMOOTHING) / total
    if n < U_MIN_COUNT:
        return _clamp(min(prior, estimate), 1e-12)
    return _clamp(estimate)


def estimate_u(model: Model, patterns: Iterable[Sequence[int]]) -> dict[str, tuple[Level, ...]]:
    """The model's levels with u counted on random pairs' level patterns (m kept)."""
    counts = {c: [0.0] * len(model.levels[c]) for c in COMPARISONS}
    for g in patterns:
        for c, level in zip(COMPARISONS, g, strict=True):
            if level != MISSING:
                counts[c][level] += 1
    out: dict[str, tuple[Level, ...]] = {}
    for c in COMPARISONS:
        row = counts[c]
        seen = sum(row)
        if seen < 50:  # too few pairs with both values: keep the prior guess
            out[c] = model.levels[c]
            continue
        total = seen + U_SMOOTHING * len(row)
        out[c] = tuple(
            Level(
                lv.name,
                lv.m,
                max(lv.u, _u(lv.u, n, total)) if (c, i) in HOUSEHOLD_LEVELS else _u(lv.u, n, total),
            )
            for i, (lv, n) in enumerate(zip(model.levels[c], row, strict=True))
        )
    return out


def expectation_maximisation(
    levels: dict[str, tuple[Level, ...]],
    patterns: Counter[tuple[int, ...]],
    share: float = 0.5,
    iterations: int = 25,
    tolerance: float = 1e-5,
) -> tuple[dict[str, tuple[Level, ...]], float]:
    """m of every level and the share of matches among `patterns` (level pattern -> pairs),
    by EM with u fixed. Returns (levels with the new m, share of matches)."""
    m = {c: [lv.m for lv in levels[c]] for c in COMPARISONS}
    m0 = {c: list(v) for c, v in m.items()}  # the starting m: what little evidence leans on
    u = {c: [lv.u for lv in levels[c]] for c in COMPARISONS}
    items = list(patterns.items())
    for _ in range(iterations):
        sums = {c: [0.0] * len(m[c]) for c in COMPARISONS}
        matched = 0.0
        total = 0.0
        for g, n in items:
            pm, pu = share, 1 - share
            for c, level in zip(COMPARISONS, g, strict=True):
                if level != MISSING:
                    pm *= m[c][level]
                    pu *= u[c][level]
            p = pm / (pm + pu) if pm + pu > 0 else 0.0
            matched += p * n
            total += n
            for c, level in zip(COMPARISONS, g, strict=True):
                if level != MISSING:
                    sums[c][level] += p * n
        change = 0.0
        for c in COMPARISONS:
            seen = sum(sums[c])
            if seen <= 0:
                continue
            # the starting m as M_PSEUDO pseudo-pairs: a level seen on few pairs stays near
            # it instead of falling to the floor (a small store, a rare level)
            new = [
                _clamp((s + M_PSEUDO * p0) / (seen + M_PSEUDO), M_FLOOR)
                for s, p0 in zip(sums[c], m0[c], strict=True)
            ]
            norm = sum(new)
            new = [x / norm for x in new]
            change = max(change, *(abs(a - b) for a, b in zip(new, m[c], strict=True)))
            m[c] = new
        share = _clamp(matched / total if total else share)
        if change < tolerance:
            break
    out = {
        c: tuple(Level(lv.name, mv, lv.u) for lv, mv in zip(levels[c], m[c], strict=True))
        for c in COMPARISONS
    }
    return out, share


#: Training rules, as Splink trains: EM runs on the pairs that agree exactly on the first
#: comparisons named (which are then left out) and estimates m of the second.
RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("email",), ("first_name", "last_name", "birth_date", "street", "postcode", "city")),
    (("phone",), ("first_name", "last_name", "birth_date", "street", "postcode", "city")),
    (
        ("first_name", "last_name", "birth_date"),
        ("email", "phone", "street", "postcode", "city", "visitor_id", "loyalty_card"),
    ),
    (
        ("first_name", "last_name", "street"),
        ("birth_date", "email", "phone", "visitor_id", "loyalty_card"),
    ),
)
#: Rules run only for the comparisons the rules above left unestimated (data without
#: e-mails or phones: names typed apart, swapped or replaced are then estimated on pairs
#: of one birth date, as Splink's FEBRL example trains on birth-date blocks).
FALLBACK_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("birth_date",), ("first_name", "last_name", "street", "postcode", "city")),
)


def prior_floor(records: int) -> float:
    """The lowest prior training sets for a store of `records` records: as if each record had
    one other record of the same person somewhere in the store (1 / (records - 1)), and never
    more than the default (1e-5, reached at 100,000 records).

    A store of one file of distinct people (the first of two to link) has almost no matches
    yet, and the next file would pay for a prior read from it; but the same floor in a store
    of a million records would say every record has ten others of its person, and let two
    namesakes or a household of one name link on what a random pair shows one time in a
    hundred thousand (the chance that a pair is one person falls as the store grows)."""
    if records < 2:
        return DEFAULT_PRIOR
    return min(DEFAULT_PRIOR, 1.0 / (records - 1))


def _sane(levels: tuple[Level, ...]) -> bool:
    """An estimate worth keeping: the exact level is evidence for, the last against."""
    return levels[0].m > levels[0].u and levels[-1].m < levels[-1].u and levels[0].m > levels[-1].m


def train(
    model: Model,
    random_patterns: Iterable[Sequence[int]],
    blocked_patterns: Iterable[Sequence[int]],
    records: int,
    sampled: int,
) -> Model:
    """A new model: u from random pairs, m by EM per training rule, the prior from the
    share of matches EM finds among all blocked pairs.

    `records`: records in the store; `sampled`: how many of them the blocked pairs were
    drawn for (each sampled record against every candidate it has), to scale the prior.
    An estimate of m that is not sane (`_sane`) keeps the previous m of that comparison.
    """
    levels = estimate_u(model, random_patterns)
    blocked = [tuple(g) for g in blocked_patterns]
    index = {c: i for i, c in enumerate(COMPARISONS)}
    found: dict[str, list[list[float]]] = {}
    for fixed, estimated in RULES + FALLBACK_RULES:
        if (fixed, estimated) in FALLBACK_RULES:
            estimated = tuple(c for c in estimated if c not in found)
            if not estimated:
                continue
        at = [index[c] for c in fixed]
        patterns: Counter[tuple[int, ...]] = Counter()
        for g in blocked:
            if all(g[i] == 0 for i in at):
                patterns[tuple(MISSING if i in at else v for i, v in enumerate(g))] += 1
        if sum(patterns.values()) < 100:
            continue
        new, _share = expectation_maximisation(levels, patterns, 0.5)
        for c in estimated:
            if _sane(new[c]):
                found.setdefault(c, []).append([lv.m for lv in new[c]])
    for c, estimates in found.items():
        m = [sum(col) / len(estimates) for col in zip(*estimates, strict=True)]
        levels[c] = tuple(Level(lv.name, mv, lv.u) for lv, mv in zip(levels[c], m, strict=True))
    prior = model.prior
    pairs = len(blocked)
    if pairs >= 100 and sampled and records > 1:
        _levels, share = expectation_maximisation(levels, Counter(blocked), 0.3, iterations=1)
        prior = max(_clamp(share * pairs / (sampled * (records - 1)), 1e-12), prior_floor(records))
    guards = dict(model.guards)
    guards["namesakes"] = namesakes_evidence(blocked, guards.get("namesakes", 1.0))
    guards["twins"] = twins_evidence(blocked, guards.get("twins", -6.0))
    guards["household"] = household_evidence(blocked, guards.get("household", -4.0))
    return Model(
        levels,
        prior,
        model.version + 1,
        0,
        records,
        pairs,
        {},  # term frequencies are read for the new counts
        guards,
    )


#: Fewer same-name same-address pairs with both birth dates than this: keep the prior guess.
NAMESAKES_MIN_PAIRS = 10


def namesakes_evidence(blocked: Sequence[Sequence[int]], prior: float) -> float:
    """log2 of how much likelier two records of one name at one address, both with a birth
    date, are two people (birth dates apart: a parent and a child) than one (the same date,
    or a slip apart): what one source holding two such records says about a third."""
    first, last, dob, street = (COMPARISONS.index(c) for c in COMPARISONS[:3] + ("street",))
    apart = near = 0
    for g in blocked:
        if g[first] == 0 and g[last] == 0 and g[street] == 0 and g[dob] != MISSING:
            if g[dob] == 2:
                apart += 1
            else:
                near += 1
    if apart + near < NAMESAKES_MIN_PAIRS:
        return prior
    return round(math.log2((apart + 1) / (near + 1)), 2)


#: The share of first names that differ, among pairs of one surname, birth date and home, at
#: and above which another first name is read as typing (no twins evidence), and the most
#: the twins guard weighs.
TWINS_TYPING_SHARE = 0.05
TWINS_MAX = -12.0


def twins_evidence(blocked: Sequence[Sequence[int]], prior: float) -> float:
    """The twins guard's weight, from how often pairs of one surname, birth date and home
    show another first name: often (a data set whose first names are typed wrong or
    replaced), no evidence; rarely (the data's few such pairs are twins), up to TWINS_MAX."""
    first, last, dob, street = (COMPARISONS.index(c) for c in COMPARISONS[:3] + ("street",))
    other = alike = 0
    for g in blocked:
        if g[last] == 0 and g[dob] == 0 and g[street] in (0, 1) and g[first] != MISSING:
            if g[first] == FIRST_DIFFERENT:
                other += 1
            elif g[first] not in (FIRST_SWAPPED, FIRST_CROSSED):
                alike += 1
    if other + alike < NAMESAKES_MIN_PAIRS:
        return prior
    share = max(other / (other + alike), 1e-4)
    return round(max(TWINS_MAX, min(0.0, 4 * math.log2(share / TWINS_TYPING_SHARE))), 2)


#: The share of pairs at one address (both with a first name and a birth date) whose first
#: names and birth dates both differ, below which the data holds no households to speak of
#: (a file of one person's duplicates): the household guard then weighs nothing.
HOUSEHOLD_SHARE = 0.05
HOUSEHOLD_WEIGHT = -4.0


def household_evidence(blocked: Sequence[Sequence[int]], prior: float) -> float:
    """The household guard's weight: HOUSEHOLD_WEIGHT where pairs sharing an address are
    often two people (first names and birth dates both apart: a parent and a child,
    partners), 0 where they almost never are (what differs there is typing)."""
    first, dob, street = (COMPARISONS.index(c) for c in ("first_name", "birth_date", "street"))
    two = one = 0
    for g in blocked:
        if g[street] in (0, 1) and g[dob] != MISSING and g[first] != MISSING:
            if g[first] == FIRST_DIFFERENT and g[dob] == 2:
                two += 1
            else:
                one += 1
    if two + one < NAMESAKES_MIN_PAIRS * 5:
        return prior
    return HOUSEHOLD_WEIGHT if two / (two + one) >= HOUSEHOLD_SHARE else 0.0
