"""`vista serve --replica`: read-only users read from a streaming replica (a real hot
standby of a throwaway primary, tests/postgres_replica.py), every write goes to the primary.

With the standby's replay paused, what a supervisor reads is the replica's (stale but
consistent) state while an operator's claim is already on the primary: that tells which
server answered. A replica that stops answering hands its reads to the primary.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import psycopg
import pytest

from backends import copy_store, open_backend, open_factory
from backends.base import BackendFactory, InvalidInput, ReadOnly, Unavailable
from backends.models import QueueQuery, Role
from backends.postgres import replica as replica_module
from tests.backends.live_server import LiveServer
from tests.conftest import NOW
from tests.postgres_replica import Replicated, replicated  # noqa: F401 - fixture

SUPERVISOR, OPERATOR = "anna", "giulia"


def _served(pair: Replicated, demo_db: Path) -> tuple[str, str]:
    """A copy of the demo store on the primary, and its URL on the caught-up replica."""
    name = pair.primary.new_name("vista_repl")
    url = pair.primary.create(name)
    copy_store(str(demo_db), url)
    pair.catch_up()
    return url, pair.replica.url(name)


def _unassigned(factory: BackendFactory) -> int:
    admin = factory("admin")
    return admin.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id


def _read_entries(url: str, agent: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM audit WHERE action = 'read' AND agent = %s", (agent,)
        ).fetchone()
    return int(row[0]) if row else 0


def test_supervisor_reads_the_replica_operator_writes_the_primary(
    replicated: Replicated,  # noqa: F811 - fixture
    demo_db: Path,
) -> None:
    url, replica_url = _served(replicated, demo_db)
    factory = open_factory(url, replica=replica_url, clock=lambda: NOW)  # KPIs' window fixed
    try:
        supervisor = factory(SUPERVISOR, read_only=True, role=Role.SUPERVISOR, token="wall")
        operator = factory(OPERATOR, role=Role.OPERATOR, token="desk")
        read_only_operator = factory(OPERATOR, read_only=True, role=Role.OPERATOR, token="ro")
        server = factory("vista-server", read_only=True)  # the server's own reads: primary
        assert supervisor.location == read_only_operator.location != operator.location
        assert "standby" in supervisor.location and server.location == operator.location
        contact = _unassigned(factory)
        stats_before = supervisor.stats()
        replicated.replay(False)
        try:
            claimed = operator.claim(contact)  # a write: on the primary, replay or not
            assert claimed.assignee == OPERATOR
            assert server.get_contact(contact).contact.assignee == OPERATOR
            # the replica shows the state before the claim (consistent, not yet replayed)
            assert supervisor.get_contact(contact).contact.assignee is None
            assert read_only_operator.get_contact(contact).contact.assignee is None
            assert supervisor.stats() == stats_before  # KPIs from the replica as well
            # a supervisor's read writes its audit entry on the primary (the replica lags)
            before = _read_entries(url, SUPERVISOR)
            supervisor.get_customer(claimed.customer_id)
            assert _read_entries(url, SUPERVISOR) == before + 1
            assert _read_entries(replica_url, SUPERVISOR) == before
            # writes by read-only users stay refused, by Vista before PostgreSQL
            with pytest.raises(ReadOnly):
                supervisor.add_customer_note(claimed.customer_id, "no")
            with pytest.raises(ReadOnly):
                read_only_operator.release(contact)
            # the change feed: the replica's end stays behind until replay goes on
            primary_end = server.changes(-1).cursor
            assert supervisor.changes(-1).cursor < primary_end
        finally:
            replicated.replay(True)
        replicated.catch_up()
        assert supervisor.get_contact(contact).contact.assignee == OPERATOR
        assert supervisor.changes(-1).cursor == server.changes(-1).cursor
        assert _read_entries(replica_url, SUPERVISOR) == _read_entries(url, SUPERVISOR)
    finally:
        factory.close()


def test_change_feed_watcher_wakes_replica_readers_when_the_change_arrives_there(
    replicated: Replicated,  # noqa: F811 - fixture
    demo_db: Path,
) -> None:
    """The server's long-poll watcher reads the feed's end on both servers, so a
    supervisor waiting on the replica wakes when the replica has the change (NOTIFY does
    not reach a standby; the watcher polls)."""
    from console.server.hub import Hub

    url, replica_url = _served(replicated, demo_db)
    hub = Hub(open_factory(url, replica=replica_url))
    try:
        primary_end, replica_end = hub.feed_end()  # type: ignore[misc]
        assert primary_end == replica_end
        operator = hub.backend(OPERATOR, read_only=False, role=Role.OPERATOR, token="desk")
        supervisor = hub.backend(SUPERVISOR, read_only=True, role=Role.SUPERVISOR, token="w")
        replicated.replay(False)
        try:
            operator.claim(_unassigned(hub._backends))
            moved = hub.feed_end()
            assert moved == (moved[0], replica_end) and moved[0] > primary_end  # type: ignore[index]
            assert supervisor.changes(replica_end).changes == ()

            async def woken() -> bool:
                armed = hub.changed.armed()
                waiting = asyncio.create_task(hub.changed.wait(5.0, armed=armed, seen=replica_end))
                await asyncio.sleep(0.5)
                assert not armed.is_set()  # the primary moved before: not news for it
                replicated.replay(True)
                await waiting
                return armed.is_set()

            hub.changed._interval = 0.05
            assert asyncio.run(woken())
        finally:
            replicated.replay(True)
        replicated.catch_up()
        assert [c.action for c in supervisor.changes(replica_end).changes]
    finally:
        hub.close()


def test_a_dead_replica_hands_its_reads_to_the_primary(
    replicated: Replicated,  # noqa: F811 - fixture
    demo_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    standby, server = replicated.new_standby()
    name = replicated.primary.new_name("vista_dead")
    url = replicated.primary.create(name)
    copy_store(str(demo_db), url)
    replicated.catch_up(server)
    factory = open_factory(url, replica=server.url(name))
    try:
        supervisor = factory(SUPERVISOR, read_only=True, role=Role.SUPERVISOR, token="wall")
        contact = _unassigned(factory)
        assert supervisor.get_contact(contact).contact.assignee is None
        standby.stop()
        factory(OPERATOR, role=Role.OPERATOR).claim(contact)
        # the primary answers in its place: fresh data, no error
        assert supervisor.get_contact(contact).contact.assignee == OPERATOR
        assert supervisor.stats() is not None  # KPIs too
        assert "reads go to the primary" in caplog.text
        with pytest.raises(ReadOnly):
            supervisor.add_customer_note(1, "still read-only on the primary")
        # tried again after RETRY_S: still dead, still served
        monkeypatch.setattr(replica_module, "RETRY_S", 0.0)
        assert supervisor.get_contact(contact).contact.assignee == OPERATOR
    finally:
        factory.close()
    # a replica that is not there when the server starts: a clear error, naming it
    with pytest.raises(Unavailable, match="replica"):
        open_factory(url, replica=server.url(name))


def test_a_replica_of_another_database_is_refused(
    replicated: Replicated,  # noqa: F811 - fixture
    demo_db: Path,
) -> None:
    from backends.postgres.store import PgStore

    url, _replica_url = _served(replicated, demo_db)
    other = replicated.primary.new_name("vista_other")
    PgStore(replicated.primary.create(other)).close()  # a new store: another store id
    replicated.catch_up()
    with pytest.raises(Unavailable, match="not a copy of"):
        open_factory(url, replica=replicated.replica.url(other))


def test_a_replica_needs_postgresql(demo_db: Path) -> None:
    with pytest.raises(InvalidInput, match="PostgreSQL"):
        open_factory(str(demo_db), replica="postgresql://replica/vista")


def test_vista_serve_with_a_replica_over_http(
    replicated: Replicated,  # noqa: F811 - fixture
    demo_db: Path,
    live_server: LiveServer,
) -> None:
    """Through the API: tokens made while replay is paused work at once (the server checks
    tokens on the primary); a supervisor's reads and held reads come from the replica, an
    operator's claim is on the primary, a supervisor's write answers 403."""
    import httpx

    url, replica_url = _served(replicated, demo_db)
    live_server.backends = open_factory(url, replica=replica_url, clock=lambda: NOW)
    live_server.hub.retarget(live_server.backends)
    contact = _unassigned(live_server.backends)
    replicated.replay(False)
    try:
        supervisor = live_server.backend_for(SUPERVISOR)
        operator = live_server.backend_for(OPERATOR)
        assert operator.claim(contact).assignee == OPERATOR
        detail = supervisor.get_contact(contact)
        assert detail.contact.assignee is None  # the replica's state
        assert (
            live_server.backend_for(OPERATOR, read_only=True).get_contact(contact).contact.assignee
            is None
        )  # a read-only client too
        supervisor.customer_view(detail.contact.customer_id)
        supervisor.stats()
        end = supervisor.changes(-1).cursor
        answer = httpx.post(
            f"{live_server.url}/api/v1/customers/{detail.contact.customer_id}/notes",
            json={"body": "a supervisor writes"},
            headers={"authorization": f"Bearer {live_server.token(SUPERVISOR)}"},
        )
        assert answer.status_code == 403, answer.text
        held: list[object] = []
        waiting = threading.Thread(
            target=lambda: held.append(supervisor.wait_changes(end, timeout=10.0))
        )
        started = time.monotonic()
        waiting.start()
        time.sleep(0.5)
        replicated.replay(True)
        waiting.join(15)
        assert held and held[0].changes, held  # type: ignore[attr-defined]
        assert time.monotonic() - started < 5.0  # woken by the watcher, not the re-read
    finally:
        replicated.replay(True)
    replicated.catch_up()
    assert supervisor.get_contact(contact).contact.assignee == OPERATOR


def test_vista_serve_reads_the_replica_named_by_vista_replica(
    replicated: Replicated,  # noqa: F811 - fixture
    demo_db: Path,
    tmp_path: Path,
) -> None:
    """The command: `VISTA_REPLICA` (as `--replica`) names the replica; the start-up line
    says where read-only users read; a replica that is not there stops the start (exit 1)."""
    import os
    import subprocess
    import sys

    from tests.serve_processes import connected as _connected
    from tests.serve_processes import free_port as _free_port

    url, replica_url = _served(replicated, demo_db)
    admin = open_backend(url, agent="admin")
    supervisor_token = admin.create_token("wall", Role.SUPERVISOR, SUPERVISOR).token
    operator_token = admin.create_token("desk", Role.OPERATOR, OPERATOR).token
    admin.close()
    vista = str(Path(sys.executable).with_name("vista"))
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        server = subprocess.Popen(
            [vista, "serve", "--backend", url, "--port", str(port), "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "VISTA_REPLICA": replica_url},
        )
    try:
        base = f"http://127.0.0.1:{port}"
        supervisor, operator = _connected(base, supervisor_token), _connected(base, operator_token)
        contact = operator.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
        replicated.replay(False)
        try:
            assert operator.claim(contact).assignee == OPERATOR
            assert supervisor.get_contact(contact).contact.assignee is None
        finally:
            replicated.replay(True)
        supervisor.close()
        operator.close()
    finally:
        server.terminate()
        server.wait(10)
    assert "read-only users read from the replica" in log.read_text()
    gone = replicated.primary.url("no_such_database")
    failed = subprocess.run(
        [vista, "serve", "--backend", url, "--replica", gone, "--port", str(_free_port())],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1
    assert "replica" in failed.stderr and "no_such_database" in failed.stderr
