"""A hostile name or subject that *starts* with escape sequences and bidi controls reaches the
queue row clean: the characters sit before the point where the column is cut, so only the
sanitiser (console/safe_text.py) keeps them off the screen."""

from __future__ import annotations

import sqlite3

import pytest

from backends.models import QueueQuery
from console.screens.workspace import WorkspaceScreen
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio

FIRST = "\x1b[31m\u202e\u2067\x07\x9b1mAnna"
LAST = "\u200fNeri\u202c"
SUBJECT = "\x1b]0;pwned\x07\u202ePacco in ritardo"
HOSTILE = ("\x1b", "\u202e", "\u2067", "\u200f", "\u202c", "\x07", "\x9b", "pwned", "[31m")


async def test_hostile_characters_at_the_start_never_reach_the_queue_row(
    make_app, demo_db, backend
) -> None:
    contact = backend.queue(QueueQuery(), limit=1).contacts[0]
    db = sqlite3.connect(demo_db)
    with db:
        db.execute(
            "UPDATE customers SET first_name = ?, last_name = ? WHERE id = ?",
            (FIRST, LAST, contact.customer_id),
        )
        db.execute("UPDATE contacts SET subject = ? WHERE id = ?", (SUBJECT, contact.id))
    db.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        assert screen.contact is not None and screen.contact.id == contact.id
        queue_text = str(screen.query_one("#queue-list").render())
        first_row = next(line for line in queue_text.splitlines() if "Anna" in line)
        assert "Anna Neri" in first_row and "Pacco in" in first_row
        for bad in HOSTILE:
            assert bad not in queue_text, repr(bad)
        bar = str(screen.query_one("#contact-bar").render())
        assert "Pacco in ritardo" in bar
        for bad in HOSTILE:
            assert bad not in bar, repr(bad)
        svg = app.export_screenshot()
        for bad in HOSTILE[:-2]:
            assert bad not in svg, repr(bad)
