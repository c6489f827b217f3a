"""Merging the customers of open suggestions that a newly trained model links (the decision
is `backends.identity.relink`'s; this module reads and writes the store)."""

from __future__ import annotations

import sqlite3

from backends.identity.config import MatchConfig
from backends.identity.model import Model
from backends.identity.relink import decide_relink, revisitable
from backends.sqlite.identity import operations
from backends.sqlite.identity import store as st
from backends.sqlite.identity.model_store import load_term_shares


def relink(db: sqlite3.Connection, cfg: MatchConfig, model: Model, now: int, actor: str) -> int:
    """Score the open suggestions again with `model` and merge the customers of those that
    now link (journaled merges, undone like any other). Returns how many merged."""
    rows = db.execute(
        "SELECT s.record_a, s.record_b, s.reason FROM identity_suggestions s "
        "JOIN source_records ra ON ra.id = s.record_a JOIN source_records rb ON rb.id = s.record_b "
        "WHERE s.status = 'open' AND ra.customer_id <> rb.customer_id ORDER BY s.score DESC"
    ).fetchall()
    rows = [(a, b) for a, b, reason in rows if revisitable(reason)]
    if not rows:
        return 0
    apart = st.apart_pairs(db)
    owner = st.record_customers(db, {r for pair in rows + apart for r in pair})
    customers = {c for c in owner.values() if c is not None}
    members: dict[int, list[int]] = {}
    for rid, cid in st.customer_records(db, customers):
        members.setdefault(cid, []).append(rid)
    wanted = {r for m in members.values() for r in m}
    feats = {rid: f for rid, (_c, f) in st.load_features(db, wanted).items()}
    names: dict[str, set[str]] = {"first_name": set(), "last_name": set()}
    for f in feats.values():
        names["first_name"].add(f.fk)
        names["last_name"].add(f.lk)
    load_term_shares(db, model, names)
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
    for a, b in rows:
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
        operations.merge(
            db,
            cfg,
            now,
            actor,
            keep,
            gone,
            f"match model version {model.version}: probability {p:.4f}",
        )
        merged_into[gone] = keep
        members.setdefault(keep, []).extend(members.pop(gone, ()))
        done += 1
    return done
