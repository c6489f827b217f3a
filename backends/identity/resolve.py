"""Deciding a batch of source records: which are new, changed or unchanged, which customer
each joins, which customers it bridges, what is linked, suggested or merged.

Pure: a store reads for it through `Candidates` (a few set-based queries: who holds a
key, features, profiles, sizes, records kept apart) and writes what `decide` returns.
Each record is matched against its candidates (records sharing an identifier or a
blocking key), never against everything, in file order; a record joins a customer only
if the match holds against the customer as a whole, and the guards (birth date, first
name, size, records kept apart) turn a link into a suggestion.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.guards import EMPTY, Profile, namesakes
from backends.identity.jsontext import dumps
from backends.identity.keys import found_by_name, is_name_key, probe_keys
from backends.identity.matching import Decision, Verdict, score
from backends.identity.model import Model, compare, family_emails
from backends.identity.survivorship import Member

Key = tuple[str, str]


@dataclass
class Incoming:
    """One source record to store and resolve."""

    source: str
    source_id: str
    fields: dict[str, Any]  # as received
    features: Features
    at: int  # when the source changed it (or when it was received)
    customer_hint: int | None = None  # preferred id if this record starts a new customer
    fields_json: str | None = None  # `fields` as stored, when the caller encoded it already
    features_json: str | None = None  # `features` as stored, likewise
    probe: list[tuple[str, str]] | None = None  # `probe_keys(features)`, when known already
    idents: list[tuple[str, str, str]] | None = None  # `keys.identity_values`, likewise
    blocks: list[str] | None = None  # `features.block_keys()`, likewise

    def stored_fields(self) -> str:
        """The record as stored: compact JSON of the fields as received."""
        if self.fields_json is None:
            self.fields_json = dumps(self.fields)
        return self.fields_json

    def received(self) -> dict[str, Any]:
        """The fields as received."""
        if not self.fields and self.fields_json:
            self.fields = json.loads(self.fields_json)
        return self.fields


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    auto_merges: int = 0
    suggestions: int = 0
    record_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Record:
    """A record of the batch, as it will be stored."""

    record_id: int
    source: str
    source_id: str
    fields_json: str
    at: int
    features: Features
    features_json: str | None
    new: bool  # not in the store yet (else its fields were updated already)
    idents: list[tuple[str, str, str]] | None = None  # `identity_values`, when known already
    blocks: list[str] | None = None  # `features.block_keys()`, likewise


@dataclass
class Resolved:
    """What resolving a batch decided."""

    records: list[Record]
    assign: dict[int, int]  # record id -> final customer id (the batch's records)
    touched: set[int]  # final customers whose profile changes
    new_customers: set[int]  # ids made up in this batch (some were merged away again)
    absorbed: dict[int, int]  # merged customer id -> the final customer it went into
    feats: dict[int, Features]  # features of every record looked at
    links: list[tuple[Any, ...]]
    suggestions: list[tuple[Any, ...]]
    texts: dict[int, str] = field(default_factory=dict)  # stored JSON of some of `feats`


class Candidates(Protocol):
    """What deciding a batch reads from a store (in the caller's transaction)."""

    def key_holders(
        self, keys: Iterable[Key], junk_limit: int, block_limit: int, count_limit: int
    ) -> tuple[dict[Key, list[int]], dict[Key, int]]:
        """(holders, counts) of identifiers and blocking keys (see the SQLite store's)."""
        ...

    def load_features(
        self, record_ids: Iterable[int], texts: dict[int, str] | None = None
    ) -> dict[int, tuple[int | None, Features]]:
        """record id -> (customer id, features); `texts` gets the stored JSON of each."""
        ...

    def load_profiles(self, customer_ids: Iterable[int]) -> dict[int, tuple[list[str], list[str]]]:
        """customer id -> (birth dates, first-name keys) its records hold."""
        ...

    def customer_sizes(self, customer_ids: Iterable[int]) -> dict[int, int]:
        """customer id -> how many source records it holds."""
        ...

    def customer_records(self, customer_ids: Iterable[int]) -> list[tuple[int, int]]:
        """(record id, customer id) of every source record of these customers."""
        ...

    def apart_pairs(self) -> list[tuple[int, int]]:
        """Every pair of records kept apart (a split, a rejected suggestion)."""
        ...

    def record_customers(self, record_ids: Iterable[int]) -> dict[int, int | None]:
        """record id -> its customer id, as stored."""
        ...

    def load_term_shares(self, model: Model, names: dict[str, set[str]]) -> None:
        """Put the share of records holding each name in `model.tf` (see model_store)."""
        ...


@dataclass
class Triage:
    """A batch sorted against the store: what to write before resolving, what to resolve."""

    todo: list[tuple[int, Incoming]]  # (record id, record): new and changed, file order
    new_ids: set[int]  # record ids made up for new records
    feats: dict[int, Features]
    cust_of: dict[int, int | None]  # record id -> its customer as stored (None: new)
    updates: list[tuple[str, int, int]]  # (fields JSON, at, record id) of changed records
    changes: list[tuple[int, int, int, str]]  # record_changes rows (record, import, at, diff)
    result: BatchResult


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """field -> [old, new] for every field that changed, appeared or disappeared."""
    return {
        k: [old.get(k), new.get(k)]
        for k in sorted(old.keys() | new.keys())
        if old.get(k) != new.get(k)
    }


def latest(items: list[Incoming]) -> dict[tuple[str, str], Incoming]:
    """(source, source_id) -> record; the same id twice in one batch: the last one wins."""
    out: dict[tuple[str, str], Incoming] = {}
    for item in items:
        item.features.source = item.source
        out[(item.source, item.source_id)] = item
    return out


def triage(
    batch: dict[tuple[str, str], Incoming],
    existing: dict[tuple[str, str], tuple[int, str, int | None]],
    next_id: Callable[[], int],
    import_id: int | None,
    now: int,
) -> Triage:
    """Sort `batch` (from `latest`) against `existing` ((source, source_id) -> (record id,
    fields JSON, customer id)); `next_id()` makes up the id of each new record, in order."""
    result = BatchResult()
    t = Triage([], set(), {}, {}, [], [], result)
    for key, item in batch.items():
        fields_json = item.stored_fields()
        if key in existing:
            rid, old_json, cid = existing[key]
            if old_json == fields_json:
                result.unchanged += 1
                continue
            t.updates.append((fields_json, item.at, rid))
            changed = diff(json.loads(old_json), item.received())
            t.changes.append((rid, import_id or 0, now, json.dumps(changed, ensure_ascii=False)))
            t.cust_of[rid] = cid
            result.updated += 1
        else:
            rid = next_id()
            t.new_ids.add(rid)
            t.cust_of[rid] = None
            result.created += 1
        t.feats[rid] = item.features
        t.todo.append((rid, item))
    result.record_ids = [rid for rid, _ in t.todo]
    return t


def verdict(
    cfg: MatchConfig,
    model: Model,
    f: Features,
    other: Features,
    common: bool,
    household: bool,
    busy: set[str],
    family: set[str],
) -> Verdict:
    """The pair's verdict: by the match model (its weight in bits as points, its
    probability as score), or by the hand-set points when configured so."""
    if cfg.matcher == "points":
        return score(f, other, cfg, common, household)
    m = compare(model, f, other, busy, household, family)
    if not m.beyond:  # a name (and town) alone: found by the name, decided by nothing else
        decision = Decision.NONE
    elif m.probability >= cfg.link_probability:
        decision = Decision.LINK
    elif m.probability >= cfg.suggest_probability:
        decision = Decision.SUGGEST
    else:
        decision = Decision.NONE
    return Verdict(decision, m.weight, m.reasons, round(m.probability, 4), m.vouched)


def mean_weight(
    model: Model,
    f: Features,
    records: Any,
    feats: dict[int, Features],
    busy: set[str],
    family: set[str],
) -> float:
    """The average match weight of `f` against `records` (those with features)."""
    weights = [
        compare(model, f, feats[r], busy, False, family).weight
        for r in records
        if r in feats and feats[r] is not f
    ]
    return sum(weights) / len(weights) if weights else 0.0


def cross_weight(
    model: Model,
    mine: Any,
    theirs: Any,
    feats: dict[int, Features],
    busy: set[str],
    family: set[str],
) -> float:
    """The average match weight between two customers' records (average linkage): a record
    bridging two customers merges them only if they hold together as a whole."""
    weights = [
        compare(model, feats[a], feats[b], busy, False, family).weight
        for a in mine
        if a in feats
        for b in theirs
        if b in feats and b != a
    ]
    return sum(weights) / len(weights) if weights else 0.0


class ApartLinks:
    """The pairs of records a person kept apart (a split, a rejected suggestion), read once
    per batch when a merge first needs them."""

    def __init__(self, store: Candidates) -> None:
        self.store = store
        self.pairs: list[tuple[int, int]] | None = None
        self.stored: dict[int, int | None] = {}  # record -> its customer before this batch

    def load(self) -> list[tuple[int, int]]:
        if self.pairs is None:
            self.pairs = self.store.apart_pairs()
            self.stored = self.store.record_customers({r for pair in self.pairs for r in pair})
        return self.pairs

    def between(
        self, a: int, b: int, cust_of: dict[int, int | None], find: Callable[[int], int]
    ) -> bool:
        """Whether customers `a` and `b` (as merged so far) hold two records kept apart."""
        pairs = self.load()
        if not pairs:
            return False

        def now(rid: int) -> int | None:
            cid = cust_of.get(rid)
            if cid is None:
                cid = self.stored.get(rid)
            return None if cid is None else find(cid)

        for ra, rb in pairs:
            ca, cb = now(ra), now(rb)
            if (ca == a and cb == b) or (ca == b and cb == a):
                return True
        return False


@dataclass
class Decided:
    """What `decide` found: the batch resolved, and identifiers newly found to be junk."""

    resolved: Resolved
    junk: list[tuple[str, str, int]]  # (kind, value, records) to flag in the store


def decide(
    store: Candidates,
    cfg: MatchConfig,
    model: Model,
    junk_seen: set[Key],
    t: Triage,
    new_customer_id: Callable[[int | None], int],
    now: int,
    actor: str,
) -> Decided:
    """Resolve the records of `t` (see the module docstring); `junk_seen` (identifiers known
    to be junk) grows with those this batch finds; `new_customer_id(hint)` makes up the id
    of a customer a record starts. Counts go to `t.result`."""
    todo, feats, cust_of, result = t.todo, t.feats, t.cust_of, t.result
    # candidates: records of this batch (found here) and of the store holding one of its keys
    keys_of = [
        item.probe if item.probe is not None else probe_keys(item.features) for _rid, item in todo
    ]
    mine: dict[Key, list[int]] = {}
    for (rid, _item), keys in zip(todo, keys_of, strict=True):
        for key in keys:
            held = mine.get(key)
            if held is None:
                mine[key] = [rid]
            elif held[-1] != rid:
                held.append(rid)
    wanted = mine.keys() - junk_seen
    stored, counts = store.key_holders(
        wanted, cfg.junk_limit, cfg.block_limit, cfg.common_name_limit
    )
    # holders of the keys two or more records share (a key of one record finds nobody)
    holders: dict[Key, list[int]] = {}
    junk: list[tuple[str, str, int]] = []
    junk_limit, block_limit = cfg.junk_limit, cfg.block_limit
    for key in wanted:
        ours = mine[key]
        theirs = stored.get(key)
        n = counts[key] = counts.get(key, 0) + len(ours)
        if key[0] != "key":
            if n > junk_limit:
                junk_seen.add(key)
                junk.append((key[0], key[1], min(n, junk_limit + 1)))
                continue
        elif n > block_limit:
            continue
        if theirs:
            holders[key] = theirs + ours
        elif len(ours) > 1:
            holders[key] = ours
    others: set[int] = {r for ids in stored.values() for r in ids}
    others -= feats.keys()
    texts = {rid: item.features_json for rid, item in todo if item.features_json}
    for rid, (cid, f) in store.load_features(others, texts).items():
        feats[rid] = f
        cust_of[rid] = cid

    # the whole of every candidate customer, so a record joins a customer only if it
    # agrees with all of it (no chaining through a record with missing fields)
    profile: dict[int, Profile] = {}
    for cid, (dobs, firsts) in store.load_profiles(
        {c for c in cust_of.values() if c is not None}
    ).items():
        p = profile[cid] = Profile()
        p.dobs.update(dobs)
        p.firsts.update(firsts)
    merged_into: dict[int, int] = {}

    def find(cid: int) -> int:
        while cid in merged_into:
            cid = merged_into[cid]
        return cid

    if cfg.matcher != "points":
        names: dict[str, set[str]] = {"first_name": set(), "last_name": set()}
        for fe in feats.values():
            names["first_name"].add(fe.fk)
            names["last_name"].add(fe.lk)
        store.load_term_shares(model, names)
    busy = {key[1] for key, n in counts.items() if key[0] == "phone" and n > cfg.shared_phone_limit}
    family = family_emails(
        (key[1], [feats[r] for r in rids if r in feats])
        for key, rids in holders.items()
        if key[0] == "email"
    )
    if cfg.matcher != "points":  # a phone two people hold is a household's line
        busy |= family_emails(
            (key[1], [feats[r] for r in rids if r in feats])
            for key, rids in holders.items()
            if key[0] == "phone"
        )
    sizes = store.customer_sizes({c for c in cust_of.values() if c is not None})
    # every record of each candidate customer, so a record joins a customer only if the
    # match holds against the customer as a whole (average weight over its records)
    members: dict[int, list[int]] = {}
    for r, c in cust_of.items():
        if c is not None:
            members.setdefault(c, []).append(r)
    whole = cfg.matcher != "points"
    if whole:
        small = [c for c, n in sizes.items() if n <= cfg.review_size]
        missing = [(r, c) for r, c in store.customer_records(small) if r not in feats]
        for r, (_c, fe) in store.load_features({r for r, _c in missing}).items():
            feats[r] = fe
        for r, c in missing:
            if r in feats:
                members.setdefault(c, []).append(r)
    apart = ApartLinks(store)
    new_customers: set[int] = set()
    touched: set[int] = set()
    links, suggestions = [], []
    common_limit = cfg.common_name_limit
    for (rid, item), keys in zip(todo, keys_of, strict=True):
        f = item.features
        common = counts.get(("key", f"n:{f.lk}|{f.fk}"), 0) > common_limit
        candidates: set[int] = set()
        by_name = found_by_name(f)
        for key in keys:
            found = holders.get(key)  # none for junk and oversized blocks
            if found is not None and (by_name or not is_name_key(key)):
                candidates.update(found)
        candidates.discard(rid)
        best: dict[int, tuple[float, int, Verdict]] = {}
        if candidates:
            near = holders.get(("key", f"a:{f.postal or f.ck}|{f.sk}")) if f.sk else None
            household = near is not None and namesakes(
                f,
                [feats[o] for o in near if o != rid and o in feats],
                model.guards.get("namesakes", 1.0),
            )
            for other in candidates:
                ocid = cust_of.get(other)
                if ocid is None:
                    continue  # later in this batch: it will compare with us then
                v = verdict(cfg, model, f, feats[other], common, household, busy, family)
                decision = v.decision
                if decision is Decision.NONE:
                    continue
                pair = (rid, other) if rid < other else (other, rid)
                ocid = find(ocid)
                if decision is Decision.LINK:
                    clash = ""
                    if not whole and not v.vouched:
                        clash = profile.get(ocid, EMPTY).clash(f, cfg)
                    if not clash and sizes.get(ocid, 0) >= cfg.review_size:
                        clash = f"customer {ocid} has {sizes[ocid]} records (review)"
                    if not clash and whole:
                        mean = mean_weight(model, f, members.get(ocid, ()), feats, busy, family)
                        if mean < 0:
                            clash = f"an average weight of {mean:+.1f} against the records"
                    if clash:
                        why = f"{v.reason}, guard: {clash} elsewhere in customer {ocid}"
                        suggestions.append((pair[0], pair[1], v.score, why, now))
                    elif ocid not in best or best[ocid][0] < v.points:
                        best[ocid] = (v.points, other, v)
                else:
                    suggestions.append((pair[0], pair[1], v.score, v.reason, now))
        own = cust_of.get(rid)
        own = find(own) if own is not None else None
        targets = sorted(best.items(), key=lambda kv: -kv[1][0])
        if own is None and not targets:
            own = new_customer_id(item.customer_hint)
            new_customers.add(own)
        mine_profile = Profile()
        mine_profile.add(f)
        for cid, (_pts, other, v) in targets:
            if own is None:
                own = cid
            elif cid != own:
                if whole:
                    ours = members.get(own, [rid])
                    cross = cross_weight(model, ours, members.get(cid, ()), feats, busy, family)
                    conflict = (
                        ""
                        if cross >= 0
                        else f"do not hold together (average weight {cross:+.1f} between them)"
                    )
                elif profile.get(own, mine_profile).conflicts(profile.get(cid, EMPTY), cfg):
                    conflict = "disagree on birth date or first name"  # the hand-set points
                else:
                    conflict = ""
                if not v.vouched and conflict:
                    suggestions.append(
                        (
                            min(rid, other),
                            max(rid, other),
                            v.score,
                            (f"{v.reason}, guard: customers {own} and {cid}: {conflict}"),
                            now,
                        )
                    )
                    continue
                if apart.between(own, cid, cust_of, find):
                    continue
                keep, gone = (own, cid) if own < cid else (cid, own)
                if sizes.get(keep, 0) + sizes.get(gone, 0) > cfg.review_size:
                    suggestions.append(
                        (
                            min(rid, other),
                            max(rid, other),
                            v.score,
                            (
                                f"{v.reason}, guard: customers {own} and {cid} together "
                                f"would hold more than {cfg.review_size} records (review)"
                            ),
                            now,
                        )
                    )
                    continue
                merged_into[gone] = keep
                sizes[keep] = sizes.get(keep, 0) + sizes.pop(gone, 0)
                members.setdefault(keep, []).extend(members.pop(gone, ()))
                joined = profile.setdefault(keep, Profile())
                joined.update(profile.pop(gone, EMPTY))
                if gone not in new_customers:
                    result.auto_merges += 1
                own = keep
            links.append((min(rid, other), max(rid, other), "auto", v.score, v.reason, actor, now))
        assert own is not None
        cust_of[rid] = own
        sizes[own] = sizes.get(own, 0) + 1
        members.setdefault(own, []).append(rid)
        profile.setdefault(own, Profile()).add(f)
        touched.add(own)
    # settle: final customer of every record we looked at
    final = {rid: find(c) for rid, c in cust_of.items() if c is not None}
    absorbed = {c: find(c) for c in merged_into}
    touched = {find(c) for c in touched}
    result.customers_created = len({c for c in touched if c in new_customers})
    assign = {rid: final[rid] for rid, _item in todo}
    live = [s for s in suggestions if final.get(s[0]) != final.get(s[1])]
    result.suggestions = len(live)
    records = [
        Record(
            rid,
            item.source,
            item.source_id,
            item.stored_fields(),
            item.at,
            item.features,
            item.features_json,
            rid in t.new_ids,
            item.idents,
            item.blocks,
        )
        for rid, item in todo
    ]
    resolved = Resolved(
        records, assign, touched, new_customers, absorbed, feats, links, live, texts
    )
    return Decided(resolved, junk)


def golden_members(
    r: Resolved,
    stored: Iterable[tuple[int, int, str, str, int]],
    gone: dict[int, int],
    load: Callable[[list[int]], dict[int, Features]],
) -> dict[int, list[Member]]:
    """The records of every customer `r` touched, by customer (ascending record id), for
    their golden profiles: `stored` (record id, customer id, source, source id, at) of
    those in the store under their customer before the batch's merges (`gone`: absorbed
    -> kept), then the batch's own; `load(record ids)` reads features `r` lacks."""
    meta: dict[int, tuple[int, str, str, int]] = {}
    for rid, cid, source, sid, at in stored:
        meta[rid] = (gone.get(cid, cid), source, sid, at)
    for rec in r.records:
        meta[rec.record_id] = (r.assign[rec.record_id], rec.source, rec.source_id, rec.at)
    missing = [rid for rid in meta if rid not in r.feats]
    loaded = load(missing) if missing else {}
    members: dict[int, list[Member]] = defaultdict(list)
    for rid in sorted(meta):
        cid, source, sid, at = meta[rid]
        f = r.feats.get(rid) or loaded.get(rid)
        if f is not None and cid in r.touched:
            members[cid].append(Member(rid, source, sid, at, f))
    return members
