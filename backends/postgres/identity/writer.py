"""Writing a resolved batch to PostgreSQL: its records with their customer, their
identifiers and keys, merges of existing customers (journaled), and the golden profile,
search row and guard profile of every customer the batch touched.

Bulk rows go in with COPY (records, features, keys) or one pipelined statement per kind;
the golden profiles are computed meanwhile by the import's worker processes when it has
them. Everything runs in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from backends import provenance
from backends.identity import review
from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.golden import GoldenRow, compute_golden, golden_jobs
from backends.identity.jsontext import dumps
from backends.identity.keys import identity_values
from backends.identity.resolve import Resolved, golden_members
from backends.identity.survivorship import Member
from backends.postgres.identity import store as st

Conn = Any

_UPDATE = (
    "UPDATE customers SET first_name = %s, last_name = %s, emails = %s, phones = %s, "
    "addresses = %s, birth_date = %s, language = coalesce(nullif(%s, ''), language), "
    "segment = coalesce(nullif(%s, ''), segment), tier = coalesce(nullif(%s, ''), tier), "
    "consents = (consents::jsonb || %s::jsonb)::text, provenance = %s, updated_at = %s, "
    "created_at = least(created_at, %s), version = version + 1 WHERE id = %s"
)
#: A customer created by this batch gets the row `_UPDATE` would leave on a blank one.
_INSERT = (
    "COPY customers(first_name, last_name, emails, phones, addresses, birth_date, language, "
    "segment, tier, consents, provenance, updated_at, created_at, id, version) FROM STDIN"
)


def _many(db: Conn, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        with db.cursor() as cur:
            cur.executemany(sql, rows)


def _copy(db: Conn, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with db.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def write_batch(
    db: Conn, cfg: MatchConfig, now: int, actor: str, r: Resolved, workers: Any = None
) -> None:
    """Apply a resolved batch (see the module docstring). `workers`: an import's
    `prepare.Workers`, which compute the golden profiles while the rows are written."""
    fresh = r.touched & r.new_customers
    old = sorted(r.touched - r.new_customers)
    existing_gone = [(g, k) for g, k in r.absorbed.items() if g not in r.new_customers]
    gone = dict(existing_gone)
    members = golden_members(
        r,
        _stored_members(db, old + sorted(gone)),
        gone,
        lambda missing: {
            rid: f for rid, (_c, f) in st.PgCandidates(db).load_features(missing, r.texts).items()
        },
    )
    previous, orders = golden_context(db, old, gone)
    pending = None
    if workers is None:
        rows = compute_golden(cfg, now, golden_jobs(members, previous, orders))
    else:
        pending = workers.golden(
            golden_jobs(members, previous, orders, portable=True, texts=r.texts)
        )
    _copy(
        db,
        "COPY source_records(id, source, source_id, customer_id, fields, received_at, "
        "updated_at) FROM STDIN",
        (
            (
                rec.record_id,
                rec.source,
                rec.source_id,
                r.assign[rec.record_id],
                rec.fields_json,
                rec.at,
                rec.at,
            )
            for rec in r.records
            if rec.new
        ),
    )
    _copy(
        db,
        "COPY record_features(record_id, features) FROM STDIN",
        ((rec.record_id, rec.features_json or dumps(rec.features.to_json())) for rec in r.records),
    )
    idents: set[tuple[int, str, str, str]] = set()
    keys: set[tuple[str, int]] = set()
    for rec in r.records:
        rid = rec.record_id
        values = rec.idents
        if values is None:
            values = identity_values(rec.source, rec.source_id, rec.features)
        seen: set[tuple[str, str]] = set()
        for kind, value, raw in values:
            if (kind, value) not in seen:  # the first raw form of a value, as SQLite keeps
                seen.add((kind, value))
                idents.add((rid, kind, value, raw))
        keys.update(
            (k, rid) for k in (rec.blocks if rec.blocks is not None else rec.features.block_keys())
        )
    _copy(db, "COPY identities(record_id, kind, value, raw) FROM STDIN", sorted(idents))
    _copy(db, "COPY match_keys(key, record_id) FROM STDIN", sorted(keys))
    if pending is not None:
        rows = [row for future in pending for row in future.result()]
    _copy(
        db,
        _INSERT,
        (
            (*row.update[:12], min(now, row.update[12]), row.update[13], 2)
            for row in rows
            if row.customer_id in fresh
        ),
    )
    changes: list[tuple[int, str]] = []
    for gone_id, keep in existing_gone:
        moved = [
            x
            for (x,) in db.execute(
                "SELECT id FROM source_records WHERE customer_id = %s ORDER BY id", (gone_id,)
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
    _many(
        db,
        "UPDATE source_records SET customer_id = %s WHERE id = %s "
        "AND customer_id IS DISTINCT FROM %s",
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
    _many(
        db,
        "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
        "created_at) VALUES (%s,%s,%s,%s,%s,%s,%s)",
        r.links,
    )
    _many(
        db,
        "INSERT INTO identity_suggestions(record_a, record_b, score, reason, created_at) "
        "VALUES (%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
        r.suggestions,
    )


def _stored_members(db: Conn, customer_ids: list[int]) -> list[tuple[int, int, str, str, int]]:
    if not customer_ids:
        return []
    return [
        (r[0], r[1], r[2], r[3], r[4])
        for r in db.execute(
            "SELECT id, customer_id, source, source_id, updated_at FROM source_records "
            "WHERE customer_id = ANY(%s)",
            (customer_ids,),
        )
    ]


def store_golden(db: Conn, rows: list[GoldenRow], stored: list[GoldenRow]) -> None:
    """Write golden profiles: `stored` are customers that existed (updated); the others of
    `rows` were just inserted (their search and profile rows copied in). A stored
    customer's search row is rewritten only where its text changed."""
    _many(db, _UPDATE, [row.update for row in stored])
    old = {row.customer_id for row in stored}
    _many(
        db,
        "INSERT INTO customer_search(customer_id, name, emails, phones, orders) "
        "VALUES (%s,%s,%s,%s,%s) ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, "
        "emails = excluded.emails, phones = excluded.phones, orders = excluded.orders "
        "WHERE (customer_search.name, customer_search.emails, customer_search.phones, "
        "customer_search.orders) IS DISTINCT FROM (excluded.name, excluded.emails, "
        "excluded.phones, excluded.orders)",
        [row.search for row in stored],
    )
    _many(
        db,
        "INSERT INTO identity_profiles(customer_id, dobs, firsts) VALUES (%s,%s,%s) "
        "ON CONFLICT (customer_id) DO UPDATE SET dobs = excluded.dobs, firsts = excluded.firsts",
        [row.profile for row in stored],
    )
    _copy(
        db,
        "COPY customer_search(customer_id, name, emails, phones, orders) FROM STDIN",
        (row.search for row in rows if row.customer_id not in old),
    )
    _copy(
        db,
        "COPY identity_profiles(customer_id, dobs, firsts) FROM STDIN",
        (row.profile for row in rows if row.customer_id not in old),
    )


def golden_context(
    db: Conn, old_ids: list[int], gone: dict[int, int]
) -> tuple[dict[int, tuple[dict[str, Any], dict[str, Any]]], dict[int, list[str]]]:
    """(agent-corrected provenance and values, order numbers) of stored customers `old_ids`,
    counting the orders of customers `gone` merges into them (`gone`: absorbed -> keep)."""
    previous: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if old_ids:
        for row in db.execute(
            "SELECT id, provenance, first_name, last_name, birth_date, language, "
            "tier, segment, consents FROM customers WHERE id = ANY(%s) "
            "AND provenance LIKE '%%agent:%%'",
            (old_ids,),
        ):
            previous[row[0]] = (provenance.loads(row[1]), dict(zip(row.keys(), row, strict=True)))
    wanted = sorted([*old_ids, *gone])
    if wanted:
        for number, cid, at in db.execute(
            "SELECT number, customer_id, at FROM orders WHERE customer_id = ANY(%s)", (wanted,)
        ):
            found[gone.get(cid, cid)].append((at, number))
    return previous, {cid: [n for _at, n in sorted(v)] for cid, v in found.items()}


def rebuild(
    db: Conn,
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
    meta = _stored_members(db, ids)
    missing = [m[0] for m in meta if m[0] not in feats]
    loaded = (
        {rid: f for rid, (_c, f) in st.PgCandidates(db).load_features(missing).items()}
        if missing
        else {}
    )
    members: dict[int, list[Member]] = defaultdict(list)
    for rid, cid, source, sid, at in sorted(meta):
        f = feats.get(rid) or loaded.get(rid)
        if f is not None:
            members[cid].append(Member(rid, source, sid, at, f))
    previous, orders = golden_context(db, ids, {})
    rows = compute_golden(cfg, now, golden_jobs(members, previous, orders))
    store_golden(db, rows, rows)
