"""The queue is windowed: a few pages around the cursor, never the whole queue,
and walking it forward or backward sees every contact exactly once, in order."""

from __future__ import annotations

import sqlite3

import pytest

from backends.models import QueueQuery
from backends.sqlite.backend import SQLiteBackend
from console.screens.workspace import WorkspaceScreen
from console.widgets.queue.pane import QueuePane
from console.widgets.queue.window import MAX_ROWS, PAGE, Fetch, QueueWindow
from tests.conftest import NOW
from tests.ui.conftest import settle

EXTRA = 2_000


def grow_queue(path) -> None:
    """Add EXTRA open contacts (copies of an open one, spread over priorities and times)."""
    db = sqlite3.connect(path)
    with db:
        cols = [r[1] for r in db.execute("PRAGMA table_xinfo(contacts)") if r[6] == 0]
        sql = f"SELECT {', '.join(cols)} FROM contacts WHERE status <> 'resolved' LIMIT 1"
        row = dict(zip(cols, db.execute(sql).fetchone()))
        top = db.execute("SELECT max(id) FROM contacts").fetchone()[0]
        rows = []
        for i in range(EXTRA):
            r = dict(
                row,
                id=top + 1 + i,
                priority=i % 4,
                status="new",
                assignee=None,
                created_at=row["created_at"] - i * 7,
                sla_due_at=row["created_at"] + i * 13,
            )
            rows.append(tuple(r[c] for c in cols))
        db.executemany(
            f"INSERT INTO contacts({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
        )
    db.close()


def run(window: QueueWindow, backend: SQLiteBackend, fetch: Fetch, query: QueueQuery) -> None:
    """What the pane's worker does, synchronously."""
    if fetch.kind == "refresh":
        before = backend.queue(query, cursor=fetch.cursor, limit=PAGE, backwards=True)
        start = before.next_cursor if before.contacts else None
        pages = (before, backend.queue(query, cursor=start, limit=2 * PAGE))
    elif fetch.kind in ("top", "forward"):
        pages = (backend.queue(query, cursor=fetch.cursor, limit=fetch.limit),)
    else:
        pages = (backend.queue(query, cursor=fetch.cursor, limit=fetch.limit, backwards=True),)
    assert window.apply(fetch, pages, backend.queue_count(query))


def test_walking_the_window_sees_every_contact_once(demo_db) -> None:
    grow_queue(demo_db)
    backend = SQLiteBackend(demo_db, agent="demo", clock=lambda: NOW)
    query = QueueQuery()
    everything = []
    cursor = None
    while True:
        page = backend.queue(query, cursor=cursor, limit=500)
        everything += [c.id for c in page.contacts]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(everything) == backend.queue_count(query) > EXTRA

    window = QueueWindow()
    run(window, backend, window.plan_top(), query)
    seen = []
    while True:
        seen.append(window.current.id)
        assert window.cursor == len(seen) - 1  # absolute position is tracked
        assert len(window.rows) <= MAX_ROWS + PAGE
        before = window.cursor
        window.move(1)
        while (fetch := window.plan_edge()) is not None:
            run(window, backend, fetch, query)
            if fetch.kind == "backward":
                break
        if window.cursor == before:
            break
    assert seen == everything

    # and back up to the top again
    back = [window.current.id]
    while window.cursor > 0:
        window.move(-1)
        while (fetch := window.plan_edge()) is not None and fetch.kind == "backward":
            run(window, backend, fetch, query)
        back.append(window.current.id)
    assert back == everything[::-1]

    # a refresh in the middle keeps the cursor on its contact
    for _ in range(700):
        window.move(1)
        if (fetch := window.plan_edge()) is not None:
            run(window, backend, fetch, query)
    here = window.current.id
    run(window, backend, window.plan_refresh(), query)
    assert window.current.id == here  # nothing changed: same contact, same position
    assert everything.index(window.current.id) == window.cursor
    backend.close()


@pytest.mark.anyio
async def test_queue_pane_never_holds_the_whole_queue(make_app, demo_db) -> None:
    grow_queue(demo_db)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        queue = screen.query_one(QueuePane)
        total = queue.window.count
        assert total > EXTRA and len(queue.window.rows) <= PAGE
        for _ in range(30):
            await pilot.press("pagedown")
            await settle(pilot, rounds=1)
        assert len(queue.window.rows) <= MAX_ROWS + PAGE
        assert queue.window.cursor > 300
        await pilot.press("end")
        await settle(pilot)
        assert queue.window.cursor == total - 1
        assert f"{total:,}/{total:,}" in str(queue.query_one("#queue-status").render())
        await pilot.press("home")
        await settle(pilot)
        assert queue.window.cursor == 0
