"""Working one contact end to end: claim, open, read the timeline, order detail,
template, send, resolve, next; asserting what the backend stored."""

from __future__ import annotations

import pytest

from backends.models import ContactStatus, Direction, EventKind, QueueQuery
from console.screens.event import EventScreen
from console.screens.pickers import Picker
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from console.widgets.customer.timeline import TimelineList
from console.widgets.queue.pane import QueuePane
from console.widgets.side.composer import Composer
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


async def test_work_one_contact_end_to_end(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        queue = screen.query_one(QueuePane)
        # unassigned e-mail contacts; take the first whose customer has orders
        await pilot.press("2", "v")
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        view = screen.query_one(CustomerView)
        for _ in range(20):
            if view.facts is not None and view.facts.orders_count > 0:
                break
            await pilot.press("down")
            await pilot.pause(0.2)
            await settle(pilot)
        contact = queue.current
        assert contact is not None and contact.assignee is None
        assert screen.contact is not None and screen.contact.id == contact.id

        # claim
        await pilot.press("c")
        await settle(pilot)
        stored = backend.get_contact(contact.id).contact
        assert stored.assignee == "demo"

        # the customer view shows this customer's timeline, newest first
        assert view.customer is not None and view.customer.id == contact.customer_id
        timeline = screen.query_one(TimelineList)
        assert timeline.events
        ats = [e.at for e in timeline.events]
        assert ats == sorted(ats, reverse=True)

        # jump to the next order and open its detail
        await pilot.press("l")
        timeline.highlighted = 0
        if timeline.current.kind is not EventKind.ORDER:
            await pilot.press("o")
        await settle(pilot)
        assert timeline.current is not None and timeline.current.kind is EventKind.ORDER
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, EventScreen)
        text = str(app.screen.query_one("#event-body").render())
        order = timeline.current.payload
        assert order["number"] in text and order["items"][0]["name"] in text
        assert order["shipping"]["tracking"] in text
        await pilot.press("escape")
        await settle(pilot)

        # pick a template with the fuzzy finder, send and resolve
        await pilot.press("i")
        composer = screen.query_one(Composer)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press(*"closing")
        await pilot.press("enter")
        await settle(pilot)
        body = composer.body
        assert body.startswith("Thanks ") and "{first_name}" not in body
        assert view.customer.first_name in body
        await pilot.press("ctrl+r")
        await settle(pilot, rounds=5)
        detail = backend.get_contact(contact.id)
        outbound = [m for m in detail.messages if m.direction is Direction.OUTBOUND]
        assert outbound and outbound[-1].body == body
        assert detail.contact.status is ContactStatus.RESOLVED
        assert composer.body == ""
        assert app.drafts.get(contact.id) is None

        # next contact
        before = screen.contact.id if screen.contact else None
        await pilot.press("n")
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert screen.contact is not None and screen.contact.id != before
        assert screen.contact.id in {
            c.id for c in backend.queue(QueueQuery(unassigned=True), limit=100).contacts
        }


async def test_palette_offers_only_what_makes_sense_now(make_app) -> None:
    from console.screens.palette import VistaCommands

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")  # unassigned: claim makes sense, release does not
        await pilot.pause(0.2)
        await settle(pilot)

        async def titles() -> set[str]:
            return {hit.text async for hit in VistaCommands(screen).discover()}

        offered = await titles()
        assert "contact: claim" in offered and "contact: release" not in offered
        assert "contact: reopen" not in offered and "contact: resolve" in offered
        await pilot.press("c")
        await settle(pilot)
        offered = await titles()
        assert "contact: claim" not in offered and "contact: release" in offered
        await pilot.press("r")
        await settle(pilot)
        offered = await titles()
        assert "contact: reopen" in offered and "contact: resolve" not in offered
        bar = str(screen.query_one("#contact-bar").render())
        assert "RESOLVED" in bar and "resolved 2026-11-20 10:00 UTC" in bar and "SLA" not in bar
        assert "✓ resolved · u reopens" in bar  # one key resolves: the bar says how to undo it
        # and the palette itself lists them under `area: verb` titles
        await pilot.press("ctrl+p")
        await pilot.press(*"reopen")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.contact.status.value == "open"


async def test_timeline_pages_in_older_events_newest_first(make_app, demo_db) -> None:
    import sqlite3

    db = sqlite3.connect(demo_db)
    customer_id, total = db.execute(
        "SELECT customer_id, count(*) AS n FROM events GROUP BY customer_id ORDER BY n DESC LIMIT 1"
    ).fetchone()
    db.close()
    assert total > 60
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.open_customer(customer_id)
        await settle(pilot)
        timeline = screen.query_one(TimelineList)
        assert len(timeline.events) == 50
        timeline.focus()
        for _ in range(total // 50 + 1):
            await pilot.press("end")
            await settle(pilot)
        assert len(timeline.events) == total
        ids = [e.id for e in timeline.events]
        assert len(set(ids)) == total
        keys = [(e.at, e.id) for e in timeline.events]
        assert keys == sorted(keys, reverse=True)
        # a kind filter asks the backend again, for that kind only
        await pilot.press("e")
        await settle(pilot)
        assert timeline.events and {e.kind.value for e in timeline.events} <= {
            "order",
            "order_status",
            "payment",
            "refund",
            "return",
        }


async def test_profile_marks_where_sources_disagree(make_app, backend) -> None:
    import sqlite3

    db = sqlite3.connect(backend.location)
    ids = [r[0] for r in db.execute("SELECT id FROM customers ORDER BY id LIMIT 300")]
    db.close()
    customer = next(c for c in map(backend.get_customer, ids) if c.conflicts())
    conflict = customer.conflicts()[0]
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.screen.open_customer(customer.id)
        await settle(pilot)
        profile = str(app.screen.query_one("#profile").render())
        assert f"≠ sources disagree on {conflict.field}" in profile
        for source, value in conflict.values.items():
            assert source in profile and value in profile
        for ident in customer.identities:
            assert ident.value in profile


async def test_key_bar_shows_what_works_now_and_runs_a_clicked_key(make_app) -> None:
    from console.screens.help import HelpScreen
    from console.widgets.common.key_bar import KeyBar

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        text = str(bar.render())
        assert "Claim" in text and "Resolve" in text and "Help" in text
        start = next(s for s, _e, action, _n, _ok in bar._hits if action == "help")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
