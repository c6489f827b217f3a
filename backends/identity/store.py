"""Set-based SQL for identity resolution: candidate lookup, golden profiles, moving a
customer's timeline, events, orders and contacts when customers merge or split.

Every function runs inside the caller's write transaction and uses bound
parameters only (customer text never becomes SQL).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from backends.identity.config import MatchConfig
from backends.identity.features import Features, extract
from backends.identity.survivorship import Member, golden
from backends.sqlite.search import phone_tokens

CHUNK = 500


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON (one shared encoder: `json.dumps` with options builds one per call)."""
    return _ENCODER.encode(value)


def existing_records(db: sqlite3.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str, int | None]]:
    """(source, source_id) -> (record id, fields JSON, customer id) for those already stored."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, sid in keys:
        by_source[source].append(sid)
    out: dict[tuple[str, str], tuple[int, str, int | None]] = {}
    for source, ids in by_source.items():
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            for r in db.execute(f"SELECT id, source_id, fields, customer_id FROM source_records "
                                f"WHERE source = ? AND source_id IN ({marks})", (source, *part)):
                out[(source, r[1])] = (r[0], r[2], r[3])
    return out


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """field -> [old, new] for every field that changed, appeared or disappeared."""
    return {k: [old.get(k), new.get(k)] for k in sorted(old.keys() | new.keys())
            if old.get(k) != new.get(k)}


def forget_keys(db: sqlite3.Connection, record_ids: list[int]) -> None:
    """Drop the derived rows of records about to be re-normalised."""
    for part in _chunks(record_ids):
        marks = ",".join("?" * len(part))
        db.execute(f"DELETE FROM identities WHERE record_id IN ({marks})", part)
        db.execute(f"DELETE FROM match_keys WHERE record_id IN ({marks})", part)
        db.execute(f"DELETE FROM record_features WHERE record_id IN ({marks})", part)


def key_holders(db: sqlite3.Connection, keys: set[tuple[str, str]], junk_limit: int,
                block_limit: int, count_limit: int
                ) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], int]]:
    """Who holds each (kind, value) ('key' kind: a blocking key), and how many do.

    Counts stop just past their limit (bounded work for a value held by a million
    records); holders are returned only for identifiers within `junk_limit` and
    blocks within `block_limit`, never for name keys (`n:`), which are only counted.
    """
    db.execute("CREATE TEMP TABLE IF NOT EXISTS _probe(kind TEXT, value TEXT, n INTEGER)")
    db.execute("DELETE FROM _probe")
    db.executemany("INSERT INTO _probe(kind, value) VALUES (?,?)", list(keys))
    db.execute("UPDATE _probe SET n = (SELECT count(*) FROM (SELECT 1 FROM identities i "
               "WHERE i.kind = _probe.kind AND i.value = _probe.value LIMIT ?)) "
               "WHERE kind <> 'key'", (junk_limit + 1,))
    db.execute("UPDATE _probe SET n = (SELECT count(*) FROM (SELECT 1 FROM match_keys m "
               "WHERE m.key = _probe.value LIMIT ?)) WHERE kind = 'key'",
               (max(block_limit, count_limit) + 1,))
    counts = {(kind, value): n for kind, value, n in db.execute("SELECT kind, value, n FROM _probe")}
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for kind, value, rid in db.execute(
        "SELECT p.kind, p.value, i.record_id FROM _probe p JOIN identities i "
        "ON i.kind = p.kind AND i.value = p.value WHERE p.kind <> 'key' AND p.n <= ?",
        (junk_limit,),
    ):
        out[(kind, value)].append(rid)
    for value, rid in db.execute(
        "SELECT p.value, m.record_id FROM _probe p JOIN match_keys m ON m.key = p.value "
        "WHERE p.kind = 'key' AND p.n <= ? AND substr(p.value, 1, 2) <> 'n:'", (block_limit,)
    ):
        out[("key", value)].append(rid)
    return out, counts


def load_features(db: sqlite3.Connection, record_ids: Iterable[int]) -> dict[int, tuple[int | None, Features]]:
    """record id -> (customer id, features).

    A record written by another path (no stored features) is normalised from
    its fields on the fly, reading them as Vista's canonical field names.
    """
    out: dict[int, tuple[int | None, Features]] = {}
    for part in _chunks(list(record_ids)):
        marks = ",".join("?" * len(part))
        for rid, cid, data, fields, source in db.execute(
            f"SELECT r.id, r.customer_id, f.features, CASE WHEN f.features IS NULL THEN r.fields "
            f"END, r.source FROM source_records r LEFT JOIN record_features f "
            f"ON f.record_id = r.id WHERE r.id IN ({marks})", part
        ):
            if data is not None:
                out[rid] = (cid, Features.from_json(json.loads(data)))
            else:
                try:
                    raw = json.loads(fields)
                except (TypeError, ValueError):
                    raw = {}
                f = extract(raw if isinstance(raw, dict) else {})
                f.source = source
                out[rid] = (cid, f)
    return out


def members_of(db: sqlite3.Connection, customer_ids: Iterable[int]) -> dict[int, list[int]]:
    """customer id -> its record ids, as stored."""
    out: dict[int, list[int]] = defaultdict(list)
    for part in _chunks(list(customer_ids)):
        marks = ",".join("?" * len(part))
        for rid, cid in db.execute(
            f"SELECT id, customer_id FROM source_records WHERE customer_id IN ({marks})", part
        ):
            out[cid].append(rid)
    return out


def kept_apart(db: sqlite3.Connection, a: int, b: int, cust_of: dict[int, int | None],
               find: Callable[[int], int]) -> bool:
    """Whether a person split customers `a` and `b` apart (an 'apart' link joins them)."""
    stored = members_of(db, [a, b])
    side_a = set(stored.get(a, [])) | {r for r, c in cust_of.items() if c is not None and find(c) == a}
    side_b = set(stored.get(b, [])) | {r for r, c in cust_of.items() if c is not None and find(c) == b}
    if not side_a or not side_b:
        return False
    small = side_a if len(side_a) <= len(side_b) else side_b
    other = side_b if small is side_a else side_a
    for part in _chunks(sorted(small)):
        marks = ",".join("?" * len(part))
        for ra, rb in db.execute(
            f"SELECT record_a, record_b FROM identity_links WHERE kind = 'apart' AND "
            f"(record_a IN ({marks}) OR record_b IN ({marks}))", (*part, *part)
        ):
            if (ra in small and rb in other) or (rb in small and ra in other):
                return True
    return False


def customer_row(db: sqlite3.Connection, customer_id: int) -> dict[str, Any] | None:
    row = db.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        return None
    return {k: row[k] for k in row.keys()}


def snapshot_of(db: sqlite3.Connection, customer_id: int) -> dict[str, Any] | None:
    """A customer's row plus the ids of its events and contacts (what undoing a merge restores)."""
    snap = customer_row(db, customer_id)
    if snap is not None:
        snap["_events"] = [r[0] for r in db.execute(
            "SELECT id FROM events WHERE customer_id = ?", (customer_id,))]
        snap["_contacts"] = [r[0] for r in db.execute(
            "SELECT id FROM contacts WHERE customer_id = ?", (customer_id,))]
    return snap


def move_customer_data(db: sqlite3.Connection, gone: int, keep: int) -> None:
    """Re-point everything of customer `gone` to `keep` and delete `gone`."""
    for table in ("source_records", "events", "orders", "contacts"):
        db.execute(f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (keep, gone))
    a = customer_row(db, keep)
    b = customer_row(db, gone)
    if a is not None and b is not None:
        tags = list(dict.fromkeys(json.loads(a["tags"]) + json.loads(b["tags"])))
        attributes = {**json.loads(b["attributes"]), **json.loads(a["attributes"])}
        consents = {**json.loads(b["consents"]), **json.loads(a["consents"])}
        db.execute(
            "UPDATE customers SET lifetime_value = lifetime_value + ?, tags = ?, attributes = ?, "
            "consents = ?, churn_risk = max(churn_risk, ?), unhappy = max(unhappy, ?), "
            "created_at = min(created_at, ?) WHERE id = ?",
            (b["lifetime_value"], dumps(tags), dumps(attributes), dumps(consents),
             b["churn_risk"], b["unhappy"], b["created_at"], keep),
        )
    db.execute("DELETE FROM customer_search WHERE rowid = ?", (gone,))
    db.execute("DELETE FROM identity_profiles WHERE customer_id = ?", (gone,))
    db.execute("DELETE FROM customers WHERE id = ?", (gone,))


def journal(db: sqlite3.Connection, now: int, actor: str, action: str, customer_id: int,
            other_id: int, records: list[int], reason: str, snapshot: dict[str, Any] | None) -> int:
    cur = db.execute(
        "INSERT INTO identity_journal(at, actor, action, customer_id, other_id, records, reason, "
        "snapshot) VALUES (?,?,?,?,?,?,?,?)",
        (now, actor, action, customer_id, other_id, dumps(sorted(records)), reason,
         dumps(snapshot or {})),
    )
    return int(cur.lastrowid or 0)


def log_change(db: sqlite3.Connection, now: int, rows: list[tuple[int, str]], actor: str) -> None:
    db.executemany("INSERT INTO changes(at, entity, entity_id, action, actor) VALUES (?,?,?,?,?)",
                   [(now, "customer", cid, action, actor) for cid, action in rows])


def write_golden(db: sqlite3.Connection, cfg: MatchConfig, now: int, touched: set[int],
                 new_customers: set[int], absorbed: dict[int, int], assign: dict[int, int],
                 feats: dict[int, Features], actor: str) -> None:
    """Apply a batch's clustering: absorb merged customers, then rebuild touched profiles.

    Args:
        touched: final customer ids whose profile must be rebuilt.
        new_customers: customer ids this batch made up (they do not exist yet).
        absorbed: existing-or-new customer id -> the customer it merged into.
        assign: record id -> its final customer id (records of this batch and candidates).
    """
    changes: list[tuple[int, str]] = []
    existing_gone = [(g, k) for g, k in absorbed.items() if g not in new_customers]
    # create new customers first: records and moved data need them (foreign keys)
    for cid in sorted(touched & new_customers):
        db.execute("INSERT INTO customers(id, created_at, updated_at) VALUES (?,?,?)", (cid, now, now))
    for gone, keep in existing_gone:
        moved = [r for (r,) in db.execute("SELECT id FROM source_records WHERE customer_id = ?", (gone,))]
        snapshot = snapshot_of(db, gone)
        move_customer_data(db, gone, keep)
        journal(db, now, actor, "auto-merge", keep, gone, moved, "linked by an imported record", snapshot)
        changes.append((gone, "merged"))
    db.executemany("UPDATE source_records SET customer_id = ? WHERE id = ? AND customer_id IS NOT ?",
                   [(cid, rid, cid) for rid, cid in assign.items()])
    rebuild(db, cfg, now, touched, feats, fresh=touched & new_customers)
    changes += [(cid, "created" if cid in new_customers else "updated") for cid in sorted(touched)]
    log_change(db, now, changes, actor)


def rebuild(db: sqlite3.Connection, cfg: MatchConfig, now: int, customer_ids: Iterable[int],
            feats: dict[int, Features] | None = None, fresh: set[int] | None = None) -> None:
    """Recompute the golden profile and search row of each customer from its records.

    `fresh`: customers created in this transaction (no search row, orders or edits yet).
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return
    fresh = fresh or set()
    old_ids = [c for c in ids if c not in fresh]
    feats = feats or {}
    members: dict[int, list[Member]] = defaultdict(list)
    missing: list[int] = []
    meta: list[tuple[int, int, str, str, int]] = []
    for part in _chunks(ids):
        marks = ",".join("?" * len(part))
        for rid, cid, source, sid, at in db.execute(
            f"SELECT id, customer_id, source, source_id, updated_at FROM source_records "
            f"WHERE customer_id IN ({marks})", part
        ):
            meta.append((rid, cid, source, sid, at))
            if rid not in feats:
                missing.append(rid)
    loaded = {rid: f for rid, (_c, f) in load_features(db, missing).items()} if missing else {}
    for rid, cid, source, sid, at in meta:
        f = feats.get(rid) or loaded.get(rid)
        if f is not None:
            members[cid].append(Member(rid, source, sid, at, f))
    previous: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    orders: dict[int, list[str]] = defaultdict(list)
    for part in _chunks(old_ids):
        marks = ",".join("?" * len(part))
        for row in db.execute(f"SELECT id, provenance, first_name, last_name, birth_date, language, "
                              f"tier, segment FROM customers WHERE id IN ({marks}) "
                              f"AND provenance LIKE '%agent:%'", part):
            previous[row[0]] = (json.loads(row[1]), {k: row[k] for k in row.keys()})
        for number, cid in db.execute(
            f"SELECT number, customer_id FROM orders WHERE customer_id IN ({marks})", part
        ):
            orders[cid].append(number)
    updates, search, profiles = [], [], []
    for cid in ids:
        group = members.get(cid)
        if not group:
            continue
        profiles.append((cid, dumps(sorted({m.features.dob for m in group if m.features.dob})),
                         dumps(sorted({m.features.fk for m in group if len(m.features.fk) > 1}))))
        prev = previous.get(cid)
        values, prov = golden(group, cfg, prev[0] if prev else None, prev[1] if prev else None)
        created = min(m.at for m in group)
        updates.append((values["first_name"], values["last_name"], dumps(values["emails"]),
                        dumps(values["phones"]), dumps(values["addresses"]), values["birth_date"],
                        values["language"], values["segment"], values["tier"], dumps(prov), now,
                        created, cid))
        names = {f"{values['first_name']} {values['last_name']}".strip()}
        names.update(f"{m.features.first} {m.features.last}".strip() for m in group)
        search.append((cid, " ".join(sorted(n for n in names if n)), " ".join(values["emails"]),
                       phone_tokens(values["phones"]), " ".join(orders.get(cid, []))))
    db.executemany(
        "UPDATE customers SET first_name = ?, last_name = ?, emails = ?, phones = ?, addresses = ?, "
        "birth_date = ?, language = coalesce(nullif(?, ''), language), "
        "segment = coalesce(nullif(?, ''), segment), tier = coalesce(nullif(?, ''), tier), "
        "provenance = ?, updated_at = ?, created_at = min(created_at, ?), version = version + 1 "
        "WHERE id = ?", updates)
    for part in _chunks(old_ids):
        marks = ",".join("?" * len(part))
        db.execute(f"DELETE FROM customer_search WHERE rowid IN ({marks})", part)
    db.executemany("INSERT INTO customer_search(rowid, name, emails, phones, orders) VALUES (?,?,?,?,?)",
                   search)
    db.executemany("INSERT OR REPLACE INTO identity_profiles(customer_id, dobs, firsts) VALUES (?,?,?)",
                   profiles)


def load_profiles(db: sqlite3.Connection, customer_ids: Iterable[int]) -> dict[int, tuple[list[str], list[str]]]:
    """customer id -> (birth dates, first-name keys) its records hold."""
    out: dict[int, tuple[list[str], list[str]]] = {}
    for part in _chunks(list(customer_ids)):
        marks = ",".join("?" * len(part))
        for cid, dobs, firsts in db.execute(
            f"SELECT customer_id, dobs, firsts FROM identity_profiles WHERE customer_id IN ({marks})",
            part,
        ):
            out[cid] = (json.loads(dobs), json.loads(firsts))
    return out
