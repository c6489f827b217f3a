"""The pairs a benchmark run got wrong, with what the store's match model made of them.

    python bench/identity/missed.py DIR/febrl1 [--show 20]

DIR is a `run.py --keep DIR` directory; the argument names one data set's store (`vista.db`
in a FEBRL set's folder, or `generated-it.db`). Prints the missed pairs (one person, two
customers) and the false pairs (two people, one customer), counted by their comparison
levels, and a few of each with the model's weight and reasons.
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
from collections import Counter
from itertools import combinations
from pathlib import Path

from backends.identity.keys import probe_keys
from backends.identity.model import COMPARISONS, MISSING, compare, gamma
from backends.sqlite.identity import store as st
from backends.sqlite.identity.model_store import load_model, load_term_shares


def _paths(target: Path) -> tuple[Path, Path]:
    """(store, truth) of a data set named by its folder or its store."""
    if target.is_dir():
        return target / "vista.db", target / "truth.csv"
    name = target.name.removesuffix(".db")
    return target, target.parent / f"gen-{name.removeprefix('generated-')}" / "truth.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", type=Path)
    parser.add_argument("--show", type=int, default=15)
    args = parser.parse_args()
    db_path, truth_path = _paths(args.target)
    db = sqlite3.connect(db_path)
    person: dict[tuple[str, str], str] = {}
    with open(truth_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            person[(row["source"], row["source_id"])] = row["person"]
    ids = {
        (s, sid): rid
        for rid, s, sid in db.execute("SELECT id, source, source_id FROM source_records")
    }
    feats = {rid: f for rid, (_c, f) in st.load_features(db, ids.values()).items()}
    cust = {rid: c for rid, (c, _f) in st.load_features(db, ids.values()).items()}
    model = load_model(db)
    names: dict[str, set[str]] = {"first_name": set(), "last_name": set()}
    for fe in feats.values():
        names["first_name"].add(fe.fk)
        names["last_name"].add(fe.lk)
    load_term_shares(db, model, names)
    by_person: dict[str, list[int]] = {}
    for key, rid in ids.items():
        by_person.setdefault(person.get(key, f"?{rid}"), []).append(rid)
    missed = [
        (a, b)
        for rids in by_person.values()
        for a, b in combinations(rids, 2)
        if cust[a] != cust[b]
    ]
    by_cust: dict[int, list[int]] = {}
    for rid, c in cust.items():
        by_cust.setdefault(c, []).append(rid)
    rev = {rid: key for key, rid in ids.items()}
    false = [
        (a, b)
        for rids in by_cust.values()
        for a, b in combinations(rids, 2)
        if person.get(rev[a]) != person.get(rev[b])
    ]
    print(f"model version {model.version}, prior {model.prior:.2e}")
    keys = {rid: set(probe_keys(f)) for rid, f in feats.items()}
    held: Counter[tuple[str, str]] = Counter(k for ks in keys.values() for k in ks)
    kinds: Counter[str] = Counter()
    for a, b in missed:
        shared = {k for k in keys[a] & keys[b] if held[k] <= 60 and not k[1].startswith("n:")}
        p = compare(model, feats[a], feats[b]).probability
        kinds[
            f"{'blocked' if shared else 'not compared'}, p {'>= 0.99' if p >= 0.99 else '>= 0.5' if p >= 0.5 else '< 0.5'}"
        ] += 1
    for kind, n in kinds.most_common():
        print(f"  missed, {kind}: {n}")
    for title, pairs in (("missed", missed), ("false", false)):
        print(f"\n{title}: {len(pairs)} pairs")
        patterns: Counter[str] = Counter()
        for a, b in pairs:
            g = gamma(feats[a], feats[b])
            patterns[
                " ".join(
                    f"{c[:5]}={v}" for c, v in zip(COMPARISONS, g, strict=True) if v != MISSING
                )
            ] += 1
        for pattern, n in patterns.most_common(12):
            print(f"  {n:5d}  {pattern}")
        if title == "missed":
            pairs = [
                (a, b)
                for a, b in pairs
                if compare(model, feats[a], feats[b]).probability >= 0.99
                and {k for k in keys[a] & keys[b] if held[k] <= 60 and not k[1].startswith("n:")}
            ]
        for a, b in pairs[: args.show]:
            fa, fb = feats[a], feats[b]
            m = compare(model, fa, fb)
            print(
                f"  {rev[a]} / {rev[b]}: p={m.probability:.3f} w={m.weight:+.1f}\n"
                f"    {fa.fk} {fa.lk} {fa.dob} {fa.sk} {fa.postal} {fa.ck} {fa.loyalty_card}"
                f" {fa.emails} {fa.phones}\n"
                f"    {fb.fk} {fb.lk} {fb.dob} {fb.sk} {fb.postal} {fb.ck} {fb.loyalty_card}"
                f" {fb.emails} {fb.phones}\n    {m.reason}"
            )


if __name__ == "__main__":
    main()
