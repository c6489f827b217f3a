"""Personal data over every backend: export a person, erase them (nothing personal left in
search, reads, the database file or its WAL; the KPIs unchanged), legal holds, roles."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from backends.base import Backend, Capability, Conflict, Forbidden, ReadOnly
from backends.models import Channel
from tests.backends.conftest import POSTGRES_KINDS, BackendFactory
from tests.conftest import NOW
from tests.postgres_server import COPIES

pytestmark = pytest.mark.needs(Capability.PERSONAL_DATA)

MARKER = "Quarzovich"  # a last name no one else in the demo has


def _person(db: Path) -> tuple[int, str, str]:
    """A demo customer with contacts and messages whose e-mail and phone no other
    customer shares: (id, e-mail, phone)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT c.id, json_extract(c.emails, '$[0]'), json_extract(c.phones, '$[0]') "
            "FROM customers c WHERE json_array_length(c.emails) = 1 "
            "AND json_array_length(c.phones) = 1 AND (SELECT count(*) FROM contacts k "
            "JOIN messages m ON m.contact_id = k.id WHERE k.customer_id = c.id) >= 2 "
            "ORDER BY c.id"
        ).fetchall()
        for cid, email, phone in rows:
            others = conn.execute(
                "SELECT count(*) FROM customers WHERE id <> ? AND (emails LIKE ? OR phones LIKE ?)",
                (cid, f"%{email}%", f"%{phone}%"),
            ).fetchone()[0]
            if not others:
                return int(cid), str(email), str(phone)
    finally:
        conn.close()
    raise AssertionError("no suitable demo customer")


def _kpis(backend: Backend) -> tuple[object, ...]:
    report = backend.stats(NOW - timedelta(days=90), NOW, now=NOW)
    return (
        report.arrivals,
        report.unanswered,
        report.abandoned,
        report.backlog,
        report.satisfaction,
        report.sla,
        report.first_response,
    )


def test_an_export_holds_every_section(make_backend: BackendFactory, demo_db: Path) -> None:
    cid, email, phone = _person(demo_db)
    admin = make_backend("admin")
    admin.add_customer_note(cid, "asked for a copy of their data")
    bundle = admin.export_customer(cid)
    data = bundle.data
    assert bundle.customer_id == cid
    for section in (
        "profile",
        "provenance",
        "source_records",
        "identities",
        "consents",
        "timeline",
        "contacts",
        "messages",
        "audit",
        "legal_hold",
    ):
        assert section in data, section
    assert data["profile"]["emails"] == [email] and data["profile"]["phones"] == [phone]
    assert data["source_records"] and data["identities"] and data["timeline"]
    assert data["contacts"] and len(data["messages"]) >= 2
    assert any(e["action"] == "customer-note" for e in data["audit"])
    assert data["legal_hold"] == {"held": False, "by": ""}
    assert bundle.summary[0].startswith(f"Personal data held by Vista on customer {cid}")
    assert any(line.startswith("Contacts:") for line in bundle.summary)
    json.dumps(bundle.to_json())  # one JSON document
    # the export itself is in the trail
    assert admin.audit_log(customer_id=cid, limit=1).entries[0].action == "export"


def test_erase_leaves_nothing_personal_anywhere_and_kpis_unchanged(
    make_backend: BackendFactory, demo_db: Path, backend_kind: str
) -> None:
    cid, email, phone = _person(demo_db)
    admin, supervisor = make_backend("admin"), make_backend("anna")
    admin.edit_profile(cid, "last_name", MARKER)  # in the trail's values and the timeline
    contact = admin.deliver_inbound(Channel.EMAIL, email, f"Hello, {MARKER} here").contact
    admin.reply(contact.id, f"Dear {MARKER}, we are on it")
    first = admin.get_customer(cid).first_name
    kpis = _kpis(supervisor)
    assert any(h.id == cid for h in admin.search_customers(MARKER))

    if backend_kind in POSTGRES_KINDS:  # the scan below sees the person before
        assert email.lower().encode() in _pg_text(COPIES[demo_db])

    report = admin.erase_customer(cid)

    assert report.counts["source_records"] >= 1 and report.counts["messages"] >= 3
    assert contact.id in report.contact_ids
    assert _kpis(supervisor) == kpis
    for text in (MARKER, email, phone, f"{first} {MARKER}"):
        assert all(h.id != cid for h in admin.search_customers(text)), text
    profile = admin.get_customer(cid)
    assert profile.last_name == "" and not profile.emails and not profile.phones
    assert not profile.identities and not profile.sources
    shown = json.dumps(
        [
            profile.to_json(),
            [e.to_json() for e in admin.timeline(cid, limit=500).events],
            admin.get_contact(contact.id).to_json(),
            admin.export_customer(cid).to_json(),
            [e.to_json() for e in admin.audit_log(customer_id=cid, limit=1000).entries],
            [p.to_json() for p in admin.provenance(cid)]
            if Capability.IDENTITY in admin.capabilities
            else [],
        ]
    )
    for value in (MARKER, email, phone):
        assert value not in shown
    # the trail says that it happened, not what; and it still verifies
    erased = admin.audit_log(customer_id=cid, limit=20).entries
    assert "erase" in {e.action for e in erased}
    assert all(e.erased and not e.changes for e in admin.audit_log(customer_id=cid).entries)
    assert admin.verify_audit().ok
    # a supervisor sees that it happened (timeline, change feed), not what
    assert any("Personal data erased" in e.summary for e in supervisor.timeline(cid).events)
    # nothing in the database file or its write-ahead log (PostgreSQL: in any row of any
    # table, nor in the planner's statistics), in any letter case
    blob = _pg_text(COPIES[demo_db]) if backend_kind in POSTGRES_KINDS else b""
    for path in (demo_db, demo_db.with_name(demo_db.name + "-wal")):
        if backend_kind not in POSTGRES_KINDS and path.exists():
            blob += path.read_bytes().lower()
    for value in (MARKER, email, phone, phone.lstrip("+")):
        assert value.lower().encode() not in blob, value


def _pg_text(url: str) -> bytes:
    """Every row of every table of a PostgreSQL store, and the sampled values of its
    statistics, as lower-case text."""
    import psycopg

    with psycopg.connect(url) as pg:
        tables = [
            r[0]
            for r in pg.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        parts = [
            str(pg.execute(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {t} t").fetchone())
            for t in tables
        ]
        parts.append(
            str(
                pg.execute(
                    "SELECT string_agg(coalesce(most_common_vals::text, '') || "
                    "coalesce(histogram_bounds::text, ''), ' ') FROM pg_stats "
                    "WHERE schemaname = current_schema()"
                ).fetchone()
            )
        )
    return " ".join(parts).lower().encode()


@pytest.mark.needs(Capability.IMPORT)
def test_a_reimport_of_an_erased_record_is_held(
    make_backend: BackendFactory, demo_db: Path, tmp_path: Path
) -> None:
    admin = make_backend("admin")
    csv = tmp_path / "crm.csv"
    csv.write_text(
        "source_id,first_name,last_name,email\nERA-1,Ottavia,Quarzovich,ottavia@example.com\n"
    )
    first = admin.import_file(csv, source="crm")
    assert first.customers_created == 1
    cid = admin.search_customers(MARKER)[0].id
    admin.erase_customer(cid)
    again = admin.import_file(csv, source="crm")
    assert again.held == 1 and again.created == 0 and again.customers_created == 0
    assert admin.search_customers(MARKER) == ()
    entry = admin.audit_log(limit=1).entries[0]
    assert entry.action == "import" and entry.detail["held"] == 1


def test_a_legal_hold_refuses_erasure_until_lifted(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    assert not admin.legal_hold(7).held
    held = admin.set_legal_hold(7, True)
    assert held.held and held.by == "admin"
    with pytest.raises(Conflict, match="legal hold"):
        admin.erase_customer(7)
    assert admin.get_customer(7).emails  # untouched
    assert not admin.set_legal_hold(7, False).held
    admin.erase_customer(7)
    with pytest.raises(Conflict, match="erased already"):
        admin.erase_customer(7)


@pytest.mark.parametrize("agent", ["giulia", "anna"], ids=["operator", "supervisor"])
def test_only_admins_export_erase_or_hold(make_backend: BackendFactory, agent: str) -> None:
    backend = make_backend(agent)
    with pytest.raises(Forbidden):
        backend.export_customer(7)
    with pytest.raises(Forbidden):  # ReadOnly for a supervisor
        backend.erase_customer(7)
    with pytest.raises(Forbidden):
        backend.set_legal_hold(7, True)
    if agent == "anna":
        with pytest.raises(ReadOnly):
            backend.erase_customer(7)
    assert make_backend("admin").get_customer(7).emails
