"""Writing a resolved batch: its records with their customer, their identifiers and keys,
merges of existing customers (journaled), and the golden profile and search row of
every customer the batch touched.

A new customer is inserted once, complete with its golden profile, and its
records point at it from the start. In a big import the profiles are computed by
worker processes while the records, identifiers and keys are written here (the
records' foreign key to their new customer is checked at commit). Every
statement is set-based (`executemany` or `IN` lists) and runs in the caller's
write transaction; an FTS row is rewritten only when its text changed.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from backends import link_reasons
from backends import provenance as provenance_text
from backends.identity import review
from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.golden import GoldenRow, compute_golden, golden_jobs
from backends.identity.jsontext import dumps
from backends.identity.keys import identity_values
from backends.identity.resolve import Resolved, golden_members
from backends.identity.survivorship import Member
from backends.sqlite import record_shapes
from backends.sqlite.identity import store as st
from backends.sqlite.identity.encoding import index_order, key_code, stored_raw


def identity_rows(
    record_id: int, source: str, source_id: str, f: Features
) -> list[tuple[Any, ...]]:
    """The `identities` rows of a record (normalised value and a raw form)."""
    return [
        (record_id, kind, value, raw) for kind, value, raw in identity_values(source, source_id, f)
    ]


def write_batch(
    db: sqlite3.Connection, cfg: MatchConfig, now: int, actor: str, r: Resolved, workers: Any = None
) -> None:
    """Apply a resolved batch (see the module docstring).

    `workers` (an import's `prepare.Workers`): the golden profiles are computed there
    while the records, identifiers and keys are written here.
    """
    fresh = r.touched & r.new_customers
    old = sorted(r.touched - r.new_customers)
    existing_gone = [(g, k) for g, k in r.absorbed.items() if g not in r.new_customers]
    gone = dict(existing_gone)
    members = golden_members(
        r,
        _stored_members(db, old + sorted(gone)),
        gone,
        lambda missing: {rid: f for rid, (_c, f) in st.load_features(db, missing, r.texts).items()},
    )
    previous, orders = golden_context(db, old, gone)
    # a new customer that an existing one merges into must exist before the merge
    early = workers is None or any(keep in fresh for keep in gone.values())
    if early:
        rows = compute_golden(cfg, now, golden_jobs(members, previous, orders))
        insert_customers(db, now, [row for row in rows if row.customer_id in fresh])
    else:
        pending = workers.golden(
            golden_jobs(members, previous, orders, portable=True, texts=r.texts)
        )
        db.execute("PRAGMA defer_foreign_keys = ON")  # records come before their new customer
    new = [rec for rec in r.records if rec.new]
    db.executemany(
        "INSERT INTO source_records(id, source, source_id, customer_id, fields, shape, "
        "received_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                rec.record_id,
                rec.source,
                rec.source_id,
                r.assign[rec.record_id],
                *kept,
                rec.at,
                rec.at,
            )
            for rec, kept in zip(
                new,
                record_shapes.encode(db, [(rec.fields_json, rec.source_id) for rec in new]),
                strict=True,
            )
        ],
    )
    db.executemany(
        "INSERT INTO record_features(record_id, features) VALUES (?,?)",
        [(rec.record_id, rec.features_json or dumps(rec.features.to_json())) for rec in r.records],
    )
    # in index order: each index page is visited once, not once per row
    idents: list[tuple[str, str, int, str]] = []
    keys: list[tuple[int | str, int]] = []
    for rec in r.records:
        rid = rec.record_id
        values = rec.idents
        if values is None:
            values = identity_values(rec.source, rec.source_id, rec.features)
        own = f"{rec.source}:{rec.source_id}"
        idents += [
            (kind, value, rid, stored_raw(kind, value, raw, rec.source_id))
            for kind, value, raw in values
            if value != own or kind != "external_id"
        ]
        keys += [
            (key_code(k), rid)
            for k in (rec.blocks if rec.blocks is not None else rec.features.block_keys())
        ]
    idents.sort()
    db.executemany(
        "INSERT OR IGNORE INTO identities(kind, value, record_id, raw) VALUES (?,?,?,?)", idents
    )
    keys.sort(key=index_order)
    db.executemany("INSERT OR IGNORE INTO match_keys(key, record_id) VALUES (?,?)", keys)
    if not early:
        rows = [row for future in pending for row in future.result()]
        insert_customers(db, now, [row for row in rows if row.customer_id in fresh])
    changes: list[tuple[int, str]] = []
    for gone_id, keep in existing_gone:
        moved = [
            x
            for (x,) in db.execute(
                "SELECT id FROM source_records WHERE customer_id = ?", (gone_id,)
            )
        ]
        snapshot = st.snapshot_of(db, gone_id)
        st.move_customer_data(db, gone_id, keep)
        st.journal(
            db,
            review.journal_row(
                now,
                actor,
                "auto-merge",
                keep,
                gone_id,
                moved,
                "linked by an imported record",
                snapshot,
            ),
        )
        changes.append((gone_id, "merged"))
    db.executemany(
        "UPDATE source_records SET customer_id = ? WHERE id = ? AND customer_id IS NOT ?",
        [
            (r.assign[rec.record_id], rec.record_id, r.assign[rec.record_id])
            for rec in r.records
            if not rec.new
        ],
    )
    store_golden(db, rows, [row for row in rows if row.customer_id not in fresh])
    changes += [
        (cid, "created" if cid in r.new_customers else "updated") for cid in sorted(r.touched)
    ]
    st.log_change(db, now, changes, actor)
    if r.links:
        db.executemany(
            "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            [(*link[:4], link_reasons.pack(link[4]), *link[5:]) for link in r.links],
        )
    if r.suggestions:
        db.executemany(
            "INSERT OR IGNORE INTO identity_suggestions(record_a, record_b, score, "
            "reason, created_at) VALUES (?,?,?,?,?)",
            [(*s[:3], link_reasons.pack(s[3]), *s[4:]) for s in r.suggestions],
        )


def _stored_members(
    db: sqlite3.Connection, customer_ids: list[int]
) -> Iterable[tuple[int, int, str, str, int]]:
    for part in st.chunks(customer_ids):
        marks = ",".join("?" * len(part))
        for row in db.execute(
            f"SELECT id, customer_id, source, source_id, updated_at FROM source_records "
            f"WHERE customer_id IN ({marks})",
            part,
        ):
            yield tuple(row)  # type: ignore[misc]


_UPDATE = (
    "UPDATE customers SET first_name = ?, last_name = ?, emails = ?, phones = ?, addresses = ?, "
    "birth_date = ?, language = coalesce(nullif(?, ''), language), "
    "segment = coalesce(nullif(?, ''), segment), tier = coalesce(nullif(?, ''), tier), "
    "consents = json_patch(consents, ?), provenance = ?, updated_at = ?, created_at = min(created_at, ?), version = version + 1 "
    "WHERE id = ?"
)
#: A customer created by this batch gets the row `_UPDATE` would leave on a blank one.
_INSERT = (
    "INSERT INTO customers(first_name, last_name, emails, phones, addresses, birth_date, "
    "language, segment, tier, consents, provenance, updated_at, created_at, id, version) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,min(?, ?),?,2)"
)


def insert_customers(db: sqlite3.Connection, now: int, rows: list[GoldenRow]) -> None:
    """Create customers with their golden profile (search and profile rows come later)."""
    db.executemany(_INSERT, [(*row.update[:12], now, *row.update[12:]) for row in rows])


def store_golden(db: sqlite3.Connection, rows: list[GoldenRow], stored: list[GoldenRow]) -> None:
    """Write golden profiles: `stored` are customers that existed (updated, search row
    replaced if it changed); the others of `rows` were just inserted (search row added)."""
    db.executemany(_UPDATE, [row.update for row in stored])
    # an FTS row is rewritten token by token: leave those that did not change alone
    same: set[int] = set()
    if stored:
        wanted = {row.customer_id: row.search for row in stored}
        for part in st.chunks(sorted(wanted)):
            marks = ",".join("?" * len(part))
            for old in db.execute(
                f"SELECT rowid, name, emails, phones, orders FROM "
                f"customer_search WHERE rowid IN ({marks})",
                part,
            ):
                if tuple(old) == wanted[old[0]]:
                    same.add(old[0])
        for part in st.chunks(sorted(wanted.keys() - same)):
            marks = ",".join("?" * len(part))
            db.execute(f"DELETE FROM customer_search WHERE rowid IN ({marks})", part)
    db.executemany(
        "INSERT INTO customer_search(rowid, name, emails, phones, orders) VALUES (?,?,?,?,?)",
        [row.search for row in rows if row.customer_id not in same],
    )
    db.executemany(
        "INSERT OR REPLACE INTO identity_profiles(customer_id, dobs, firsts) VALUES (?,?,?)",
        [row.profile for row in rows],
    )


def golden_context(
    db: sqlite3.Connection, old_ids: list[int], gone: dict[int, int]
) -> tuple[dict[int, tuple[dict[str, Any], dict[str, Any]]], dict[int, list[str]]]:
    """(agent-corrected provenance and values, order numbers) of stored customers `old_ids`,
    counting the orders of customers `gone` merges into them (`gone`: absorbed -> keep)."""
    previous: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for part in st.chunks(old_ids):
        marks = ",".join("?" * len(part))
        for row in db.execute(
            f"SELECT id, provenance, first_name, last_name, birth_date, language, "
            f"tier, segment, consents FROM customers WHERE id IN ({marks}) "
            f"AND provenance LIKE '%agent:%'",
            part,
        ):
            previous[row[0]] = (provenance_text.loads(row[1]), dict(row))
    for part in st.chunks(sorted([*old_ids, *gone])):
        marks = ",".join("?" * len(part))
        for number, cid, at in db.execute(
            f"SELECT number, customer_id, at FROM orders WHERE customer_id IN ({marks})", part
        ):
            found[gone.get(cid, cid)].append((at, number))
    return previous, {cid: [n for _at, n in sorted(v)] for cid, v in found.items()}


def golden_rows(
    db: sqlite3.Connection,
    cfg: MatchConfig,
    now: int,
    members: dict[int, list[Member]],
    old_ids: list[int],
) -> list[GoldenRow]:
    """The golden profile of each customer in `members` (ascending id); `old_ids`: those
    already stored, whose agent corrections and order numbers are read from the store."""
    previous, orders = golden_context(db, old_ids, {})
    return compute_golden(cfg, now, golden_jobs(members, previous, orders))


def rebuild(
    db: sqlite3.Connection,
    cfg: MatchConfig,
    now: int,
    customer_ids: Iterable[int],
    feats: dict[int, Features] | None = None,
) -> None:
    """Recompute the golden profile and search row of existing customers from their records."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    feats = feats or {}
    meta = list(_stored_members(db, ids))
    missing = [m[0] for m in meta if m[0] not in feats]
    loaded = {rid: f for rid, (_c, f) in st.load_features(db, missing).items()} if missing else {}
    members: dict[int, list[Member]] = defaultdict(list)
    for rid, cid, source, sid, at in sorted(meta):
        f = feats.get(rid) or loaded.get(rid)
        if f is not None:
            members[cid].append(Member(rid, source, sid, at, f))
    rows = golden_rows(db, cfg, now, members, ids)
    store_golden(db, rows, rows)
