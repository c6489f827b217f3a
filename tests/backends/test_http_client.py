"""The remote backend against a real server: retries without duplicates, typed errors, going
offline, live updates by long-poll, and claim races between operators on separate threads."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from backends import open_backend
from backends.base import Capability, Conflict, Forbidden, InvalidInput, ReadOnly, Unavailable
from backends.http import wire
from backends.http.client import HTTPBackend
from backends.models import Channel, Contact, ContactStatus, Direction, Priority, QueueQuery, Role
from backends.sqlite.backend import SQLiteBackend
from tests.backends.live_server import LiveServer
from tests.race import at_once


@pytest.fixture
def served(live_server: LiveServer, demo_db: Path) -> LiveServer:
    live_server.serve(demo_db)
    return live_server


class LoseFirstAnswer(httpx.BaseTransport):
    """Delivers every request, but loses the answer to the first write (as a dropped link would)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0
        self.keys: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "GET":
            self.keys.append(request.headers.get("idempotency-key", ""))
            if not self.lost:
                response.read()
                self.lost += 1
                raise httpx.ReadTimeout("answer lost", request=request)
        return response


def _unassigned(backend: HTTPBackend, channel: Channel | None = None) -> int:
    query = QueueQuery(unassigned=True, channels=(channel,) if channel else ())
    return backend.queue(query, limit=1).contacts[0].id


def test_a_retried_reply_is_sent_once(served: LiveServer) -> None:
    transport = LoseFirstAnswer()
    backend = HTTPBackend(served.url, token=served.token("giulia"), transport=transport)
    cid = _unassigned(backend, Channel.EMAIL)
    message = backend.reply(cid, "Ci penso io.")  # no key from the caller: the client makes one
    assert (
        transport.lost == 1 and len(transport.keys) == 2 and transport.keys[0] == transport.keys[1]
    )
    outbound = [m for m in backend.get_contact(cid).messages if m.direction is Direction.OUTBOUND]
    assert [m.id for m in outbound] == [message.id]
    backend.close()


def test_a_retried_versioned_write_gets_the_first_answer(served: LiveServer) -> None:
    transport = LoseFirstAnswer()
    backend = HTTPBackend(served.url, token=served.token("giulia"), transport=transport)
    cid = _unassigned(backend)
    version = backend.get_contact(cid).contact.version
    # the first attempt applied the change; the retry must not answer 409 stale
    changed = backend.set_priority(cid, Priority.URGENT, expected_version=version)
    assert changed.version == version + 1 and changed.priority is Priority.URGENT
    assert backend.get_contact(cid).contact.version == version + 1
    backend.close()


def test_same_idempotency_key_twice_over_the_wire_sends_once(served: LiveServer) -> None:
    token = served.token("giulia")
    with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}) as http:
        cid = http.get(
            "/api/v1/queue", params={"unassigned": "true", "channels": "email", "limit": 1}
        ).json()
        cid = cid["contacts"][0]["id"]
        first = http.post(
            f"/api/v1/contacts/{cid}/replies",
            json={"body": "Salve"},
            headers={"idempotency-key": "abc"},
        )
        again = http.post(
            f"/api/v1/contacts/{cid}/replies",
            json={"body": "Salve"},
            headers={"idempotency-key": "abc"},
        )
        assert first.status_code == again.status_code == 200
        assert first.json()["id"] == again.json()["id"]
        messages = http.get(f"/api/v1/contacts/{cid}").json()["messages"]
        assert [m["body"] for m in messages].count("Salve") == 1


def test_errors_come_back_as_the_vista_error_classes(served: LiveServer) -> None:
    giulia = served.backend_for("giulia")
    marco = served.backend_for("marco")
    cid = _unassigned(giulia)
    giulia.claim(cid)
    with pytest.raises(Conflict, match="taken by giulia") as caught:
        marco.claim(cid)
    assert isinstance(caught.value.current, Contact) and caught.value.current.assignee == "giulia"
    supervisor = served.backend_for("anna", role=Role.SUPERVISOR)
    assert supervisor.read_only and supervisor.whoami().role is Role.SUPERVISOR
    with pytest.raises(ReadOnly):
        supervisor.set_status(cid, ContactStatus.RESOLVED)
    bad = HTTPBackend(served.url, token="vista_nope")
    with pytest.raises(Forbidden, match="unknown or revoked"):
        bad.queue_count()
    for b in (giulia, marco, supervisor, bad):
        b.close()


def test_a_dead_server_is_reported_unavailable_quickly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    backend = open_backend(f"http://127.0.0.1:{port}", token="vista_x")
    started = time.monotonic()
    with pytest.raises(Unavailable, match="offline"):
        backend.queue()
    with pytest.raises(Unavailable):
        backend.reply(1, "hello")
    assert time.monotonic() - started < 2.0
    backend.close()


def test_a_console_sees_another_operators_change_within_a_second(served: LiveServer) -> None:
    watcher = served.backend_for("anna", role=Role.SUPERVISOR)
    actor = served.backend_for("marco")
    cid = _unassigned(actor)
    start = watcher.changes(-1).cursor
    seen: list[tuple[float, list[tuple[int, str, str]]]] = []

    def watch() -> None:
        began = time.monotonic()
        batch = watcher.changes(start, wait=10)
        seen.append(
            (time.monotonic() - began, [(c.entity_id, c.action, c.actor) for c in batch.changes])
        )

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.3)  # the watcher is now parked on the server
    acted = time.monotonic()
    actor.claim(cid)
    thread.join(10)
    waited, changes = seen[0]
    assert changes == [(cid, "claimed", "marco")]
    assert 0.25 <= waited and time.monotonic() - acted < 1.0
    quiet_started = time.monotonic()
    assert watcher.changes(watcher.changes(-1).cursor, wait=0.5).changes == ()
    assert time.monotonic() - quiet_started >= 0.45  # held, then answered empty
    watcher.close()
    actor.close()


def test_claim_race_between_operator_threads_has_one_winner_per_contact(served: LiveServer) -> None:
    names = ["giulia", "marco", "sara", "luca"]
    backends = {n: served.backend_for(n) for n in names}
    contacts = [
        c.id for c in backends["giulia"].queue(QueueQuery(unassigned=True), limit=5).contacts
    ]
    assert len(contacts) == 5
    results: dict[int, list[tuple[str, str]]] = {}
    for cid in contacts:  # every operator claims each contact at one moment
        claims = [lambda n=n, cid=cid: backends[n].claim(cid) for n in names]
        results[cid] = [
            (name, str(r) if isinstance(r, Conflict) else f"won:{r.assignee}")
            for name, r in zip(names, at_once(claims, expected=(Conflict,)))
        ]
    for cid, outcomes in results.items():
        winners = [(n, r) for n, r in outcomes if r.startswith("won:")]
        assert len(winners) == 1, outcomes
        winner = winners[0][0]
        assert winners[0][1] == f"won:{winner}"
        losers = [r for n, r in outcomes if n != winner]
        # a loser is refused because the contact is taken, or because they hold as many
        # contacts of its channel as their capacity allows (whichever the store checks first)
        refused = all(f"taken by {winner}" in r or "at capacity" in r for r in losers)
        assert len(losers) == 3 and refused, outcomes
        assert backends["giulia"].get_contact(cid).contact.assignee == winner
    for b in backends.values():
        b.close()


def test_long_poll_sees_a_write_made_beside_the_server(served: LiveServer) -> None:
    """Another program writing the same file (a local CLI, an import) wakes the watchers too."""
    from backends.sqlite.backend import SQLiteBackend
    from tests.conftest import NOW

    watcher = served.backend_for("anna", role=Role.SUPERVISOR)
    start = watcher.changes(-1).cursor
    beside = SQLiteBackend(served.db, agent="luca", clock=lambda: NOW)
    cid = beside.queue(QueueQuery(unassigned=True), limit=1).contacts[0].id
    got: list[tuple[float, tuple[str, ...]]] = []

    def watch() -> None:
        began = time.monotonic()
        batch = watcher.changes(start, wait=10)
        got.append((time.monotonic() - began, tuple(c.actor for c in batch.changes)))

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.3)
    acted = time.monotonic()
    beside.claim(cid)
    thread.join(10)
    assert got and got[0][1] == ("luca",)
    assert time.monotonic() - acted < 1.0
    beside.close()
    watcher.close()


def test_the_same_client_works_again_when_the_server_comes_back(
    demo_db: Path, live_server: LiveServer
) -> None:
    """Offline is a state, not an end: no new backend is needed after a restart."""
    live_server.serve(demo_db)
    token = live_server.token("giulia")
    second = LiveServer(demo_db)
    second.start()
    port = second.port
    backend = HTTPBackend(second.url, token=token)
    assert backend.queue_count() > 0
    second.stop()
    with pytest.raises(Unavailable):
        backend.queue_count()
    again = LiveServer(demo_db, port=port)
    again.start()
    try:
        assert backend.queue_count() > 0
    finally:
        backend.close()
        again.stop()


def test_a_token_pasted_with_a_line_break_is_refused_with_a_clear_error(
    served: LiveServer,
) -> None:
    token = served.token("giulia")
    # a trailing newline (from a file) is not part of the token; one in the middle is an error
    assert HTTPBackend(served.url, token=token + "\n").whoami().name == "giulia"
    with pytest.raises(InvalidInput, match="exactly as `vista tokens create` printed it"):
        HTTPBackend(served.url, token=token + "\ntoken giulia for agent giulia")


class OldServer(httpx.BaseTransport):
    """The real server's answers without the capabilities header, as a server from before it
    (or a proxy dropping it) sends them; optionally with another list in its place."""

    def __init__(self, named: str | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.named = named

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        del response.headers[wire.CAPABILITIES_HEADER]
        if self.named is not None:
            response.headers[wire.CAPABILITIES_HEADER] = self.named
        return response


def test_the_capabilities_follow_what_the_server_names_for_its_store(served: LiveServer) -> None:
    token = served.token("admin")
    with HTTPBackend(served.url, token=token) as named:  # SQLite behind it
        held = Capability.WAIT_CHANGES  # the server's own held reads, whatever its store
        assert named.capabilities == HTTPBackend.CAPABILITIES & (SQLiteBackend.CAPABILITIES | held)
        assert Capability.ROUTING | Capability.AUDIT in named.capabilities
    with HTTPBackend(served.url, token=token, transport=OldServer()) as old:  # as before
        assert old.capabilities == HTTPBackend.CAPABILITIES
    narrow = OldServer("WRITE,KPIS,TOKENS,HOLOGRAMS")  # a name this client does not know
    with HTTPBackend(served.url, token=token, transport=narrow) as few:
        assert few.capabilities == Capability.WRITE | Capability.KPIS | Capability.TOKENS | held
        assert Capability.ROUTING not in few.capabilities
    with HTTPBackend(served.url, token=token, transport=OldServer("")) as none:
        assert none.capabilities == held


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed again: connections refused


def test_several_servers_the_first_unreachable_one_is_passed_over(served: LiveServer) -> None:
    down = _closed_port()
    backend = HTTPBackend(f"{down}, {served.url}/", token=served.token("giulia"), retries=0)
    try:
        assert backend.queue(limit=5).contacts  # a read, even without retries
        assert backend.server == served.url and backend.location == f"{down},{served.url}"
        cid = _unassigned(backend)
        assert backend.claim(cid).assignee == "giulia"  # and writes, on the server now in use
    finally:
        backend.close()
    # none reachable: Unavailable naming the last one tried
    nowhere = HTTPBackend(f"{down},{_closed_port()}", token="t", retries=1, backoff=0.01)
    with pytest.raises(Unavailable, match="offline"):
        nowhere.queue()
    nowhere.close()


def test_a_server_list_with_a_malformed_address_is_refused() -> None:
    with pytest.raises(InvalidInput, match="list servers as"):
        HTTPBackend("http://127.0.0.1:1,,http://127.0.0.1:2", token="t")
    with pytest.raises(InvalidInput, match="127.0.0.1:2"):
        open_backend("http://127.0.0.1:1,127.0.0.1:2", token="t")
