"""A write sent with an Idempotency-Key is applied once even when its server dies mid-way:
two real `vista serve` processes on one store (a PostgreSQL database, or one SQLite file
on this machine); the first is killed (SIGKILL, tests/faults.py) at a point of the write,
the client sends the same write to the second, and the store holds it once."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backends import copy_store, open_backend
from backends.models import Role
from tests.race import at_once
from tests.serve_processes import connected, start_serve

PATH = "/api/v1/customers/2/notes"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, demo_db: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{demo_db}"
    server = request.getfixturevalue("postgres_server")
    url = str(server.create(server.new_name()))
    copy_store(str(demo_db), url)
    return url


@pytest.fixture
def stop_all() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.wait(10)


def _notes(url: str, text: str) -> list[int]:
    """The ids of customer 2's timeline events that carry `text`."""
    with open_backend(url, agent="admin") as admin:
        events = admin.timeline(2, limit=500).events
    return [e.id for e in events if text in str(e.payload) or text in e.summary]


@pytest.mark.parametrize("point", ["after-operation", "after-keyed-write"])
def test_a_write_whose_server_died_is_applied_once_when_retried_on_another(
    store_url: str, point: str, stop_all: list[subprocess.Popen[bytes]]
) -> None:
    with open_backend(store_url, agent="admin") as admin:
        token = admin.create_token("crash-marco", Role.OPERATOR, "marco").token
    dying, first = start_serve(store_url, fault=point)
    other, second = start_serve(store_url)
    stop_all.extend([first, second])
    for url in (dying, other):
        connected(url, token).close()
    headers = {"authorization": f"Bearer {token}", "idempotency-key": f"crash-{point}"}
    body = {"body": f"written once although a server died ({point})"}
    with pytest.raises(httpx.TransportError):  # the server died before it answered
        httpx.post(dying + PATH, json=body, headers=headers, timeout=30)
    assert first.wait(10) == -9  # SIGKILL, at the planted point
    retried = httpx.post(other + PATH, json=body, headers=headers, timeout=30)
    assert retried.status_code == 200, retried.text
    again = httpx.post(other + PATH, json=body, headers=headers, timeout=30)
    assert again.status_code == 200 and again.headers.get("idempotent-replay") == "true"
    assert again.json() == retried.json()
    ids = _notes(store_url, body["body"])
    assert ids == [retried.json()["id"]], ids  # in the store once, the one answered


def test_the_same_keyed_write_on_two_servers_at_once_is_applied_once(
    store_url: str, stop_all: list[subprocess.Popen[bytes]]
) -> None:
    """A client that gave up on a slow server and retried on the other: both run the key at
    the same moment; the store holds one write and both answer it."""
    with open_backend(store_url, agent="admin") as admin:
        token = admin.create_token("race-marco", Role.OPERATOR, "marco").token
    servers = [start_serve(store_url) for _ in range(2)]
    stop_all.extend(process for _, process in servers)
    for url, _ in servers:
        connected(url, token).close()
    headers = {"authorization": f"Bearer {token}", "idempotency-key": "race-1"}
    body = {"body": "one write from two servers at once"}
    answers = at_once(
        [
            lambda url=url: httpx.post(url + PATH, json=body, headers=headers, timeout=30)
            for url, _ in servers
        ]
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.headers.get("idempotent-replay", "") for a in answers) == ["", "true"]
    assert _notes(store_url, body["body"]) == [answers[0].json()["id"]]
