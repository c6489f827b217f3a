"""Personal data of one person: export it all, erase it everywhere, hold it for legal reasons.

Erasing anonymises in place, in one transaction with `PRAGMA secure_delete` on (SQLite
zeroes what it deletes): the profile's personal fields, source records and their
identities and match keys, message bodies and senders, contact subjects, timeline
summaries and payloads (survey scores, order totals and delivery states are kept), the
outbox's recipients, the answers kept for retried writes, the identity journal's snapshots
and the person's audit values. Counts, times, channels and scores stay, so the KPIs do not move. The search index row
goes and the index is merged (`optimize`), so no term of it survives in an old segment;
then the write-ahead log is checkpointed and truncated. A digest of each source record's
(source, id) stays behind: a later import of that record is held, not imported.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from backends.base import NotFound
from backends.personal_data import ERASED, check_erasable, kept_payload, record_digest
from backends.sqlite import record_shapes


def erased_digests(db: sqlite3.Connection, source: str) -> set[str]:
    """Digests of the erased records of `source` (an import holds rows with these)."""
    return {
        r[0] for r in db.execute("SELECT digest FROM erased_records WHERE source = ?", (source,))
    }


def require(db: sqlite3.Connection, customer_id: int) -> None:
    if db.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
        raise NotFound(f"no customer with id {customer_id}")


def hold(db: sqlite3.Connection, customer_id: int) -> tuple[int, str] | None:
    """(since, by) of a customer's legal hold, or None."""
    row = db.execute(
        "SELECT at, actor FROM legal_holds WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def set_hold(db: sqlite3.Connection, customer_id: int, held: bool, actor: str, now: int) -> bool:
    """Put on or lift a customer's hold; whether it was on before."""
    was = hold(db, customer_id) is not None
    if held and not was:
        db.execute(
            "INSERT INTO legal_holds(customer_id, at, actor) VALUES (?,?,?)",
            (customer_id, now, actor),
        )
    elif not held and was:
        db.execute("DELETE FROM legal_holds WHERE customer_id = ?", (customer_id,))
    return was


def contact_ids(db: sqlite3.Connection, customer_id: int) -> list[int]:
    """A customer's contacts, oldest first."""
    found = db.execute(
        "SELECT id FROM contacts WHERE customer_id = ? ORDER BY created_at, id", (customer_id,)
    )
    return [int(r[0]) for r in found]


def is_erased(db: sqlite3.Connection, customer_id: int) -> bool:
    found = db.execute("SELECT 1 FROM erasures WHERE customer_id = ?", (customer_id,)).fetchone()
    return found is not None


def _ids(db: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[int]:
    return [int(r[0]) for r in db.execute(sql, params)]


def _in(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def erase(db: sqlite3.Connection, customer_id: int, now: int) -> tuple[dict[str, int], list[int]]:
    """Anonymise one person in `db`'s open write transaction (see the module's docstring).

    Returns:
        rows touched per kind, and the person's contact ids.
    Raises:
        NotFound: no such customer.
        Conflict: under a legal hold, or erased already.
    """
    require(db, customer_id)
    held = hold(db, customer_id)
    check_erasable(customer_id, held[1] if held else None, is_erased(db, customer_id))
    counts: dict[str, int] = {}
    records = db.execute(
        "SELECT id, source, source_id, shape FROM source_records WHERE customer_id = ?",
        (customer_id,),
    ).fetchall()
    rids = [int(r[0]) for r in records]
    db.executemany(
        "INSERT OR REPLACE INTO erased_records(digest, source, customer_id, at) VALUES (?,?,?,?)",
        [(record_digest(r[1], r[2]), r[1], customer_id, now) for r in records],
    )
    db.execute("INSERT INTO erasures(customer_id, at) VALUES (?, ?)", (customer_id, now))
    counts["audit_values"] = db.execute(
        "DELETE FROM audit_values WHERE customer_id = ?", (customer_id,)
    ).rowcount
    if rids:
        marks = _in(rids)
        # an identifier flagged as shared by many records names this person too
        db.execute(
            "DELETE FROM identity_junk WHERE (kind, value) IN "
            f"(SELECT kind, value FROM identities WHERE record_id IN ({marks}))",
            rids,
        )
        counts["identities"] = db.execute(
            f"DELETE FROM identities WHERE record_id IN ({marks})", rids
        ).rowcount
        # no index by record: read through (about a second at a million records), so that
        # no key of the person is left, whatever code made it
        db.execute(f"DELETE FROM match_keys WHERE record_id IN ({marks})", rids)
        db.execute(f"DELETE FROM record_features WHERE record_id IN ({marks})", rids)
        db.execute(f"DELETE FROM record_changes WHERE record_id IN ({marks})", rids)
        db.execute(
            f"DELETE FROM identity_links WHERE record_a IN ({marks}) OR record_b IN ({marks})",
            (*rids, *rids),
        )
        db.execute(
            f"DELETE FROM identity_suggestions WHERE record_a IN ({marks}) "
            f"OR record_b IN ({marks})",
            (*rids, *rids),
        )
        db.execute(f"UPDATE events SET record_id = NULL WHERE record_id IN ({marks})", rids)
        counts["source_records"] = db.execute(
            f"DELETE FROM source_records WHERE id IN ({marks})", rids
        ).rowcount
        record_shapes.forget_unused(db, [r[3] for r in records if r[3] is not None])
    db.execute("DELETE FROM identity_profiles WHERE customer_id = ?", (customer_id,))
    db.execute(
        "UPDATE identity_journal SET snapshot = '{}', reason = '' "
        "WHERE customer_id = ? OR other_id = ?",
        (customer_id, customer_id),
    )
    db.execute(
        "UPDATE customers SET first_name = ?, last_name = '', emails = '[]', phones = '[]', "
        "addresses = '[]', birth_date = NULL, language = '', consents = '{}', tags = '[]', "
        "attributes = '{}', provenance = '{}', updated_at = ?, version = version + 1 "
        "WHERE id = ?",
        (ERASED, now, customer_id),
    )
    counts["profile"] = 1
    db.execute("DELETE FROM customer_search WHERE rowid = ?", (customer_id,))
    # deleted terms linger in older index segments until merged: merge them all now
    db.execute("INSERT INTO customer_search(customer_search) VALUES ('optimize')")
    contacts = _ids(db, "SELECT id FROM contacts WHERE customer_id = ?", (customer_id,))
    if contacts:
        marks = _in(contacts)
        counts["contacts"] = db.execute(
            f"UPDATE contacts SET subject = ? WHERE id IN ({marks})", (ERASED, *contacts)
        ).rowcount
        counts["messages"] = db.execute(
            "UPDATE messages SET body = ?, author = CASE WHEN direction = 'inbound' THEN '' "
            "ELSE author END, failure = CASE WHEN failure IS NULL THEN NULL ELSE ? END "
            f"WHERE contact_id IN ({marks})",
            (ERASED, ERASED, *contacts),
        ).rowcount
    counts["outbox"] = db.execute(
        "UPDATE outbox SET recipient = '', recipient_name = '', subject = '', html = NULL, "
        "last_error = CASE WHEN last_error IS NULL THEN NULL ELSE ? END WHERE customer_id = ?",
        (ERASED, customer_id),
    ).rowcount
    # the answers kept for retried writes (a day) may quote the person: all go (a retry
    # of a write answered before this moment is run again)
    counts["write_answers"] = db.execute("DELETE FROM write_answers").rowcount
    counts["calls"] = db.execute(  # the caller's number, what they dialled, the recording
        "UPDATE calls SET caller = '', dialled = '', recording = '' WHERE customer_id = ?",
        (customer_id,),
    ).rowcount
    events = db.execute(
        "SELECT id, payload FROM events WHERE customer_id = ?", (customer_id,)
    ).fetchall()
    db.executemany(
        "UPDATE events SET summary = ?, payload = ? WHERE id = ?",
        [(ERASED, kept_payload(r[1]), r[0]) for r in events],
    )
    counts["events"] = len(events)
    return counts, contacts


__all__ = [
    "ERASED",
    "contact_ids",
    "erase",
    "erased_digests",
    "hold",
    "record_digest",
    "set_hold",
]
