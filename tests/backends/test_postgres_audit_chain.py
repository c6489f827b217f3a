"""The audit trail on PostgreSQL stays one valid chain when several server processes write
at once: two factories (two connection pools, as two `vista serve` processes hold them)
write concurrently, and every write has its entry, in one unbroken chain."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from backends import copy_store, open_factory
from backends.base import Backend
from backends.models import QueueQuery
from tests.postgres_server import PostgresServer
from tests.race import at_once

WRITERS_PER_SERVER = 4
NOTES_PER_WRITER = 15


def test_two_servers_writing_at_once_keep_one_chain(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    url = postgres_server.create(postgres_server.new_name())
    copy_store(str(demo_db), url)
    one, two = open_factory(url, read_audit=False), open_factory(url, read_audit=False)
    try:
        admin = one("admin")
        before = admin.verify_audit()
        assert before.ok
        writers = 2 * WRITERS_PER_SERVER
        contacts = [
            c.id for c in admin.queue(QueueQuery(unassigned=True), limit=writers).contacts
        ]  # one each: two writers of one contact would race on its version, not the chain

        def write(backend: Backend, n: int) -> None:
            for i in range(NOTES_PER_WRITER):
                backend.add_customer_note(1 + (n + i) % 20, f"note {n}.{i}")
                if i % 5 == 0:  # a contact write too: row locks, then the chain's lock
                    backend.set_priority(contacts[n], "high")

        backends = [(one, two)[n % 2]("admin") for n in range(writers)]
        at_once([lambda b=b, n=n: write(b, n) for n, b in enumerate(backends)])  # errors raise
        after = two("admin").verify_audit()
        notes = 2 * WRITERS_PER_SERVER * NOTES_PER_WRITER
        priorities = 2 * WRITERS_PER_SERVER * len(range(0, NOTES_PER_WRITER, 5))
        assert after.ok, after
        assert after.checked == before.checked + notes + priorities
        written = [e for e in admin.audit_log(limit=1000).entries if e.action == "customer-note"]
        assert len({e.object_id for e in written}) == notes  # one entry per write
    finally:
        one.close()
        two.close()


def test_a_write_that_fails_leaves_no_entry(postgres_server: PostgresServer, demo_db: Path) -> None:
    """The entry is in the write's own transaction: a refused write adds none."""
    url = postgres_server.create(postgres_server.new_name())
    copy_store(str(demo_db), url)
    factory = open_factory(url, read_audit=False)
    try:
        admin = factory("admin")
        head = admin.audit_log(limit=1).entries[0].seq
        with psycopg.connect(url, autocommit=True) as pg:  # the next insert into events fails
            pg.execute(
                "ALTER TABLE events ADD CONSTRAINT no_notes CHECK (kind <> 'note') NOT VALID"
            )
        with pytest.raises(Exception, match="no_notes"):
            admin.add_customer_note(2, "refused by the database")
        assert admin.audit_log(limit=1).entries[0].seq == head
        assert admin.verify_audit().ok
    finally:
        factory.close()


def test_a_server_records_reads_supervisors_included(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    """Read audit (on for `vista serve`): a profile read is an entry, also a supervisor's,
    whose store is read-only (the entry goes through the writable pool); the backend's own
    reads (a reply reading its customer) are not."""
    url = postgres_server.create(postgres_server.new_name())
    copy_store(str(demo_db), url)
    factory = open_factory(url)
    try:
        admin = factory("admin")
        factory("anna", read_only=True).get_customer(12)
        factory("giulia", token="desk-1").get_customer(12)
        reads = admin.audit_log(customer_id=12, limit=10).entries[:2]
        assert [(e.action, e.agent, e.token, e.origin) for e in reads] == [
            ("read", "giulia", "desk-1", "api"),
            ("read", "anna", "", "api"),
        ]
        assert reads[0].detail == {"what": "profile"} and not reads[0].changes
        head = admin.audit_log(limit=1).entries[0].seq
        admin.add_customer_note(12, "no read entry for the backend's own reads")
        assert [e.action for e in admin.audit_log(limit=5).entries if e.seq > head] == [
            "customer-note"
        ]
    finally:
        factory.close()
