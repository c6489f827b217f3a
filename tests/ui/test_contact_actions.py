"""Transfer, priority, snooze and release through their pickers; channel rules and
unresolved template variables stop a reply before it is sent."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from backends.models import Channel, ContactStatus, Direction, Priority
from console.screens.pickers import Picker
from console.screens.workspace import WorkspaceScreen
from console.widgets.side.composer import Composer
from tests.conftest import NOW
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


async def opened(pilot) -> WorkspaceScreen:
    await settle(pilot)
    await pilot.pause(0.2)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WorkspaceScreen) and screen.contact is not None
    return screen


def unassign_first(path, backend) -> None:
    """The contact the console opens first is free to claim, whatever the demo made of it."""
    first = backend.queue(limit=1).contacts[0]
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE contacts SET assignee = NULL, status = 'new' WHERE id = ?", (first.id,))
    db.close()


async def test_transfer_priority_snooze_release(make_app, backend, demo_db) -> None:
    unassign_first(demo_db, backend)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot)
        contact_id = screen.contact.id

        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press(*"urgent", "enter")
        await settle(pilot)
        assert backend.get_contact(contact_id).contact.priority is Priority.URGENT

        await pilot.press("z")
        await settle(pilot)
        await pilot.press(*"4 hours", "enter")
        await settle(pilot)
        stored = backend.get_contact(contact_id).contact
        assert stored.status is ContactStatus.SNOOZED
        assert stored.snoozed_until == NOW + timedelta(hours=4)

        await pilot.press("c")
        await settle(pilot)
        assert backend.get_contact(contact_id).contact.assignee == "demo"
        await pilot.press("x")
        await settle(pilot)
        assert backend.get_contact(contact_id).contact.assignee is None

        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"marco", "enter")
        await settle(pilot)
        assert backend.get_contact(contact_id).contact.assignee == "marco"
        assert "held by marco" in str(screen.query_one("#contact-bar").render())
        assert screen.check_action("release", ()) is None  # marco's to give back

        # Escape in a picker changes nothing
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert backend.get_contact(contact_id).contact.priority is Priority.URGENT


def whatsapp_outside_window(path, backend) -> None:
    """Make the first contact of the queue a WhatsApp chat whose customer last wrote two
    days ago, and add a template with a variable nothing can fill."""
    first = backend.queue(limit=1).contacts[0]
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE contacts SET channel = 'whatsapp', last_inbound_at = ?, "
            "assignee = NULL, status = 'new' WHERE id = ?",
            (int((NOW - timedelta(days=2)).timestamp()), first.id),
        )
        db.execute(
            "INSERT INTO templates(name, body) VALUES ('points_en', "
            "'Hi {first_name}, you have {loyalty.points} points.')"
        )
    db.close()


async def test_reply_rules_are_checked_before_sending(make_app, backend, demo_db) -> None:
    whatsapp_outside_window(demo_db, backend)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot)
        composer = screen.query_one(Composer)
        contact = screen.contact
        # WhatsApp outside the 24-hour window: free text is refused, an approved template goes
        assert contact.channel is Channel.WHATSAPP
        assert contact.last_inbound_at < NOW - timedelta(hours=24)
        await pilot.press("i", *"Ciao!")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "24-hour window" in str(composer.query_one("#composer-problems").render())
        assert composer.body == "Ciao!"
        assert not [
            m for m in backend.get_contact(contact.id).messages if m.direction is Direction.OUTBOUND
        ]

        composer.text_area.load_text("")
        # a template outside the window is proactive: it needs the customer's consent
        backend.set_consent(contact.customer_id, "whatsapp", True)
        await pilot.press("ctrl+t", *"whatsapp_followup_it", "enter")
        await settle(pilot)
        assert composer.template is not None and composer.template.whatsapp_approved
        await pilot.press("ctrl+s")
        await settle(pilot)
        sent = [
            m for m in backend.get_contact(contact.id).messages if m.direction is Direction.OUTBOUND
        ]
        assert len(sent) == 1 and sent[0].body.startswith("Ciao ")

        # a template whose variable has no value is flagged and not sent
        await pilot.press("ctrl+t", *"points_en", "enter")
        await settle(pilot)
        assert "{loyalty.points}" in composer.body and "{first_name}" not in composer.body
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "unresolved variable {loyalty.points}" in str(
            composer.query_one("#composer-problems").render()
        )
        assert len(backend.get_contact(contact.id).messages) == 2
        # a private note goes through
        composer.text_area.load_text("customer called twice")
        composer.note = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        notes = [
            m for m in backend.get_contact(contact.id).messages if m.direction is Direction.NOTE
        ]
        assert [n.body for n in notes] == ["customer called twice"]


def test_snooze_times_typed_by_the_operator() -> None:
    from datetime import UTC, datetime

    from console.screens.contact_actions import parse_until

    assert parse_until("+30m", NOW) == NOW + timedelta(minutes=30)
    assert parse_until("+2h", NOW) == NOW + timedelta(hours=2)
    assert parse_until("+3d", NOW) == NOW + timedelta(days=3)
    assert parse_until("14:30", NOW) == NOW.replace(hour=14, minute=30)
    assert parse_until("09:00", NOW) == NOW.replace(hour=9) + timedelta(days=1)  # tomorrow
    assert parse_until("2026-12-01 09:15", NOW) == datetime(2026, 12, 1, 9, 15, tzinfo=UTC)
    assert parse_until("2020-01-01", NOW) is None  # the past
    assert parse_until("soon", NOW) is None


async def test_snooze_until_a_typed_time(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await opened(pilot)
        contact_id = screen.contact.id
        await pilot.press("z")
        await settle(pilot)
        await pilot.press(*"+90m", "enter")
        await settle(pilot)
        stored = backend.get_contact(contact_id).contact
        assert stored.status is ContactStatus.SNOOZED
        assert stored.snoozed_until == NOW + timedelta(minutes=90)
