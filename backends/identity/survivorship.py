"""The golden profile of a cluster: one value per field by a configurable policy, with provenance.

Policies: `most_recent`, `source_priority`, `most_frequent`, `first_non_empty`
(oldest record first) and `all` (every distinct value, best first). Provenance
says, for each field, which source (and record) the value came from, when, and
the values that lost. A correction by an agent (`agent:NAME`) survives recomputation.
"""

from __future__ import annotations

import json
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


def _pick(
    policy: str, found: list[tuple[Any, Member]], cfg: MatchConfig, key: Any = None
) -> tuple[Any, Member] | None:
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
    return min(
        found,
        key=lambda vm: (
            -counts[key(vm[0])],
            cfg.priority(vm[1].source),
            -vm[1].at,
            -vm[1].record_id,
        ),
    )


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
    return {
        "source": m.source,
        "source_id": m.source_id,
        "record_id": m.record_id,
        "at": m.at,
        "losers": losers,
    }


def golden(
    members: list[Member],
    cfg: MatchConfig,
    previous: dict[str, Any] | None = None,
    previous_values: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column values, provenance) of the golden profile of `members`.

    `previous` / `previous_values`: the customer's current provenance and
    values; fields an agent corrected keep the agent's value.
    """
    if len(members) == 1:
        values, provenance = _golden_one(members[0], cfg)
    else:
        values, provenance = _golden_many(members, cfg)
    consents, consent_prov = golden_consents(members, previous, previous_values)
    if consents:
        values["consents"] = consents
        provenance.update(consent_prov)
    if previous and previous_values:
        for name, prov in previous.items():
            if (
                isinstance(prov, dict)
                and str(prov.get("source", "")).startswith("agent:")
                and name in _SCALAR
                and name in previous_values
            ):
                values[name] = previous_values[name]
                provenance[name] = prov
    return values, provenance


def golden_consents(
    members: list[Member],
    previous: dict[str, Any] | None = None,
    previous_values: dict[str, Any] | None = None,
) -> tuple[dict[str, bool], dict[str, Any]]:
    """(channel -> granted, provenance `consent_<channel>`): on each channel the newest
    consent wins, by the time the source gave for it (`consent_at`) or else the record's
    time; a consent an agent recorded in Vista wins over anything older."""
    found: dict[str, list[tuple[int, int, bool, Member]]] = {}
    for m in members:
        for channel, (granted, at) in m.features.consents.items():
            found.setdefault(channel, []).append((at or m.at, m.record_id, bool(granted), m))
    values: dict[str, bool] = {}
    provenance: dict[str, Any] = {}
    for channel, options in found.items():
        at, _rid, granted, m = max(options, key=lambda o: (o[0], o[1]))
        values[channel] = granted
        provenance[f"consent_{channel}"] = {
            "source": m.source,
            "source_id": m.source_id,
            "record_id": m.record_id,
            "at": at,
            "losers": sorted({o[2] for o in options if o[2] is not granted}),
        }
    if previous and previous_values:
        stored = previous_values.get("consents") or "{}"
        kept = json.loads(stored) if isinstance(stored, str) else dict(stored)
        for name, prov in previous.items():
            if not (name.startswith("consent_") and isinstance(prov, dict)):
                continue
            channel = name.removeprefix("consent_")
            if not str(prov.get("source", "")).startswith("agent:") or channel not in kept:
                continue
            mine = provenance.get(name)
            if mine is None or int(prov.get("at") or 0) >= int(mine["at"]):
                values[channel] = bool(kept[channel])
                provenance[name] = prov
    return values, provenance


_SCALAR = ("first_name", "last_name", "birth_date", "language", "tier", "segment")


def _golden_one(m: Member, cfg: MatchConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """`_golden_many` for a customer of one record (most customers): every value is its own."""
    f = m.features
    values: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    for name, value in zip(
        _SCALAR, (f.first, f.last, f.dob, f.language, f.tier, f.segment), strict=True
    ):
        if value:
            values[name] = value
            provenance[name] = {
                "source": m.source,
                "source_id": m.source_id,
                "record_id": m.record_id,
                "at": m.at,
                "losers": [],
            }
        else:
            values[name] = None if name == "birth_date" else ""
    address = f.address()
    found: Any  # e-mails and phones are strings, addresses mappings
    for name, found in (
        ("emails", f.shown or f.emails),
        ("phones", [p for p, _k in f.phones]),
        ("addresses", [address] if address else []),
    ):
        if not found:
            values[name] = []
            continue
        policy = cfg.policies.get(name, "all")
        if name == "addresses":
            distinct: list[Any] = [dict(found[0], source=m.source)]
        else:
            distinct = list(found)  # distinct already (extract drops repeats)
        values[name] = distinct
        prov = provenance[name] = {
            "source": m.source,
            "source_id": m.source_id,
            "record_id": m.record_id,
            "at": m.at,
            "losers": [] if policy == "all" else distinct[1:],
        }
        if policy == "all":
            if name == "addresses":
                keys = [
                    str((street_key(address.get("street", "")), address.get("postal_code", "")))
                ]
            else:
                keys = [str(v) for v in reversed(found)]
            prov["values"] = dict.fromkeys(keys, m.source)
    return values, provenance


_SCALAR_FIELDS = (
    ("first_name", "first", True),
    ("last_name", "last", True),
    ("birth_date", "dob", False),
    ("language", "language", False),
    ("tier", "tier", False),
    ("segment", "segment", False),
)


def _golden_many(members: list[Member], cfg: MatchConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """One value per field by its policy, with provenance (`_pick` and `_losers`, unrolled)."""
    values: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    policies = cfg.policies
    ranks: dict[str, int] = {}
    rank = []
    for m in members:
        r = ranks.get(m.source)
        if r is None:
            r = ranks[m.source] = cfg.priority(m.source)
        rank.append(r)
    for name, attr, loose in _SCALAR_FIELDS:
        found = []  # (value, member, rank)
        for m, r in zip(members, rank, strict=True):
            value = getattr(m.features, attr)
            if value:
                found.append((value, m, r))
        if not found:
            values[name] = None if name == "birth_date" else ""
            continue
        policy = policies.get(name, "most_recent")
        if len(found) == 1:
            won = found[0]
        elif policy == "most_recent" or policy == "all":
            won = max(found, key=_recent3)
        elif policy == "first_non_empty":
            won = min(found, key=_recent3)
        elif policy == "source_priority":
            won = min(found, key=_ranked3)
        else:
            counts: dict[Any, int] = {}
            for value, _m, _r in found:
                k = value.lower() if loose else value
                counts[k] = counts.get(k, 0) + 1
            won = min(
                found,
                key=lambda x: (
                    -counts[x[0].lower() if loose else x[0]],
                    x[2],
                    -x[1].at,
                    -x[1].record_id,
                ),
            )
        winner, wm, _r = won
        losers: list[Any] = []
        seen = {winner.lower() if loose else winner}
        for value, _m, _r in found:
            k = value.lower() if loose else value
            if k not in seen:
                seen.add(k)
                losers.append(value)
        values[name] = winner
        provenance[name] = {
            "source": wm.source,
            "source_id": wm.source_id,
            "record_id": wm.record_id,
            "at": wm.at,
            "losers": losers,
        }
    # lists: every distinct value, the policy's winner first, then most recent first
    by_recency = sorted(members, key=_recency_of, reverse=True)
    for name in ("emails", "phones", "addresses"):
        ordered: list[tuple[Any, Member]] = []
        for m in by_recency:
            f = m.features
            if name == "emails":
                ordered += [(v, m) for v in (f.shown or f.emails)]
            elif name == "phones":
                ordered += [(p, m) for p, _k in f.phones]
            else:
                address = f.address()
                if address:
                    ordered.append((address, m))
        if not ordered:
            values[name] = []
            continue
        policy = policies.get(name, "all")
        keyf = _address_key if name == "addresses" else _same
        won2 = _pick("most_recent" if policy == "all" else policy, ordered, cfg, keyf)
        assert won2 is not None
        distinct: list[Any] = [won2[0]]
        seen = {keyf(won2[0])}
        for v, _m in ordered:
            k = keyf(v)
            if k not in seen:
                seen.add(k)
                distinct.append(v)
        if name == "addresses":
            distinct = [dict(a, source=_source_of(ordered, a, keyf)) for a in distinct]
        values[name] = distinct
        provenance[name] = _prov(won2, [] if policy == "all" else distinct[1:])
        if policy == "all":
            first_seen: dict[str, str] = {}
            for v, m in reversed(ordered):  # the source that first had each value
                first_seen.setdefault(str(keyf(v)), m.source)
            provenance[name]["values"] = first_seen
    return values, provenance


def _recent3(x: tuple[Any, Member, int]) -> tuple[int, int]:
    return x[1].at, x[1].record_id


def _ranked3(x: tuple[Any, Member, int]) -> tuple[int, int, int]:
    return x[2], -x[1].at, -x[1].record_id


def _recency_of(m: Member) -> tuple[int, int]:
    return m.at, m.record_id


def _same(value: Any) -> Any:
    return value


def _address_key(a: dict[str, Any]) -> tuple[str, str]:
    return street_key(a.get("street", "")), a.get("postal_code", "")


def _source_of(ordered: list[tuple[Any, Member]], value: Any, keyf: Any) -> str:
    for v, m in ordered:
        if keyf(v) == keyf(value):
            return m.source
    return ""
