"""Two `vista serve` processes on one PostgreSQL database behave as one: a claim has one
winner whichever server each operator talks to, and a write through one server is in the
change feed the other serves."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backends import copy_store, open_backend
from backends.base import Conflict
from backends.http.client import HTTPBackend
from backends.models import QueueQuery, Role
from tests.postgres_server import PostgresServer
from tests.race import at_once
from tests.serve_processes import connected, start_serve


def _race(backends: tuple[HTTPBackend, ...], contact_id: int) -> list[object]:
    """Every backend claims the contact at the same moment: the assignees, or Conflicts."""
    return at_once(
        [lambda b=b: b.claim(contact_id).assignee for b in backends],
        expected=(Conflict,),
    )


Servers = tuple[str, list[str], list[subprocess.Popen[bytes]]]


@pytest.fixture
def two_servers(postgres_server: PostgresServer, demo_db: Path) -> Iterator[Servers]:
    url = postgres_server.create(postgres_server.new_name())
    copy_store(str(demo_db), url)
    started = [start_serve(url) for _ in range(2)]
    urls = [address for address, _ in started]
    servers = [process for _, process in started]
    try:
        yield url, urls, servers
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)


def test_one_winner_and_one_feed_across_two_server_processes(two_servers: Servers) -> None:
    url, (first, second), _ = two_servers
    with open_backend(url, agent="admin") as admin:
        assert admin.whoami().role is Role.ADMIN
        giulia = admin.create_token("two-giulia", Role.OPERATOR, "giulia").token
        marco = admin.create_token("two-marco", Role.OPERATOR, "marco").token
    one, two = connected(first, giulia), connected(second, marco)
    try:
        cursor = two.changes(since=-1).cursor
        for contact in one.queue(QueueQuery(unassigned=True), limit=5).contacts:
            outcomes = _race((one, two), contact.id)
            winners = [o for o in outcomes if isinstance(o, str)]
            assert len(winners) == 1 and len(outcomes) == 2, outcomes
            # both servers see the one winner
            assert one.get_contact(contact.id).contact.assignee == winners[0]
            assert two.get_contact(contact.id).contact.assignee == winners[0]
        # giulia's write through the first server is in the feed the second serves
        note = one.add_customer_note(1, "through the first server")
        seen = two.changes(since=cursor, limit=500).changes
        assert any(c.entity_id == 1 and c.action == "note" for c in seen), note
    finally:
        one.close()
        two.close()


def test_two_server_processes_append_to_one_audit_chain(two_servers: Servers) -> None:
    """Writes through both servers at once: every one has its entry, credited to the token
    that carried it, and the trail is one unbroken chain."""
    url, (first, second), _processes = two_servers
    with open_backend(url, agent="admin") as admin:
        tokens = {
            name: admin.create_token(f"chain-{name}", Role.OPERATOR, name).token
            for name in ("giulia", "marco")
        }
        before = admin.verify_audit()
    clients = [connected(first, tokens["giulia"]), connected(second, tokens["marco"])]
    per_client = 25

    def write(client: HTTPBackend, n: int) -> None:
        for i in range(per_client):
            client.add_customer_note(1 + (n + i) % 10, f"server {n} note {i}")

    try:  # a write's error fails the test here
        at_once([lambda c=c, n=n: write(c, n) for n, c in enumerate(clients)])
    finally:
        for client in clients:
            client.close()
    with open_backend(url, agent="admin") as admin:
        check = admin.verify_audit()
        assert check.ok and check.checked == before.checked + 2 * per_client
        notes = [e for e in admin.audit_log(limit=100).entries if e.action == "customer-note"]
        assert {(e.agent, e.token, e.origin) for e in notes} == {
            ("giulia", "chain-giulia", "api"),
            ("marco", "chain-marco", "api"),
        }


def test_a_console_carries_on_against_the_other_server_when_one_is_killed(
    two_servers: Servers,
) -> None:
    url, (first, second), processes = two_servers
    with open_backend(url, agent="admin") as admin:
        token = admin.create_token("failover-giulia", Role.OPERATOR, "giulia").token
    connected(first, token).close()  # both up before the client picks one
    connected(second, token).close()
    backend = connected(f"{first},{second}", token)
    try:
        assert backend.location == f"{first},{second}" and backend.server == first
        cursor = backend.changes(since=-1).cursor
        waiting = backend.queue(QueueQuery(unassigned=True), limit=3).contacts
        backend.claim(waiting[0].id)
        processes[0].kill()  # SIGKILL: no goodbye, its connections reset
        processes[0].wait(10)
        started = time.monotonic()
        # reads, a claim, a note and the change feed go on through the second server
        assert backend.queue(QueueQuery(unassigned=True), limit=3).contacts
        assert time.monotonic() - started < 5
        assert backend.server == second
        assert backend.claim(waiting[1].id).assignee == "giulia"
        note = backend.add_customer_note(1, "after the first server died")
        seen = backend.wait_changes(cursor, timeout=1.0).changes
        assert {waiting[0].id, waiting[1].id} <= {c.entity_id for c in seen}
        assert any(c.entity_id == 1 and c.action == "note" for c in seen), note
    finally:
        backend.close()
    # a client that starts while the first server is down finds the second at once
    later = HTTPBackend(f"{first},{second}", token=token)
    try:
        assert later.whoami().name == "giulia" and later.server == second
    finally:
        later.close()


def test_a_write_retried_on_the_other_server_is_answered_not_applied_again(
    two_servers: Servers,
) -> None:
    """The idempotency key lives in the database: a write whose answer was lost with one
    server gets the first answer from the other, and the store holds it once."""
    url, (first, second), _ = two_servers
    with open_backend(url, agent="admin") as admin:
        token = admin.create_token("retry-marco", Role.OPERATOR, "marco").token
    connected(first, token).close()
    connected(second, token).close()
    with open_backend(url, agent="admin") as admin:
        before = len(admin.timeline(2, limit=200).events)
    headers = {"authorization": f"Bearer {token}", "idempotency-key": "k-1"}
    body = {"body": "written once, answered twice"}
    path = "/api/v1/customers/2/notes"
    one = httpx.post(first + path, json=body, headers=headers)
    two = httpx.post(second + path, json=body, headers=headers)
    assert one.status_code == two.status_code == 200
    assert two.json() == one.json() and two.headers.get("idempotent-replay") == "true"
    # the same key for another request is refused there too; a new key is a new write
    other = httpx.post(second + path, json={"body": "another"}, headers=headers)
    assert other.status_code == 422
    fresh = httpx.post(second + path, json=body, headers={**headers, "idempotency-key": "k-2"})
    assert fresh.status_code == 200 and fresh.json()["id"] != one.json()["id"]
    with open_backend(url, agent="admin") as admin:
        ids = [e.id for e in admin.timeline(2, limit=200).events]
    assert ids.count(one.json()["id"]) == 1 and ids.count(fresh.json()["id"]) == 1
    assert len(ids) == len(set(ids)) == before + 2
