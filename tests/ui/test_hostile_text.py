"""Customer-supplied text is shown literally: markup, ANSI escapes, bidi overrides,
emoji and a 10,000-character line display as text and break nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest

from backends.models import QueueQuery
from console.screens.event import EventScreen
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from console.widgets.customer.timeline import TimelineList
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio

NAME = "[bold red]Mario[/]"
LAST = "\x1b[31mRossi\x1b[0m \u202eevil\u202c 😀"
SUBJECT = "[@click=app.quit]x[/] help"
LONG = "Ω" + "x" * 9_998 + "!"


def poison(path, backend) -> int:
    """Make the first contact of the queue hostile; returns its id."""
    contact = backend.queue(QueueQuery(), limit=1).contacts[0]
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE customers SET first_name = ?, last_name = ? WHERE id = ?",
            (NAME, LAST, contact.customer_id),
        )
        db.execute("UPDATE contacts SET subject = ? WHERE id = ?", (SUBJECT, contact.id))
        db.execute(
            "UPDATE messages SET body = ? WHERE contact_id = ?",
            (f"[@click=app.quit]click me[/] \x1b]0;pwned\x07 {LONG}", contact.id),
        )
        row = db.execute(
            "SELECT id, payload FROM events WHERE contact_id = ? ORDER BY at DESC", (contact.id,)
        ).fetchone()
        payload = json.loads(row[1])
        payload["subject"] = SUBJECT
        db.execute(
            "UPDATE events SET summary = ?, payload = ?, at = ? WHERE id = ?",
            (f"Chat: {SUBJECT} {LONG}", json.dumps(payload), 1_795_000_000, row[0]),
        )
    db.close()
    return contact.id


async def test_hostile_text_renders_literally(make_app, demo_db, backend) -> None:
    contact_id = poison(demo_db, backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        assert screen.contact is not None and screen.contact.id == contact_id
        queue_text = str(screen.query_one("#queue-list").render())
        assert "[bold red]Mar" in queue_text and "[@click=" in queue_text
        profile = str(screen.query_one("#profile").render())
        assert NAME in profile and "Rossi" in profile and "😀" in profile
        assert "\x1b" not in profile and "\u202e" not in profile
        bar = str(screen.query_one("#contact-bar").render())
        assert "[@click=app.quit]x[/]" in bar

        # the conversation event, opened in its detail view
        view = screen.query_one(CustomerView)
        timeline = screen.query_one(TimelineList)
        index = next(i for i, e in enumerate(timeline.events) if e.contact_id == contact_id)
        timeline.highlighted = index
        timeline.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventScreen)
        detail = str(app.screen.query_one("#event-body").render())
        assert "[@click=app.quit]click me[/]" in detail
        assert LONG in detail.replace("\n", "")
        assert "pwned" not in detail and "\x1b" not in detail and "\x07" not in detail
        # clicking on the would-be link does nothing: the app keeps running
        await pilot.click("#event-body", offset=(3, 8))
        await settle(pilot)
        assert app.is_running
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\u202e" not in svg
        await pilot.press("escape")
        await settle(pilot)
        assert view.customer is not None and view.customer.first_name == NAME
        # the filter box takes brackets as text too
        await pilot.press("f", *"[b]", "enter")
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.is_running
