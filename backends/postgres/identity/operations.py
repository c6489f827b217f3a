"""Human control over identity in PostgreSQL: suggestions, merge, split (undoing a merge),
reject, explain, link export.

Every merge and split is journaled with what it needs to be undone (the absorbed
customer's row and the ids of its events and contacts); a split also keeps the two
sides apart, so a later import does not merge them again. Each function runs in the
caller's transaction and locks the customers it changes (rows, in id order), so an
import resolving the same people waits for it.
"""

from __future__ import annotations

import json
from typing import Any

from backends.base import InvalidInput, NotFound
from backends.identity import review
from backends.identity.config import MatchConfig
from backends.postgres.identity import store as st
from backends.postgres.identity.writer import rebuild


def require(db: Any, customer_id: int) -> dict[str, Any]:
    row = st.customer_row(db, customer_id)
    if row is None:
        raise NotFound(f"no customer with id {customer_id}")
    return row


def _lock(db: Any, *customer_ids: int) -> None:
    db.execute(
        "SELECT id FROM customers WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
        (sorted(set(customer_ids)),),
    )


def _records_of(db: Any, customer_id: int) -> list[int]:
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM source_records WHERE customer_id = %s ORDER BY id", (customer_id,)
        )
    ]


def merge(
    db: Any, cfg: MatchConfig, now: int, actor: str, keep: int, gone: int, reason: str = ""
) -> dict[str, Any]:
    """Merge customer `gone` into `keep`; returns the journal entry as a dict.

    Raises:
        NotFound: either customer is missing. InvalidInput: the same customer twice.
    """
    if keep == gone:
        raise InvalidInput("cannot merge a customer with itself")
    _lock(db, keep, gone)
    require(db, keep)
    require(db, gone)
    snapshot = st.snapshot_of(db, gone)
    moved, kept = _records_of(db, gone), _records_of(db, keep)
    st.move_customer_data(db, gone, keep)
    why = reason or f"merged by {actor}"
    if moved and kept:
        both = moved + kept
        db.execute(
            "DELETE FROM identity_links WHERE kind = 'apart' AND record_a = ANY(%s) "
            "AND record_b = ANY(%s)",
            (both, both),
        )
        db.execute(
            "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
            "created_at) VALUES (%s,%s,'manual',1.0,%s,%s,%s)",
            (min(kept), min(moved), why, actor, now),
        )
        db.execute(
            "UPDATE identity_suggestions SET status = 'merged' WHERE status = 'open' AND "
            "record_a = ANY(%s) AND record_b = ANY(%s)",
            (both, both),
        )
    rebuild(db, cfg, now, [keep])
    journal_id = st.journal(db, now, actor, "merge", keep, gone, moved, why, snapshot)
    st.log_change(db, now, [(keep, "identity:merge"), (gone, "identity:merged-away")], actor)
    return entry(db, journal_id)


def resolve_records(db: Any, customer_id: int, keys: list[str]) -> list[int]:
    """Record ids for `source:source_id` keys (or bare record ids) of one customer.

    Raises:
        InvalidInput: a key that names no record of this customer.
    """
    ids: list[int] = []
    for key in keys:
        source, sep, sid = key.partition(":")
        if sep:
            row = db.execute(
                "SELECT id, customer_id FROM source_records WHERE source = %s AND source_id = %s",
                (source.strip().lower(), sid.strip()),
            ).fetchone()
        elif key.strip().isdigit() and int(key) < 1 << 63:
            row = db.execute(
                "SELECT id, customer_id FROM source_records WHERE id = %s", (int(key),)
            ).fetchone()
        else:
            raise InvalidInput(f"{key!r}: name a record as SOURCE:SOURCE_ID")
        if row is None:
            raise InvalidInput(f"no source record {key}")
        if row[1] != customer_id:
            raise InvalidInput(f"record {key} belongs to customer {row[1]}, not {customer_id}")
        ids.append(int(row[0]))
    return sorted(set(ids))


def split(
    db: Any, cfg: MatchConfig, now: int, actor: str, customer_id: int, keys: list[str]
) -> dict[str, Any]:
    """Move the named records of a customer out into a customer of their own; when they
    are exactly those an earlier merge brought in, that customer comes back under its old
    id with its events and contacts. Returns the journal entry.

    Raises:
        NotFound: no such customer. InvalidInput: bad or all records.
    """
    _lock(db, customer_id)
    require(db, customer_id)
    if not keys:
        raise InvalidInput("name at least one record to split off (SOURCE:SOURCE_ID)")
    moving = resolve_records(db, customer_id, keys)
    remaining = [r for r in _records_of(db, customer_id) if r not in set(moving)]
    if not remaining:
        raise InvalidInput("those are all the customer's records: nothing would be left")
    merges = [
        (other, json.loads(records), json.loads(snap))
        for other, records, snap in db.execute(
            "SELECT j.other_id, j.records, j.snapshot FROM identity_journal j WHERE "
            "j.customer_id = %s AND j.action IN ('merge', 'auto-merge') AND NOT EXISTS "
            "(SELECT 1 FROM customers c WHERE c.id = j.other_id) ORDER BY j.id DESC",
            (customer_id,),
        )
    ]
    new_id, snapshot = review.split_undoes(merges, moving)
    if not new_id:
        new_id = st.new_ids(db, "customers", 1)[0]
    _restore_customer(db, new_id, snapshot, now)
    db.execute("UPDATE source_records SET customer_id = %s WHERE id = ANY(%s)", (new_id, moving))
    events = {
        r[0]
        for r in db.execute(
            "SELECT id FROM events WHERE customer_id = %s AND record_id = ANY(%s)",
            (customer_id, moving),
        )
    }
    events |= set(snapshot.get("_events", ()))
    contacts = set(snapshot.get("_contacts", ()))
    ev = sorted(events)
    contacts |= {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT contact_id FROM events WHERE id = ANY(%s) AND contact_id IS NOT NULL",
            (ev,),
        )
    }
    db.execute(
        "UPDATE events SET customer_id = %s WHERE customer_id = %s AND id = ANY(%s)",
        (new_id, customer_id, ev),
    )
    db.execute(
        "UPDATE orders SET customer_id = %s WHERE customer_id = %s AND event_id = ANY(%s)",
        (new_id, customer_id, ev),
    )
    db.execute(  # messages follow their contact (ON UPDATE CASCADE)
        "UPDATE contacts SET customer_id = %s WHERE customer_id = %s AND id = ANY(%s)",
        (new_id, customer_id, sorted(contacts)),
    )
    if snapshot:
        db.execute(
            "UPDATE customers SET lifetime_value = greatest(0, lifetime_value - %s) WHERE id = %s",
            (snapshot.get("lifetime_value", 0), customer_id),
        )
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO identity_links(record_a, record_b, kind, reason, actor, created_at) "
            "VALUES (%s,%s,'apart',%s,%s,%s)",
            [
                (a, b, f"split by {actor}", actor, now)
                for a, b in review.apart_pairs(moving, remaining)
            ],
        )
    db.execute(
        "DELETE FROM identity_links WHERE kind IN ('auto', 'manual') AND "
        "((record_a = ANY(%s) AND record_b = ANY(%s)) OR (record_b = ANY(%s) AND record_a = ANY(%s)))",
        (moving, remaining, moving, remaining),
    )
    rebuild(db, cfg, now, [customer_id, new_id])
    journal_id = st.journal(
        db, now, actor, "split", customer_id, new_id, moving, f"split by {actor}", None
    )
    st.log_change(db, now, [(customer_id, "identity:split"), (new_id, "identity:split-off")], actor)
    return entry(db, journal_id)


def _restore_customer(db: Any, cid: int, snapshot: dict[str, Any], now: int) -> None:
    known = {
        r[0]
        for r in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = 'customers'"
        )
    }
    cols = {k: v for k, v in snapshot.items() if not k.startswith("_") and k != "id" and k in known}
    cols.setdefault("created_at", now)
    cols["updated_at"] = now
    names = ", ".join(cols)  # column names of our own table, checked above
    marks = ",".join(["%s"] * len(cols))
    db.execute(
        f"INSERT INTO customers(id, {names}) VALUES (%s, {marks})",
        (cid, *cols.values()),
    )


def entry(db: Any, journal_id: int) -> dict[str, Any]:
    """A journal entry as a plain dict (records named SOURCE:SOURCE_ID)."""
    row = db.execute("SELECT * FROM identity_journal WHERE id = %s", (journal_id,)).fetchone()
    if row is None:
        raise NotFound(f"no journal entry {journal_id}")
    ids = json.loads(row["records"])
    names = [
        f"{r[0]}:{r[1]}"
        for r in db.execute(
            "SELECT source, source_id FROM source_records WHERE id = ANY(%s) "
            "ORDER BY source, source_id",
            (ids,),
        )
    ]
    return {
        "id": row["id"],
        "at": row["at"],
        "actor": row["actor"],
        "action": row["action"],
        "customer_id": row["customer_id"],
        "other_id": row["other_id"],
        "records": names,
        "reason": row["reason"],
    }


def suggestions(db: Any, limit: int, after: tuple[float, int] | None = None) -> list[Any]:
    """Open suggestions between two different customers, most likely first, one per customer
    pair (its best), those after `after` (score, id) when given."""
    score, ident = after if after is not None else (float("inf"), 0)
    return db.execute(
        "WITH open AS (SELECT s.id, s.score, s.reason, s.created_at, "
        "ra.customer_id AS ca, rb.customer_id AS cb, "
        "ra.source || ':' || ra.source_id AS ka, rb.source || ':' || rb.source_id AS kb, "
        "row_number() OVER (PARTITION BY least(ra.customer_id, rb.customer_id), "
        "greatest(ra.customer_id, rb.customer_id) ORDER BY s.score DESC, s.id) AS nth "
        "FROM identity_suggestions s JOIN source_records ra ON ra.id = s.record_a "
        "JOIN source_records rb ON rb.id = s.record_b "
        "WHERE s.status = 'open' AND ra.customer_id <> rb.customer_id) "
        "SELECT o.id, o.score, o.reason, o.created_at, o.ca, o.cb, o.ka, o.kb, "
        "trim(a.first_name || ' ' || a.last_name) AS na, "
        "trim(b.first_name || ' ' || b.last_name) AS nb "
        "FROM open o JOIN customers a ON a.id = o.ca JOIN customers b ON b.id = o.cb "
        "WHERE o.nth = 1 AND (o.score < %s OR (o.score = %s AND o.id > %s)) "
        "ORDER BY o.score DESC, o.id LIMIT %s",
        (score, score, ident, limit),
    ).fetchall()


def reject(db: Any, now: int, actor: str, suggestion_id: int) -> None:
    """Mark a suggestion wrong: every record of one customer is kept apart from every
    record of the other, and their other open suggestions are rejected too."""
    row = db.execute(
        "SELECT record_a, record_b FROM identity_suggestions WHERE id = %s FOR UPDATE",
        (suggestion_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no suggestion {suggestion_id}")
    side_a, side_b = _customer_records(db, row[0]), _customer_records(db, row[1])
    reason = f"rejected by {actor}"
    db.execute(
        "INSERT INTO identity_links(record_a, record_b, kind, reason, actor, created_at) "
        "SELECT a, b, 'apart', %s, %s, %s FROM unnest(%s::bigint[]) AS a, "
        "unnest(%s::bigint[]) AS b",
        (reason, actor, now, side_a, side_b),
    )
    db.execute(
        "UPDATE identity_suggestions SET status = 'rejected' WHERE id = %s", (suggestion_id,)
    )
    db.execute(
        "UPDATE identity_suggestions SET status = 'rejected' WHERE status = 'open' AND "
        "((record_a = ANY(%s) AND record_b = ANY(%s)) OR (record_a = ANY(%s) AND record_b = ANY(%s)))",
        (side_a, side_b, side_b, side_a),
    )


def _customer_records(db: Any, record_id: int) -> list[int]:
    """The records of the customer a record belongs to (the record alone if unlinked)."""
    found = [
        r[0]
        for r in db.execute(
            "SELECT id FROM source_records WHERE customer_id = "
            "(SELECT customer_id FROM source_records WHERE id = %s) ORDER BY id",
            (record_id,),
        )
    ]
    return found or [record_id]


def explain(db: Any, customer_id: int) -> dict[str, Any]:
    """Which records and which links made a customer, and its merge/split history."""
    require(db, customer_id)
    records = [
        dict(zip(r.keys(), r, strict=True))
        for r in db.execute(
            "SELECT id, source, source_id, received_at, updated_at FROM source_records "
            "WHERE customer_id = %s ORDER BY source, source_id",
            (customer_id,),
        )
    ]
    ids = [r["id"] for r in records]
    names = {r["id"]: f"{r['source']}:{r['source_id']}" for r in records}
    links = [
        review.link_row(row)
        for row in db.execute(
            "SELECT l.*, ra.source || ':' || ra.source_id AS ka, rb.source || ':' || "
            "rb.source_id AS kb FROM identity_links l JOIN source_records ra ON ra.id = "
            "l.record_a JOIN source_records rb ON rb.id = l.record_b "
            "WHERE l.record_a = ANY(%s) OR l.record_b = ANY(%s) ORDER BY l.id",
            (ids, ids),
        )
        if (row["record_a"] in names and row["record_b"] in names) or row["kind"] == "apart"
    ]
    history = [
        entry(db, r[0])
        for r in db.execute(
            "SELECT id FROM identity_journal WHERE customer_id = %s OR other_id = %s ORDER BY id",
            (customer_id, customer_id),
        )
    ]
    changes = [
        {"record": names[rid], "import_id": import_id, "at": at, "changed": json.loads(changed)}
        for rid, import_id, at, changed in db.execute(
            "SELECT record_id, import_id, at, changed FROM record_changes "
            "WHERE record_id = ANY(%s) ORDER BY at DESC LIMIT 50",
            (ids,),
        )
    ]
    return {
        "customer_id": customer_id,
        "records": records,
        "links": links,
        "journal": history,
        "changes": changes,
    }


def links_page(db: Any, after: int, limit: int) -> list[tuple[int, str, str, int | None]]:
    """(record id, source, source_id, customer id) after record id `after`, in id order."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in db.execute(
            "SELECT id, source, source_id, customer_id FROM source_records WHERE id > %s "
            "ORDER BY id LIMIT %s",
            (after, limit),
        )
    ]
