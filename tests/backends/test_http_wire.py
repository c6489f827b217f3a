"""The server answers a customer view or a timeline page with the bytes `wire.encode` writes
for the models the store returns, for every event the store can hold, and those bytes read
back as the models and as the CLI's `--json` values."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends import open_factory
from backends.http import wire
from backends.models import CustomerView, EventKind, Role, TimelinePage
from backends.sqlite.backend import SQLiteBackend
from backends.text import json_escaped_bytes
from console.server.app import create_app
from console.server.hub import Hub
from tests.conftest import NOW

HOSTILE = [  # (kind, channel, summary, payload) as a source may have left them
    ("chat", "chat", 'ciao \u202egnp.exe\u202c \x1b[31mred\x07 "quoted" \\ back', '{"a": 1}'),
    ("order", "web", "emoji \U0001f600 and \u2028 line sep", '{"total": NaN, "max": Infinity}'),
    ("note", "", "", "[1, 2, 3]"),
    ("note", "", "null payload", "null"),
    ("email", "email", "nested", '{"x": {"y": [1, "\\u0000", null, true]}, "z": -0.0}'),
    ("survey", "web", "spaces", '{ "spaced" :  "out" , "n": 1e400 }'),
    ("order", "web", "Città €", '{"città": "Müller ß \u20ac €", "s": "😀"}'),
]


def _add_events(db: Path, customer_id: int) -> None:
    with sqlite3.connect(db) as conn:
        top = conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0
        at = int(NOW.timestamp())
        for i, (kind, channel, summary, payload) in enumerate(HOSTILE, start=1):
            conn.execute(
                "INSERT INTO events (customer_id, at, id, kind, channel, source, summary, payload,"
                " contact_id) VALUES (?, ?, ?, ?, ?, 'crm', ?, ?, ?)",
                (
                    customer_id,
                    at + i,
                    top + i,
                    kind,
                    channel,
                    summary,
                    payload,
                    i if i % 2 else None,
                ),
            )


class _Http:
    """GET requests to the API server's app, called in process through ASGI (no socket)."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client, self.loop = client, loop

    def get(self, path: str, params: Any = None) -> httpx.Response:
        return self.loop.run_until_complete(self.client.get(path, params=params))


@pytest.fixture
def http(demo_db: Path) -> Iterator[_Http]:
    factory = open_factory(str(demo_db), clock=lambda: NOW)
    hub = Hub(factory)
    admin = factory("vista-tests", role=Role.ADMIN)
    token = admin.create_token("wire", Role.OPERATOR, "demo").token
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(hub=hub)),
        base_url="http://testserver/api/v1",
        headers={"authorization": f"Bearer {token}"},
    )
    yield _Http(client, loop)
    loop.run_until_complete(client.aclose())
    loop.close()
    hub.close()


def _query(args: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, v) for k, value in args.items() for v in wire.query_values(value)]


def test_a_customer_view_is_byte_for_byte_the_models_json(demo_db: Path, http: _Http) -> None:
    backend = SQLiteBackend(demo_db, agent="demo", read_only=True)
    customers = [r[0] for r in sqlite3.connect(demo_db).execute("SELECT id FROM customers")]
    assert len(customers) >= 300
    decode = wire.decoder(CustomerView)
    for cid in customers:
        for args in ({"limit": 200}, {"limit": 3}, {"kinds": (EventKind.ORDER,), "limit": 50}):
            view = backend.customer_view(cid, **args)
            answer = http.get(f"/customers/{cid}/view", params=_query(args))
            assert answer.status_code == 200, answer.text
            assert answer.content == wire.encode(view)
            assert decode(answer.content) == view  # the client reads back the same models
            assert json.loads(answer.content) == view.to_json()  # as the CLI's --json says


def test_hostile_events_and_cursors_give_the_same_bytes(demo_db: Path, http: _Http) -> None:
    cid = 5
    _add_events(demo_db, cid)
    backend = SQLiteBackend(demo_db, agent="demo", read_only=True)
    view = http.get(f"/customers/{cid}/view", params={"limit": 200}).content
    # the same bytes, with bidi and C1 controls written as \u escapes for terminals' sake
    assert view == json_escaped_bytes(wire.encode(backend.customer_view(cid, limit=200)))
    assert "\u202e".encode() not in view and b"\\u202e" in view
    # valid JSON, no NaN, the hostile summary kept as data
    data = json.loads(view, parse_constant=lambda c: pytest.fail(f"{c} on the wire"))
    summaries = [e["summary"] for e in data["timeline"]["events"]]
    assert HOSTILE[0][2] in summaries
    cursor = None
    pages = 0
    while True:  # every page of the timeline, following the cursor
        args = {"limit": 4, "cursor": cursor}
        page = http.get(f"/customers/{cid}/timeline", params=_query(args)).content
        expected = backend.timeline(cid, limit=4, cursor=cursor)
        assert page == json_escaped_bytes(wire.encode(expected))
        assert wire.decoder(TimelinePage)(page) == expected
        cursor = json.loads(page)["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert pages > 2


def test_an_unknown_kind_is_a_server_error_not_a_half_answer(demo_db: Path, http: _Http) -> None:
    with sqlite3.connect(demo_db) as conn:
        conn.execute("UPDATE events SET kind = 'telepathy' WHERE customer_id = 5")
    backend = SQLiteBackend(demo_db, agent="demo", read_only=True)
    with pytest.raises(ValueError, match="telepathy"):
        backend.timeline(5, limit=10)
    answer = http.get("/customers/5/timeline", params={"limit": 10})
    assert answer.status_code == 500
    assert answer.json()["error"]["message"] == "internal server error (see the server log)"
