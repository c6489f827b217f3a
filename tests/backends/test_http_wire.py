"""The SQLite backend writes customer views and timeline pages straight from the store's rows
(`encoded_customer_view`, `encoded_timeline`, which the server sends): the bytes must be
exactly those of encoding the models, for every event the store can hold."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backends.http import bodies
from backends.models import EventKind
from backends.sqlite.backend import SQLiteBackend
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


def test_a_customer_view_from_rows_is_byte_for_byte_the_models_json(demo_db: Path) -> None:
    backend = SQLiteBackend(demo_db, agent="demo", read_only=True)
    customers = [r[0] for r in sqlite3.connect(demo_db).execute("SELECT id FROM customers")]
    assert len(customers) >= 300
    for cid in customers:
        for args in ({"limit": 200}, {"limit": 3}, {"kinds": (EventKind.ORDER,), "limit": 50}):
            expected = bodies.encode(backend.customer_view(cid, **args))
            assert backend.encoded_customer_view(cid, **args) == expected


def test_hostile_events_and_cursors_give_the_same_bytes(demo_db: Path) -> None:
    cid = 5
    _add_events(demo_db, cid)
    backend = SQLiteBackend(demo_db, agent="demo", read_only=True)
    view = backend.encoded_customer_view(cid, limit=200)
    assert view == bodies.encode(backend.customer_view(cid, limit=200))
    # valid JSON, no NaN, the hostile summary kept as data
    data = json.loads(view, parse_constant=lambda c: pytest.fail(f"{c} on the wire"))
    summaries = [e["summary"] for e in data["timeline"]["events"]]
    assert HOSTILE[0][2] in summaries
    cursor = None
    pages = 0
    while True:  # every page of the timeline, following the cursor
        page = backend.encoded_timeline(cid, limit=4, cursor=cursor)
        assert page == bodies.encode(backend.timeline(cid, limit=4, cursor=cursor))
        cursor = json.loads(page)["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert pages > 2


def test_an_unknown_kind_takes_the_models_path(demo_db: Path) -> None:
    with sqlite3.connect(demo_db) as conn:
        conn.execute("UPDATE events SET kind = 'telepathy' WHERE customer_id = 5")
    backend = SQLiteBackend(demo_db, agent="demo", read_only=True)
    assert backend.encoded_timeline(5, limit=10) is None
    with pytest.raises(ValueError, match="telepathy"):
        backend.timeline(5, limit=10)
