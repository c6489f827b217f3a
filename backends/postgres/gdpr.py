"""Personal data of one person in PostgreSQL: erase it everywhere, hold it for legal reasons.

The same erasure as the SQLite store's (backends/sqlite/gdpr.py; what is kept and when it
is refused: backends/personal_data.py), in one transaction: the profile's personal fields,
source records with their identities and match keys, message bodies and senders, contact
subjects, timeline summaries and payloads (facts kept), the outbox's recipients, the
answers kept for retried writes, the identity journal's snapshots and the person's audit
values. Counts, times, channels and
scores stay, so the KPIs do not move. The search row goes. Old row versions are gone from
reads at once and from the tables' files when VACUUM reclaims them, which the backend
runs on the touched tables right after the erasure commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from backends.base import NotFound
from backends.personal_data import ERASED, check_erasable, kept_payload, record_digest

Conn = psycopg.Connection[Any]

#: The tables an erasure may rewrite or delete from, by the count of its report that says
#: it did ('' for always): VACUUMed after it commits.
TOUCHED: dict[str, tuple[str, ...]] = {
    "": ("customers", "customer_search", "identity_profiles", "identity_journal"),
    "source_records": (
        "source_records",
        "identities",
        "match_keys",
        "record_features",
        "record_changes",
        "identity_links",
        "identity_suggestions",
        "identity_junk",
    ),
    "contacts": ("contacts",),
    "messages": ("messages",),
    "events": ("events",),
    "outbox": ("outbox",),
    "audit_values": ("audit_values",),
    "write_answers": ("write_answers",),
}


def hold(db: Conn, customer_id: int) -> tuple[int, str] | None:
    """(since, by) of a customer's legal hold, or None."""
    row = db.execute(
        "SELECT at, actor FROM legal_holds WHERE customer_id = %s", (customer_id,)
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def is_erased(db: Conn, customer_id: int) -> bool:
    found = db.execute("SELECT 1 FROM erasures WHERE customer_id = %s", (customer_id,))
    return found.fetchone() is not None


def erased_digests(db: Conn, source: str) -> set[str]:
    """Digests of the erased records of `source` (an import holds rows with these)."""
    found = db.execute("SELECT digest FROM erased_records WHERE source = %s", (source,))
    return {str(r[0]) for r in found}


def contact_ids(db: Conn, customer_id: int) -> list[int]:
    """A customer's contacts, oldest first."""
    found = db.execute(
        "SELECT id FROM contacts WHERE customer_id = %s ORDER BY created_at, id", (customer_id,)
    )
    return [int(r[0]) for r in found]


def set_hold(db: Conn, customer_id: int, held: bool, actor: str, now: int) -> bool:
    """Put on or lift a customer's hold; whether it was on before. The customer's row lock
    orders it against an erasure starting at the same moment."""
    db.execute("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
    if held:
        done = db.execute(
            "INSERT INTO legal_holds(customer_id, at, actor) VALUES (%s,%s,%s) "
            "ON CONFLICT (customer_id) DO NOTHING",
            (customer_id, now, actor),
        ).rowcount
        return done == 0
    return db.execute("DELETE FROM legal_holds WHERE customer_id = %s", (customer_id,)).rowcount > 0


def erase(db: Conn, customer_id: int, now: int) -> tuple[dict[str, int], list[int]]:
    """Anonymise one person in `db`'s open write transaction (see the module's docstring).

    Returns:
        rows touched per kind, and the person's contact ids.
    Raises:
        NotFound: no such customer.
        Conflict: under a legal hold, or erased already.
    """
    # the customer's row lock orders an erasure against a hold set at the same moment
    found = db.execute("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
    if found.fetchone() is None:
        raise NotFound(f"no customer with id {customer_id}")
    held = hold(db, customer_id)
    check_erasable(customer_id, held[1] if held else None, is_erased(db, customer_id))
    records = db.execute(
        "SELECT id, source, source_id FROM source_records WHERE customer_id = %s",
        (customer_id,),
    ).fetchall()
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO erased_records(digest, source, customer_id, at) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (digest) DO UPDATE SET customer_id = EXCLUDED.customer_id, "
            "at = EXCLUDED.at",
            [(record_digest(r[1], r[2]), r[1], customer_id, now) for r in records],
        )
    db.execute("INSERT INTO erasures(customer_id, at) VALUES (%s, %s)", (customer_id, now))
    counts = scrub(db, customer_id)
    db.execute(
        "UPDATE customers SET first_name = %s, last_name = '', emails = '[]', phones = '[]', "
        "addresses = '[]', birth_date = NULL, language = '', consents = '{}', tags = '[]', "
        "attributes = '{}', provenance = '{}', updated_at = %s, version = version + 1 "
        "WHERE id = %s",
        (ERASED, now, customer_id),
    )
    counts["profile"] = 1
    contacts = [
        int(r[0])
        for r in db.execute("SELECT id FROM contacts WHERE customer_id = %s", (customer_id,))
    ]
    counts["contacts"] = db.execute(
        "UPDATE contacts SET subject = %s WHERE customer_id = %s", (ERASED, customer_id)
    ).rowcount
    counts["messages"] = db.execute(
        "UPDATE messages SET body = %s, author = CASE WHEN direction = 'inbound' THEN '' "
        "ELSE author END, failure = CASE WHEN failure IS NULL THEN NULL ELSE %s END "
        "WHERE customer_id = %s",
        (ERASED, ERASED, customer_id),
    ).rowcount
    counts["outbox"] = db.execute(
        "UPDATE outbox SET recipient = '', recipient_name = '', subject = '', html = NULL, "
        "last_error = CASE WHEN last_error IS NULL THEN NULL ELSE %s END "
        "WHERE customer_id = %s",
        (ERASED, customer_id),
    ).rowcount
    # the answers kept for retried writes (a day) may quote the person: all go (a retry
    # of a write answered before this moment is run again)
    counts["write_answers"] = db.execute("DELETE FROM write_answers").rowcount
    counts["calls"] = db.execute(  # the caller's number, what they dialled, the recording
        "UPDATE calls SET caller = '', dialled = '', recording = '' WHERE customer_id = %s",
        (customer_id,),
    ).rowcount
    events = db.execute(
        "SELECT id, payload FROM events WHERE customer_id = %s", (customer_id,)
    ).fetchall()
    with db.cursor() as cur:
        cur.executemany(
            "UPDATE events SET summary = %s, payload = %s WHERE customer_id = %s AND id = %s",
            [(ERASED, kept_payload(r[1]), customer_id, r[0]) for r in events],
        )
    counts["events"] = len(events)
    return counts, contacts


def scrub(db: Conn, customer_id: int) -> dict[str, int]:
    """Delete what an erased person leaves in other tables (their audit values, source
    records with their identities, match keys and links, identity profile, journal
    snapshots, search row): rows per kind. Also what `vista migrate` runs for a person
    erased in the SQLite store, whose rows an earlier copy brought over."""
    counts: dict[str, int] = {}
    counts["audit_values"] = db.execute(
        "DELETE FROM audit_values WHERE customer_id = %s", (customer_id,)
    ).rowcount
    rids = [
        int(r[0])
        for r in db.execute("SELECT id FROM source_records WHERE customer_id = %s", (customer_id,))
    ]
    if rids:
        # an identifier flagged as shared by many records names this person too
        db.execute(
            "DELETE FROM identity_junk WHERE (kind, value) IN "
            "(SELECT kind, value FROM identities WHERE record_id = ANY(%s))",
            (rids,),
        )
        counts["identities"] = db.execute(
            "DELETE FROM identities WHERE record_id = ANY(%s)", (rids,)
        ).rowcount
        for table in ("match_keys", "record_features", "record_changes"):
            db.execute(f"DELETE FROM {table} WHERE record_id = ANY(%s)", (rids,))
        for table in ("identity_links", "identity_suggestions"):
            db.execute(
                f"DELETE FROM {table} WHERE record_a = ANY(%s) OR record_b = ANY(%s)",
                (rids, rids),
            )
        db.execute("UPDATE events SET record_id = NULL WHERE record_id = ANY(%s)", (rids,))
        counts["source_records"] = db.execute(
            "DELETE FROM source_records WHERE id = ANY(%s)", (rids,)
        ).rowcount
    db.execute("DELETE FROM identity_profiles WHERE customer_id = %s", (customer_id,))
    db.execute(
        "UPDATE identity_journal SET snapshot = '{}', reason = '' "
        "WHERE (customer_id = %s OR other_id = %s) AND (snapshot <> '{}' OR reason <> '')",
        (customer_id, customer_id),
    )
    db.execute("DELETE FROM customer_search WHERE customer_id = %s", (customer_id,))
    return counts


def vacuum(conn: Conn, counts: Mapping[str, int]) -> bool:
    """VACUUM (ANALYZE) the tables an erasure touched (`counts`: its report's), on an
    autocommit connection: the old row versions' space is reclaimed and the statistics
    sampled anew; False when it could not run (the erasure stands)."""
    tables = [t for kind, names in TOUCHED.items() if not kind or counts.get(kind) for t in names]
    try:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")  # type: ignore[arg-type]
    except psycopg.Error:
        return False
    return True
