"""The golden profile of a cluster: one value per field by a configurable policy, with provenance.

Policies: `most_recent`, `source_priority`, `most_frequent`, `first_non_empty`
(oldest record first) and `all` (every distinct value, best first). Provenance
says, for each field, which source (and record) the value came from, when, and
the values that lost. A correction by an agent (`agent:NAME`) survives recomputation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.normalise import street_key


@dataclass(frozen=True, slots=True)
class Member:
    """One source record of a cluster, as survivorship sees it."""

    record_id: int
    source: str
    source_id: str
    at: int  # when the source last changed it
    features: Features


def _candidates(members: list[Member], getter: Any) -> list[tuple[Any, Member]]:
    out = []
    for m in members:
        value = getter(m.features)
        if value:
            out.append((value, m))
    return out


def _recency(vm: tuple[Any, Member]) -> tuple[int, int]:
    return vm[1].at, vm[1].record_id


def _pick(policy: str, found: list[tuple[Any, Member]], cfg: MatchConfig,
          key: Any = None) -> tuple[Any, Member] | None:
    """The winning (value, member) among `found` under `policy`."""
    if not found:
        return None
    key = key or (lambda v: v)
    if policy == "most_recent":
        return max(found, key=_recency)
    if policy == "first_non_empty":
        return min(found, key=_recency)
    if policy == "source_priority":
        return min(found, key=lambda vm: (cfg.priority(vm[1].source), -vm[1].at, -vm[1].record_id))
    # most_frequent (compared loosely), ties by source priority, then recency
    counts = Counter(key(v) for v, _m in found)
    return min(found, key=lambda vm: (-counts[key(vm[0])], cfg.priority(vm[1].source),
                                      -vm[1].at, -vm[1].record_id))


def _losers(found: list[tuple[Any, Member]], winner: Any, key: Any = None) -> list[Any]:
    key = key or (lambda v: v)
    out: list[Any] = []
    seen = {key(winner)}
    for value, _m in found:
        k = key(value)
        if k not in seen:
            seen.add(k)
            out.append(value)
    return out


def _prov(winner: tuple[Any, Member], losers: list[Any]) -> dict[str, Any]:
    _value, m = winner
    return {"source": m.source, "source_id": m.source_id, "record_id": m.record_id, "at": m.at,
            "losers": losers}


def golden(members: list[Member], cfg: MatchConfig,
           previous: dict[str, Any] | None = None,
           previous_values: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column values, provenance) of the golden profile of `members`.

    `previous` / `previous_values`: the customer's current provenance and
    values; fields an agent corrected keep the agent's value.
    """
    values: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    scalar = {
        "first_name": (lambda f: f.first, lambda v: v.lower()),
        "last_name": (lambda f: f.last, lambda v: v.lower()),
        "birth_date": (lambda f: f.dob, None),
        "language": (lambda f: f.language, None),
        "tier": (lambda f: f.tier, None),
        "segment": (lambda f: f.segment, None),
    }
    for name, (getter, key) in scalar.items():
        found = _candidates(members, getter)
        policy = cfg.policies.get(name, "most_recent")
        if policy == "all":
            policy = "most_recent"
        won = _pick(policy, found, cfg, key)
        if won is None:
            values[name] = None if name == "birth_date" else ""
            continue
        values[name] = won[0]
        provenance[name] = _prov(won, _losers(found, won[0], key))
    # lists: every distinct value, the policy's winner first, then most recent first
    by_recency = sorted(members, key=lambda m: (m.at, m.record_id), reverse=True)
    for name, getter in (("emails", lambda f: f.shown or f.emails), ("phones", lambda f: [p for p, _k in f.phones]),
                         ("addresses", lambda f: [f.address()] if f.address() else [])):
        ordered: list[tuple[Any, Member]] = []
        for m in by_recency:
            for v in getter(m.features):
                ordered.append((v, m))
        if not ordered:
            values[name] = []
            continue
        policy = cfg.policies.get(name, "all")
        keyf = (lambda a: (street_key(a.get("street", "")), a.get("postal_code", ""))) \
            if name == "addresses" else (lambda v: v)
        won = _pick("most_recent" if policy == "all" else policy, ordered, cfg, keyf)
        assert won is not None
        distinct: list[Any] = [won[0]]
        seen = {keyf(won[0])}
        for v, _m in ordered:
            if keyf(v) not in seen:
                seen.add(keyf(v))
                distinct.append(v)
        if name == "addresses":
            distinct = [dict(a, source=_source_of(ordered, a, keyf)) for a in distinct]
            if policy != "all":
                distinct = distinct[:1] + distinct[1:]  # older addresses kept, best first
        values[name] = distinct
        provenance[name] = _prov(won, [] if policy == "all" else distinct[1:])
        if policy == "all":
            first_seen: dict[str, str] = {}
            for v, m in reversed(ordered):  # the source that first had each value
                first_seen.setdefault(str(keyf(v)), m.source)
            provenance[name]["values"] = first_seen
    if previous and previous_values:
        for name, prov in previous.items():
            if isinstance(prov, dict) and str(prov.get("source", "")).startswith("agent:") \
                    and name in scalar and name in previous_values:
                values[name] = previous_values[name]
                provenance[name] = prov
    return values, provenance


def _source_of(ordered: list[tuple[Any, Member]], value: Any, keyf: Any) -> str:
    for v, m in ordered:
        if keyf(v) == keyf(value):
            return m.source
    return ""
