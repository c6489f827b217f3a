"""Human control over identity: suggestions, merge, split (undoing a merge), explain, provenance.

Every merge and split is journaled with what it needs to be undone: a merge
keeps the absorbed customer's row and the events and contacts it had, so
splitting the same records back out restores that customer under its old id.
A split also records that the two sides must stay apart, so a later import
does not merge them again. All functions run in the caller's write transaction.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from backends.base import InvalidInput, NotFound
from backends.identity import review
from backends.identity.config import MatchConfig
from backends.sqlite.identity import store as st
from backends.sqlite.identity.writer import rebuild


def require(db: sqlite3.Connection, customer_id: int) -> dict[str, Any]:
    row = st.customer_row(db, customer_id)
    if row is None:
        raise NotFound(f"no customer with id {customer_id}")
    return row


def _record_names(db: sqlite3.Connection, ids: list[int]) -> list[str]:
    out: list[str] = []
    for part in st.chunks(sorted(ids)):
        marks = ",".join("?" * len(part))
        out += [
            f"{r[0]}:{r[1]}"
            for r in db.execute(
                f"SELECT source, source_id FROM source_records WHERE id IN ({marks}) "
                f"ORDER BY source, source_id",
                part,
            )
        ]
    return out


def merge(
    db: sqlite3.Connection,
    cfg: MatchConfig,
    now: int,
    actor: str,
    keep: int,
    gone: int,
    reason: str = "",
) -> dict[str, Any]:
    """Merge customer `gone` into `keep`; returns the journal entry as a dict.

    Raises:
        NotFound: either customer is missing.
        InvalidInput: the same customer twice.
    """
    if keep == gone:
        raise InvalidInput("cannot merge a customer with itself")
    require(db, keep)
    require(db, gone)
    snapshot = st.snapshot_of(db, gone)
    moved = [
        r for (r,) in db.execute("SELECT id FROM source_records WHERE customer_id = ?", (gone,))
    ]
    kept = [
        r for (r,) in db.execute("SELECT id FROM source_records WHERE customer_id = ?", (keep,))
    ]
    st.move_customer_data(db, gone, keep)
    why = reason or f"merged by {actor}"
    if moved and kept:
        both = moved + kept
        marks = ",".join("?" * len(both))
        db.execute(
            f"DELETE FROM identity_links WHERE kind = 'apart' AND record_a IN ({marks}) "
            f"AND record_b IN ({marks})",
            (*both, *both),
        )
        db.execute(
            "INSERT INTO identity_links(record_a, record_b, kind, score, reason, actor, "
            "created_at) VALUES (?,?,'manual',1.0,?,?,?)",
            (min(kept), min(moved), why, actor, now),
        )
        db.execute(
            f"UPDATE identity_suggestions SET status = 'merged' WHERE status = 'open' AND "
            f"record_a IN ({marks}) AND record_b IN ({marks})",
            (*both, *both),
        )
    rebuild(db, cfg, now, [keep])
    journal_id = st.journal(db, now, actor, "merge", keep, gone, moved, why, snapshot)
    st.log_change(db, now, [(keep, "identity:merge"), (gone, "identity:merged-away")], actor)
    return entry(db, journal_id)


def resolve_records(db: sqlite3.Connection, customer_id: int, keys: list[str]) -> list[int]:
    """Record ids for `source:source_id` keys (or bare record ids) of one customer.

    Raises:
        InvalidInput: a key that names no record of this customer.
    """
    ids: list[int] = []
    for key in keys:
        source, sep, sid = key.partition(":")
        if sep:
            row = db.execute(
                "SELECT id, customer_id FROM source_records WHERE source = ? AND source_id = ?",
                (source.strip().lower(), sid.strip()),
            ).fetchone()
        elif key.strip().isdigit():
            row = db.execute(
                "SELECT id, customer_id FROM source_records WHERE id = ?", (int(key),)
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
    db: sqlite3.Connection,
    cfg: MatchConfig,
    now: int,
    actor: str,
    customer_id: int,
    keys: list[str],
) -> dict[str, Any]:
    """Move the named records of a customer out into a customer of their own.

    When they are exactly the records an earlier merge brought in, that merge is
    undone: the absorbed customer comes back under its old id with its events
    and contacts. Returns the journal entry.
    Raises:
        NotFound: no such customer. InvalidInput: bad or all records.
    """
    require(db, customer_id)
    if not keys:
        raise InvalidInput("name at least one record to split off (SOURCE:SOURCE_ID)")
    moving = resolve_records(db, customer_id, keys)
    remaining = [
        r
        for (r,) in db.execute(
            "SELECT id FROM source_records WHERE customer_id = ? ORDER BY id", (customer_id,)
        )
        if r not in set(moving)
    ]
    if not remaining:
        raise InvalidInput("those are all the customer's records: nothing would be left")
    # an earlier merge of exactly these records: undo it
    snapshot: dict[str, Any] = {}
    new_id = 0
    for jid, other, records, snap in db.execute(
        "SELECT id, other_id, records, snapshot FROM identity_journal WHERE customer_id = ? "
        "AND action IN ('merge', 'auto-merge') ORDER BY id DESC",
        (customer_id,),
    ):
        if sorted(json.loads(records)) == moving and st.customer_row(db, other) is None:
            new_id, snapshot = other, json.loads(snap)
            break
    if not new_id:
        new_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM customers").fetchone()[0]
    _restore_customer(db, new_id, snapshot, now)
    marks = ",".join("?" * len(moving))
    db.execute(
        f"UPDATE source_records SET customer_id = ? WHERE id IN ({marks})", (new_id, *moving)
    )
    events = {
        r[0]
        for r in db.execute(
            f"SELECT id FROM events WHERE customer_id = ? AND record_id IN ({marks})",
            (customer_id, *moving),
        )
    }
    events |= set(snapshot.get("_events", ()))
    contacts = set(snapshot.get("_contacts", ()))
    for part in st.chunks(sorted(events)):
        pm = ",".join("?" * len(part))
        contacts |= {
            r[0]
            for r in db.execute(
                f"SELECT DISTINCT contact_id FROM events WHERE id IN ({pm}) AND contact_id IS NOT NULL",
                part,
            )
        }
        db.execute(
            f"UPDATE events SET customer_id = ? WHERE customer_id = ? AND id IN ({pm})",
            (new_id, customer_id, *part),
        )
        db.execute(
            f"UPDATE orders SET customer_id = ? WHERE customer_id = ? AND event_id IN ({pm})",
            (new_id, customer_id, *part),
        )
    for part in st.chunks(sorted(contacts)):
        pm = ",".join("?" * len(part))
        db.execute(
            f"UPDATE contacts SET customer_id = ? WHERE customer_id = ? AND id IN ({pm})",
            (new_id, customer_id, *part),
        )
    if snapshot:
        db.execute(
            "UPDATE customers SET lifetime_value = max(0, lifetime_value - ?) WHERE id = ?",
            (snapshot.get("lifetime_value", 0), customer_id),
        )
    # keep them apart from now on, and retire links that joined them
    db.executemany(
        "INSERT INTO identity_links(record_a, record_b, kind, reason, actor, created_at) "
        "VALUES (?,?,'apart',?,?,?)",
        [(a, b, f"split by {actor}", actor, now) for a, b in review.apart_pairs(moving, remaining)],
    )
    rm = ",".join("?" * len(remaining))
    db.execute(
        f"DELETE FROM identity_links WHERE kind IN ('auto', 'manual') AND "
        f"((record_a IN ({marks}) AND record_b IN ({rm})) OR "
        f"(record_b IN ({marks}) AND record_a IN ({rm})))",
        (*moving, *remaining, *moving, *remaining),
    )
    rebuild(db, cfg, now, [customer_id, new_id])
    journal_id = st.journal(
        db, now, actor, "split", customer_id, new_id, moving, f"split by {actor}", None
    )
    st.log_change(db, now, [(customer_id, "identity:split"), (new_id, "identity:split-off")], actor)
    return entry(db, journal_id)


def _restore_customer(db: sqlite3.Connection, cid: int, snapshot: dict[str, Any], now: int) -> None:
    cols = {k: v for k, v in snapshot.items() if not k.startswith("_") and k != "id"}
    cols.setdefault("created_at", now)
    cols["updated_at"] = now
    names = ", ".join(cols)
    marks = ",".join("?" * len(cols))
    db.execute(f"INSERT INTO customers(id, {names}) VALUES (?, {marks})", (cid, *cols.values()))


def entry(db: sqlite3.Connection, journal_id: int) -> dict[str, Any]:
    """A journal entry as a plain dict (records named SOURCE:SOURCE_ID)."""
    row = db.execute("SELECT * FROM identity_journal WHERE id = ?", (journal_id,)).fetchone()
    if row is None:
        raise NotFound(f"no journal entry {journal_id}")
    return {
        "id": row["id"],
        "at": row["at"],
        "actor": row["actor"],
        "action": row["action"],
        "customer_id": row["customer_id"],
        "other_id": row["other_id"],
        "records": _record_names(db, json.loads(row["records"])),
        "reason": row["reason"],
    }


def suggestions(
    db: sqlite3.Connection, limit: int, after: tuple[float, int] | None = None
) -> list[dict[str, Any]]:
    """Open suggestions between two different customers, most likely first, one per customer
    pair (its best), those after `after` (score, id) when given."""
    score, ident = after if after is not None else (float("inf"), 0)
    return [
        dict(zip(row.keys(), row, strict=True))
        for row in db.execute(
            "WITH open AS (SELECT s.id, s.score, s.reason, s.created_at, "
            "ra.customer_id AS ca, rb.customer_id AS cb, "
            "ra.source || ':' || ra.source_id AS ka, rb.source || ':' || rb.source_id AS kb, "
            "row_number() OVER (PARTITION BY min(ra.customer_id, rb.customer_id), "
            "max(ra.customer_id, rb.customer_id) ORDER BY s.score DESC, s.id) AS nth "
            "FROM identity_suggestions s JOIN source_records ra ON ra.id = s.record_a "
            "JOIN source_records rb ON rb.id = s.record_b "
            "WHERE s.status = 'open' AND ra.customer_id <> rb.customer_id) "
            "SELECT o.id, o.score, o.reason, o.created_at, o.ca, o.cb, o.ka, o.kb, "
            "trim(a.first_name || ' ' || a.last_name) AS na, "
            "trim(b.first_name || ' ' || b.last_name) AS nb "
            "FROM open o JOIN customers a ON a.id = o.ca JOIN customers b ON b.id = o.cb "
            "WHERE o.nth = 1 AND (o.score < ? OR (o.score = ? AND o.id > ?)) "
            "ORDER BY o.score DESC, o.id LIMIT ?",
            (score, score, ident, limit),
        )
    ]


def reject(db: sqlite3.Connection, now: int, actor: str, suggestion_id: int) -> None:
    """Mark a suggestion wrong: the two customers are different people.

    Every record of one is kept apart from every record of the other, and the
    other open suggestions between them are rejected too, so the pair does not
    come back through another of their records.
    """
    row = db.execute(
        "SELECT record_a, record_b FROM identity_suggestions WHERE id = ?", (suggestion_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no suggestion {suggestion_id}")
    side_a = _customer_records(db, row[0])
    side_b = _customer_records(db, row[1])
    reason = f"rejected by {actor}"
    db.executemany(
        "INSERT INTO identity_links(record_a, record_b, kind, reason, actor, created_at) "
        "VALUES (?,?,'apart',?,?,?)",
        [(a, b, reason, actor, now) for a in side_a for b in side_b],
    )
    db.execute("UPDATE identity_suggestions SET status = 'rejected' WHERE id = ?", (suggestion_id,))
    for part_a in st.chunks(side_a):
        for part_b in st.chunks(side_b):
            ma, mb = ",".join("?" * len(part_a)), ",".join("?" * len(part_b))
            db.execute(
                f"UPDATE identity_suggestions SET status = 'rejected' WHERE status = 'open' AND "
                f"((record_a IN ({ma}) AND record_b IN ({mb})) OR "
                f"(record_a IN ({mb}) AND record_b IN ({ma})))",
                (*part_a, *part_b, *part_b, *part_a),
            )


def _customer_records(db: sqlite3.Connection, record_id: int) -> list[int]:
    """The records of the customer a record belongs to (the record alone if unlinked)."""
    found = [
        r[0]
        for r in db.execute(
            "SELECT id FROM source_records WHERE customer_id = "
            "(SELECT customer_id FROM source_records WHERE id = ?)",
            (record_id,),
        )
    ]
    return found or [record_id]


def explain(db: sqlite3.Connection, customer_id: int) -> dict[str, Any]:
    """Which records and which links made a customer, and its merge/split history."""
    require(db, customer_id)
    records = [
        dict(r)
        for r in db.execute(
            "SELECT id, source, source_id, received_at, updated_at FROM source_records "
            "WHERE customer_id = ? ORDER BY source, source_id",
            (customer_id,),
        )
    ]
    ids = [r["id"] for r in records]
    names = {r["id"]: f"{r['source']}:{r['source_id']}" for r in records}
    links: list[dict[str, Any]] = []
    for part in st.chunks(ids):
        marks = ",".join("?" * len(part))
        for row in db.execute(
            f"SELECT l.*, ra.source || ':' || ra.source_id AS ka, rb.source || ':' || rb.source_id "
            f"AS kb FROM identity_links l JOIN source_records ra ON ra.id = l.record_a "
            f"JOIN source_records rb ON rb.id = l.record_b "
            f"WHERE l.record_a IN ({marks}) OR l.record_b IN ({marks}) ORDER BY l.id",
            (*part, *part),
        ):
            inside = row["record_a"] in names and row["record_b"] in names
            if inside or row["kind"] == "apart":
                links.append(review.link_row(row))
    history = [
        entry(db, r[0])
        for r in db.execute(
            "SELECT id FROM identity_journal WHERE customer_id = ? OR other_id = ? ORDER BY id",
            (customer_id, customer_id),
        )
    ]
    changes: list[dict[str, Any]] = []
    for part in st.chunks(ids):
        marks = ",".join("?" * len(part))
        for rid, import_id, at, changed in db.execute(
            f"SELECT record_id, import_id, at, changed FROM record_changes "
            f"WHERE record_id IN ({marks}) ORDER BY at DESC LIMIT 50",
            part,
        ):
            changes.append(
                {
                    "record": names[rid],
                    "import_id": import_id,
                    "at": at,
                    "changed": json.loads(changed),
                }
            )
    changes.sort(key=lambda c: -c["at"])
    return {
        "customer_id": customer_id,
        "records": records,
        "links": links,
        "journal": history,
        "changes": changes[:50],
    }


def links_page(
    db: sqlite3.Connection, after: int, limit: int
) -> list[tuple[int, str, str, int | None]]:
    """(record id, source, source_id, customer id) after record id `after`, in id order."""
    return [
        tuple(r)
        for r in db.execute(  # type: ignore[misc]
            "SELECT id, source, source_id, customer_id FROM source_records WHERE id > ? "
            "ORDER BY id LIMIT ?",
            (after, limit),
        )
    ]
