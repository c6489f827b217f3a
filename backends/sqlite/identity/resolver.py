"""Incremental clustering: each new or changed source record is matched against its
candidates (records sharing an identifier or a blocking key), never against everything.

A `Resolver` works inside the caller's write transaction, one batch at a time:
it finds candidates (in the batch itself, in memory; in the store, with a few
set-based queries), decides links record by record in file order, merges
clusters a record bridges, then has `writer` store the records, the merges
(journaled) and the golden profile of every customer it touched. The same code
resolves a record or a million of them: only the batch size differs.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.guards import EMPTY, Profile, namesakes
from backends.identity.keys import probe_keys
from backends.identity.matching import Decision, Verdict, score
from backends.identity.model import Model, compare, family_emails
from backends.sqlite.identity import store as st
from backends.sqlite.identity.model_store import load_model, load_term_shares
from backends.sqlite.identity.writer import Record, Resolved, identity_rows, write_batch

__all__ = ["Incoming", "Resolver", "identity_rows", "probe_keys"]


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
            self.fields_json = st.dumps(self.fields)
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


class Resolver:
    """Stores and resolves batches of source records in the caller's transaction."""

    def __init__(
        self,
        db: sqlite3.Connection,
        cfg: MatchConfig,
        now: int,
        actor: str = "import",
        spare_ids_from: int = 0,
    ) -> None:
        """`spare_ids_from`: new customers without a usable hint get ids above this (the
        demo keeps ids 1..N for its N people that way)."""
        self.db = db
        self.spare_ids_from = spare_ids_from
        self.cfg = cfg
        self.now = now
        self.actor = actor
        self.junk: set[tuple[str, str]] = {
            (r[0], r[1]) for r in db.execute("SELECT kind, value FROM identity_junk")
        }
        self._taken: set[int] = set()  # ids handed out in this batch (not in the table yet)
        self._top = 0
        self.workers: Any = None  # an import's `prepare.Workers`: golden profiles computed there
        self.model: Model = load_model(db)

    def _verdict(
        self,
        f: Features,
        other: Features,
        common: bool,
        household: bool,
        busy: set[str],
        family: set[str],
    ) -> Verdict:
        """The pair's verdict: by the match model (its weight in bits as points, its
        probability as score), or by the hand-set points when configured so."""
        cfg = self.cfg
        if cfg.matcher == "points":
            return score(f, other, cfg, common, household)
        m = compare(self.model, f, other, busy, household, family)
        if m.probability >= cfg.link_probability:
            decision = Decision.LINK
        elif m.probability >= cfg.suggest_probability:
            decision = Decision.SUGGEST
        else:
            decision = Decision.NONE
        return Verdict(decision, m.weight, m.reasons, round(m.probability, 4), m.vouched)

    def _new_customer_id(self, hint: int | None) -> int:
        """A fresh customer id: `hint` when it is free, else one past every id seen."""
        db = self.db
        if (
            hint
            and hint not in self._taken
            and db.execute("SELECT 1 FROM customers WHERE id = ?", (hint,)).fetchone() is None
        ):
            self._taken.add(hint)
            self._top = max(self._top, hint)
            return hint
        self._top += 1
        self._taken.add(self._top)
        return self._top

    def _mean_weight(
        self,
        f: Features,
        records: Any,
        feats: dict[int, Features],
        busy: set[str],
        family: set[str],
    ) -> float:
        """The average match weight of `f` against `records` (those with features)."""
        weights = [
            compare(self.model, f, feats[r], busy, False, family).weight
            for r in records
            if r in feats and feats[r] is not f
        ]
        return sum(weights) / len(weights) if weights else 0.0

    # -- one batch -----------------------------------------------------------------

    def add_batch(self, items: list[Incoming], import_id: int | None = None) -> BatchResult:
        """Store `items` (insert new, update changed) and resolve them."""
        db, result = self.db, BatchResult()
        self._taken = set()
        self._top = max(
            self.spare_ids_from,
            db.execute("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0],
        )
        latest: dict[tuple[str, str], Incoming] = {}
        for item in items:  # the same id twice in one batch: the last one wins
            item.features.source = item.source
            latest[(item.source, item.source_id)] = item
        existing = st.existing_records(db, list(latest))
        next_id = db.execute("SELECT coalesce(max(id), 0) FROM source_records").fetchone()[0]
        first_new = next_id  # records above this id are new in this batch
        feats: dict[int, Features] = {}
        cust_of: dict[int, int | None] = {}
        upd_rows, change_rows, todo = [], [], []
        for key, item in latest.items():
            fields_json = item.stored_fields()
            if key in existing:
                rid, old_json, cid = existing[key]
                if old_json == fields_json:
                    result.unchanged += 1
                    continue
                upd_rows.append((fields_json, item.at, rid))
                change_rows.append(
                    (
                        rid,
                        import_id or 0,
                        self.now,
                        json.dumps(
                            st.diff(json.loads(old_json), item.received()), ensure_ascii=False
                        ),
                    )
                )
                cust_of[rid] = cid
                result.updated += 1
            else:
                next_id += 1
                rid = next_id
                cust_of[rid] = None
                result.created += 1
            feats[rid] = item.features
            todo.append((rid, item))
        if not todo:
            return result
        if upd_rows:
            st.forget_keys(db, [r[2] for r in upd_rows])
            db.executemany(
                "UPDATE source_records SET fields = ?, updated_at = ? WHERE id = ?", upd_rows
            )
            db.executemany(
                "INSERT OR REPLACE INTO record_changes(record_id, import_id, at, changed) "
                "VALUES (?,?,?,?)",
                change_rows,
            )
        result.record_ids = [rid for rid, _ in todo]

        # candidates: records of this batch (found here) and of the store holding one of its keys
        keys_of = [
            item.probe if item.probe is not None else probe_keys(item.features)
            for _rid, item in todo
        ]
        mine: dict[tuple[str, str], list[int]] = {}
        for (rid, _item), keys in zip(todo, keys_of, strict=True):
            for key in keys:
                held = mine.get(key)
                if held is None:
                    mine[key] = [rid]
                elif held[-1] != rid:
                    held.append(rid)
        cfg = self.cfg
        wanted = mine.keys() - self.junk
        stored, counts = st.key_holders(
            db, wanted, cfg.junk_limit, cfg.block_limit, cfg.common_name_limit
        )
        # holders of the keys two or more records share (a key of one record finds nobody)
        holders: dict[tuple[str, str], list[int]] = {}
        junk: list[tuple[str, str, int]] = []
        junk_limit, block_limit = cfg.junk_limit, cfg.block_limit
        for key in wanted:
            ours = mine[key]
            theirs = stored.get(key)
            n = counts[key] = counts.get(key, 0) + len(ours)
            if key[0] != "key":
                if n > junk_limit:
                    self.junk.add(key)
                    junk.append((key[0], key[1], min(n, junk_limit + 1)))
                    continue
            elif n > block_limit or key[1].startswith("n:"):
                continue
            if theirs:
                holders[key] = theirs + ours
            elif len(ours) > 1:
                holders[key] = ours
        if junk:
            db.executemany(
                "INSERT OR REPLACE INTO identity_junk(kind, value, records) VALUES (?,?,?)", junk
            )
        others: set[int] = {r for ids in stored.values() for r in ids}
        others -= feats.keys()
        texts = {rid: item.features_json for rid, item in todo if item.features_json}
        for rid, (cid, f) in st.load_features(db, others, texts).items():
            feats[rid] = f
            cust_of[rid] = cid

        # the whole of every candidate customer, so a record joins a customer only if it
        # agrees with all of it (no chaining through a record with missing fields)
        profile: dict[int, Profile] = {}
        for cid, (dobs, firsts) in st.load_profiles(
            db, {c for c in cust_of.values() if c is not None}
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
            load_term_shares(db, self.model, names)
        busy = {
            key[1] for key, n in counts.items() if key[0] == "phone" and n > cfg.shared_phone_limit
        }
        family = family_emails(
            (key[1], [feats[r] for r in rids if r in feats])
            for key, rids in holders.items()
            if key[0] == "email"
        )
        sizes = st.customer_sizes(db, {c for c in cust_of.values() if c is not None})
        # every record of each candidate customer, so a record joins a customer only if the
        # match holds against the customer as a whole (average weight over its records)
        members: dict[int, list[int]] = {}
        for r, c in cust_of.items():
            if c is not None:
                members.setdefault(c, []).append(r)
        whole = cfg.matcher != "points"
        if whole:
            small = [c for c, n in sizes.items() if n <= cfg.review_size]
            missing = [(r, c) for r, c in st.customer_records(db, small) if r not in feats]
            for r, (_c, fe) in st.load_features(db, {r for r, _c in missing}).items():
                feats[r] = fe
            for r, c in missing:
                if r in feats:
                    members.setdefault(c, []).append(r)
        apart = st.ApartLinks(db)
        new_customers: set[int] = set()
        touched: set[int] = set()
        links, suggestions = [], []
        common_limit = cfg.common_name_limit
        for (rid, item), keys in zip(todo, keys_of, strict=True):
            f = item.features
            common = counts.get(("key", f"n:{f.lk}|{f.fk}"), 0) > common_limit
            candidates: set[int] = set()
            for key in keys:
                found = holders.get(key)  # none for junk, oversized blocks and name keys
                if found is not None:
                    candidates.update(found)
            candidates.discard(rid)
            best: dict[int, tuple[float, int, Verdict]] = {}
            if candidates:
                near = holders.get(("key", f"a:{f.postal or f.ck}|{f.sk}")) if f.sk else None
                household = near is not None and namesakes(
                    f, [feats[o] for o in near if o != rid and o in feats]
                )
                for other in candidates:
                    ocid = cust_of.get(other)
                    if ocid is None:
                        continue  # later in this batch: it will compare with us then
                    v = self._verdict(f, feats[other], common, household, busy, family)
                    decision = v.decision
                    if decision is Decision.NONE:
                        continue
                    pair = (rid, other) if rid < other else (other, rid)
                    ocid = find(ocid)
                    if decision is Decision.LINK:
                        clash = "" if v.vouched else profile.get(ocid, EMPTY).clash(f, cfg)
                        if not clash and sizes.get(ocid, 0) >= cfg.review_size:
                            clash = f"customer {ocid} has {sizes[ocid]} records (review)"
                        if not clash and whole:
                            mean = self._mean_weight(f, members.get(ocid, ()), feats, busy, family)
                            if mean < 0:
                                clash = f"an average weight of {mean:+.1f} against the records"
                        if clash:
                            why = f"{v.reason}, guard: {clash} elsewhere in customer {ocid}"
                            suggestions.append((pair[0], pair[1], v.score, why, self.now))
                        elif ocid not in best or best[ocid][0] < v.points:
                            best[ocid] = (v.points, other, v)
                    else:
                        suggestions.append((pair[0], pair[1], v.score, v.reason, self.now))
            own = cust_of.get(rid)
            own = find(own) if own is not None else None
            targets = sorted(best.items(), key=lambda kv: -kv[1][0])
            if own is None and not targets:
                own = self._new_customer_id(item.customer_hint)
                new_customers.add(own)
            mine_profile = Profile()
            mine_profile.add(f)
            for cid, (_pts, other, v) in targets:
                if own is None:
                    own = cid
                elif cid != own:
                    their_profile = profile.get(cid, EMPTY)
                    if not v.vouched and profile.get(own, mine_profile).conflicts(
                        their_profile, self.cfg
                    ):
                        suggestions.append(
                            (
                                min(rid, other),
                                max(rid, other),
                                v.score,
                                (
                                    f"{v.reason}, guard: customers {own} and {cid} "
                                    "disagree on birth date or first name"
                                ),
                                self.now,
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
                                self.now,
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
                links.append(
                    (
                        min(rid, other),
                        max(rid, other),
                        "auto",
                        v.score,
                        v.reason,
                        self.actor,
                        self.now,
                    )
                )
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
        new_final = {c for c in touched if c in new_customers}
        result.customers_created = len(new_final)
        assign = {rid: final[rid] for rid, _item in todo}
        live = [s for s in suggestions if final.get(s[0]) != final.get(s[1])]
        result.suggestions = len(live)
        write_batch(
            db,
            self.cfg,
            self.now,
            self.actor,
            Resolved(
                records=[
                    Record(
                        rid,
                        item.source,
                        item.source_id,
                        item.stored_fields(),
                        item.at,
                        item.features,
                        item.features_json,
                        rid > first_new,
                        item.idents,
                        item.blocks,
                    )
                    for rid, item in todo
                ],
                assign=assign,
                touched=touched,
                new_customers=new_customers,
                absorbed=absorbed,
                feats=feats,
                links=links,
                suggestions=live,
                texts=texts,
            ),
            self.workers,
        )
        return result
