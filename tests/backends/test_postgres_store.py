"""The PostgreSQL store itself: versioned migrations, read-only enforced by the server, the
outbox shared by dispatchers in several processes, the change feed's notifications."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import psycopg.sql
import pytest

from backends import copy_store, open_backend
from backends.base import ReadOnly, Unavailable
from backends.models import Channel, QueueQuery
from backends.postgres.outbox import PgOutbox
from backends.postgres.store import SCHEMA_VERSION, PgStore
from tests.postgres_server import PostgresServer
from tests.race import at_once


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.create(postgres_server.new_name())


def _versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]


def test_a_new_database_is_migrated_once_to_the_current_schema(url: str) -> None:
    PgStore(url).close()
    assert _versions(url) == list(range(1, SCHEMA_VERSION + 1))
    store = PgStore(url)  # opening again applies nothing twice
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    assert _versions(url) == list(range(1, SCHEMA_VERSION + 1))


def test_a_newer_schema_and_an_unmigrated_read_only_open_are_refused(
    url: str, postgres_server: PostgresServer
) -> None:
    other = postgres_server.create(postgres_server.new_name())
    with pytest.raises(Unavailable, match="open it writable once"):
        PgStore(other, read_only=True)
    PgStore(url).close()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO schema_version(version, name) VALUES (%s, 'future')",
                     (SCHEMA_VERSION + 1,))  # fmt: skip
    with pytest.raises(Unavailable, match="newer than this Vista"):
        PgStore(url)


def test_a_server_that_is_not_there_is_unavailable_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot open database"):
        open_backend(f"postgresql://nobody@/vista?host={tmp_path}")
    assert time.monotonic() - started < 5


def test_a_read_only_store_is_refused_writes_by_the_server(url: str) -> None:
    PgStore(url).close()
    store = PgStore(url, read_only=True)
    try:
        with pytest.raises(ReadOnly), store.read() as db:
            db.execute("INSERT INTO agents VALUES ('x', 'x', 'operator', 0)")
        with pytest.raises(ReadOnly), store.write():
            pass
    finally:
        store.close()


def test_two_dispatchers_never_take_the_same_message(url: str, demo_db: Path) -> None:
    copy_store(str(demo_db), url)
    with open_backend(url, agent="giulia") as backend:
        email = backend.queue(QueueQuery(channels=(Channel.EMAIL,), unassigned=True), limit=12)
        sent = [backend.reply(c.id, "Gentile cliente, eccomi.").id for c in email.contacts]
    assert len(sent) >= 4
    stores = [PgStore(url), PgStore(url)]  # as two server processes hold them
    outboxes = [PgOutbox(store, clock=lambda: time.time() + 10**9) for store in stores]

    def dispatch(outbox: PgOutbox) -> list[int]:
        taken = []
        while batch := outbox.claim([Channel.EMAIL], lease_seconds=60, limit=1):
            taken.extend(m.message_id for m in batch)
        return taken

    try:
        taken = at_once([lambda o=o: dispatch(o) for o in outboxes])
    finally:
        for store in stores:
            store.close()
    assert not set(taken[0]) & set(taken[1])
    assert sorted(taken[0] + taken[1]) == sorted(sent)


def test_every_write_notifies_listeners_with_its_feed_cursor(url: str, demo_db: Path) -> None:
    copy_store(str(demo_db), url)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN vista_changes")
        with open_backend(url, agent="giulia") as backend:
            end = backend.changes(since=-1).cursor
            backend.add_customer_note(1, "seen by every server")
            after = backend.changes(since=end)
        heard = [int(n.payload) for n in listener.notifies(timeout=5, stop_after=1)]
    assert heard == [after.cursor] == [c.seq for c in after.changes]


def test_a_customer_view_is_read_on_one_connection_and_reads_outside_take_their_own(
    url: str, demo_db: Path
) -> None:
    copy_store(str(demo_db), url)
    store = PgStore(url, max_connections=4)
    try:
        pids = set()
        with store.one_transaction():
            for _ in range(3):
                with store.read() as conn:
                    pids.add(conn.info.backend_pid)
        assert len(pids) == 1  # one connection, one transaction for the block
        with store.read() as first, store.read() as second:  # outside: two checkouts
            assert first.info.backend_pid != second.info.backend_pid
        from backends.postgres.backend import PostgresBackend
        from backends.sqlite.backend import SQLiteBackend

        with SQLiteBackend(demo_db, agent="giulia") as lite:
            pg = PostgresBackend(store, agent="giulia")
            assert pg.customer_view(1, limit=200) == lite.customer_view(1, limit=200)
    finally:
        store.close()


def test_only_read_audit_entries_commit_without_waiting_for_the_disk(url: str) -> None:
    """`asynchronous_commits` (around read-audit entries) turns `synchronous_commit` off for
    this thread's write transactions inside the block, in any store; reads, other threads'
    writes and every write outside the block still wait for the write-ahead log's flush."""
    with psycopg.connect(url, autocommit=True) as conn:  # the tests' cluster defaults to off
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET synchronous_commit = on").format(
                psycopg.sql.Identifier(conn.info.dbname)
            )
        )
    store, other = PgStore(url), PgStore(url)
    try:

        def written(where: PgStore = store) -> str:
            with where.write() as db:
                return str(db.execute("SHOW synchronous_commit").fetchone()[0])

        elsewhere: list[str] = []
        assert written() == "on"
        with store.asynchronous_commits():
            assert written() == "off" and written(other) == "off"
            with store.read() as db:
                assert db.execute("SHOW synchronous_commit").fetchone()[0] == "on"
            thread = threading.Thread(target=lambda: elsewhere.append(written()))
            thread.start()
            thread.join()
        assert elsewhere == ["on"]
        assert written() == "on" and written(other) == "on"
    finally:
        store.close()
        other.close()


def test_single_reads_go_back_to_the_pool_in_transactions(url: str) -> None:
    """`single_reads` (the token check of every request) runs outside a transaction, but
    the connection it lends goes back to the pool as it came: a write on it afterwards is
    still all or nothing, also after a single read that failed."""
    store = PgStore(url, max_connections=1)  # one connection: every block below gets it
    try:
        with store.single_reads() as conn:
            assert conn.execute("SELECT count(*) FROM agents").fetchone()[0] == 0
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with pytest.raises(Exception, match="no_such_table"), store.single_reads() as conn:
            conn.execute("SELECT * FROM no_such_table")
        with pytest.raises(ReadOnly), store.write() as db:
            db.execute("INSERT INTO agents VALUES ('half', 'half', 'operator', 0)")
            raise ReadOnly("stop halfway")
        with store.single_reads() as conn:
            assert conn.execute("SELECT count(*) FROM agents").fetchone()[0] == 0
        with store.one_transaction(), store.read() as held, store.single_reads() as inner:
            assert inner is held  # inside a transaction, that transaction's connection
            inner.execute("SELECT 1")
            assert held.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    finally:
        store.close()
