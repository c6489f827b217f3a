"""Rough edges an operator meets in the first hour: keys that did nothing and said nothing,
a composer open on someone else's contact, a timeline filter carried to the next customer,
channel warnings cut off."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from console.widgets.side.composer import Composer
from tests.conftest import NOW
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


def hold_first(path, backend, holder: str | None, **columns: object) -> int:
    """Give the contact the console opens first to `holder` (None: free); returns its id."""
    first = backend.queue(limit=1).contacts[0]
    sets = ", ".join(["assignee = ?", "status = 'open'", *(f"{k} = ?" for k in columns)])
    db = sqlite3.connect(path)
    with db:
        db.execute(
            f"UPDATE contacts SET {sets} WHERE id = ?", (holder, *columns.values(), first.id)
        )
    db.close()
    return first.id


async def opened(pilot, contact_id: int | None = None) -> WorkspaceScreen:
    await settle(pilot)
    await pilot.pause(0.2)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WorkspaceScreen) and screen.contact is not None
    if contact_id is not None:
        assert screen.contact.id == contact_id
    return screen


def notices(app) -> list[str]:
    """Record what the app notifies from now on."""
    seen: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        seen.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return seen


async def test_claim_on_a_contact_another_holds_says_who(make_app, backend, demo_db) -> None:
    contact_id = hold_first(demo_db, backend, "marco")
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot, contact_id)
        seen = notices(app)
        screen.query_one("#queue-list").focus()
        await pilot.press("c")
        await settle(pilot)
        assert any("held by marco" in n for n in seen), seen
        assert backend.get_contact(contact_id).contact.assignee == "marco"  # nothing taken
        await pilot.press("x")  # release: marco's to give back
        await settle(pilot)
        assert any("only they can release it" in n for n in seen), seen


async def test_claim_on_a_free_contact_says_nothing_extra(make_app, backend, demo_db) -> None:
    contact_id = hold_first(demo_db, backend, None)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot, contact_id)
        seen = notices(app)
        await pilot.press("c")
        await settle(pilot)
        assert backend.get_contact(contact_id).contact.assignee == "demo"
        assert not [n for n in seen if "held by" in n]
        await pilot.press("c")  # mine already
        await settle(pilot)
        assert any("yours already" in n for n in seen), seen


async def test_composer_is_read_only_on_a_contact_another_holds(make_app, backend, demo_db) -> None:
    contact_id = hold_first(demo_db, backend, "marco")
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot, contact_id)
        composer = screen.query_one(Composer)
        seen = notices(app)
        head = str(composer.query_one("#composer-head").render())
        assert "READ-ONLY" in head and "held by marco" in head
        assert composer.text_area.read_only and not composer.text_area.display
        assert composer.size.height <= 2  # the customer view gets the rows
        await pilot.press("i")
        await settle(pilot)
        assert not composer.text_area.has_focus
        assert any("held by marco" in n and "transfer" in n for n in seen), seen

        # the same composer on my own contact: writable, and `i` goes there
        await pilot.press("c")  # refused: marco's
        db = sqlite3.connect(demo_db)
        with db:
            db.execute("UPDATE contacts SET assignee = 'demo' WHERE id = ?", (contact_id,))
        db.close()
        screen._refresh_contact(contact_id)
        await settle(pilot)
        assert not composer.text_area.read_only and composer.text_area.display
        await pilot.press("i")
        await settle(pilot)
        assert composer.text_area.has_focus


async def test_timeline_filter_resets_for_the_next_customer(make_app, demo_db) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot)
        view = screen.query_one(CustomerView)
        first = view.customer_id
        screen.query_one("#queue-list").focus()
        await pilot.press("e")  # conversations only
        await settle(pilot)
        assert view.kind_filter == 1
        assert "[all kinds]" not in str(view.query_one("#timeline-bar").render())
        while view.customer_id == first:
            await pilot.press("down")
            await pilot.pause(0.1)
            await settle(pilot)
        assert view.kind_filter == 0 and view.channel_filter == 0
        assert "[all kinds]" in str(view.query_one("#timeline-bar").render())


async def test_same_customer_reload_keeps_the_filter(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot)
        view = screen.query_one(CustomerView)
        screen.query_one("#queue-list").focus()
        await pilot.press("e")
        await settle(pilot)
        view.reload_timeline()  # a live change to the same customer
        await settle(pilot)
        assert view.kind_filter == 1


async def test_blocked_keys_in_read_only_mode_say_so(make_app) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot)
        seen = notices(app)
        screen.query_one("#queue-list").focus()
        for key in ("c", "r", "t"):
            await pilot.press(key)
            await settle(pilot)
        assert "read-only: claim not allowed" in seen
        assert "read-only: resolve not allowed" in seen
        assert "read-only: transfer not allowed" in seen
        await pilot.press("n")  # allowed in read-only mode: no notice
        await settle(pilot)
        assert not [n for n in seen if "not allowed" in n and "next" in n]


async def test_channel_warnings_wrap_in_the_composer(make_app, backend, demo_db) -> None:
    contact_id = hold_first(
        demo_db,
        backend,
        "demo",
        channel="whatsapp",
        last_inbound_at=int((NOW - timedelta(days=2)).timestamp()),
    )
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:  # the composer in the side column
        screen = await opened(pilot, contact_id)
        composer = screen.query_one(Composer)
        await pilot.press("i", *"Ciao!")
        await settle(pilot)
        problems = composer.query_one("#composer-problems")
        text = str(problems.render())
        assert "24-hour window" in text and len(text) > problems.size.width
        assert problems.size.height >= 2  # wrapped, not cut at the pane's edge


async def test_key_bar_wraps_on_a_narrow_terminal(make_app) -> None:
    from console.screens.help import HelpScreen
    from console.widgets.common.key_bar import KeyBar

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        bar = app.screen.query_one(KeyBar)
        lines = str(bar.render()).split("\n")
        assert len(lines) == 2 and bar.size.height == 2
        assert all(len(line) <= 80 for line in lines)
        text = " ".join(lines)
        for label in ("Claim", "Resolve", "Reply", "Help", "Search", "KPIs", "palette"):
            assert label in text
        # a key on the second line runs when clicked
        second = lines[1]
        x = second.index("Help")
        await pilot.click(KeyBar, offset=(x, 1))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_an_admin_may_reply_on_a_contact_another_holds(make_app, backend, demo_db) -> None:
    contact_id = hold_first(demo_db, backend, "marco")
    db = sqlite3.connect(demo_db)
    with db:
        db.execute("UPDATE agents SET role = 'admin' WHERE name = 'demo'")
    db.close()
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot, contact_id)
        composer = screen.query_one(Composer)
        assert composer.held_by() is None
        assert not composer.text_area.read_only and composer.text_area.display
        await pilot.press("i")
        await settle(pilot)
        assert composer.text_area.has_focus
