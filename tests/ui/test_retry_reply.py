"""A failed reply is sent again from the console: on its timeline row (and in the event
detail) the retry key shows in the footer and puts the reply back to queued; on a delivered
reply, or for a supervisor, the key does nothing and says why."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backends.models import Delivery
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.outbox import SQLiteOutbox
from console import actions
from console.app import VistaApp
from console.screens.event import EventScreen
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.timeline import TimelineList
from tests.conftest import NOW
from tests.ui.conftest import own_first_contact, settle

pytestmark = pytest.mark.anyio


def _replied(demo_db: Path, delivery: Delivery) -> int:
    """A reply by demo on the contact the console opens first, left `delivery` (failed as
    the dispatcher fails a refused message); its message id."""
    contact_id = own_first_contact(demo_db)
    with SQLiteBackend(demo_db, agent="demo", clock=lambda: NOW) as backend:
        message = backend.reply(contact_id, "La fattura è in allegato.")
        outbox = SQLiteOutbox(backend.store)
        assert [m.message_id for m in outbox.claim({message.channel}, lease_seconds=60, limit=9)]
        if delivery is Delivery.FAILED:
            outbox.failed(message.id, "550 5.1.1 mailbox unavailable")
        else:
            with sqlite3.connect(demo_db) as db:
                db.execute("UPDATE outbox SET status = 'sent' WHERE message_id = ?", (message.id,))
            db.close()
            with backend.store.write() as db:
                SQLiteOutbox.set_delivery(db, message.id, delivery, None, NOW.timestamp())
    return message.id


def _stored(demo_db: Path, message_id: int) -> str:
    with sqlite3.connect(demo_db) as db:
        found = db.execute("SELECT delivery FROM messages WHERE id = ?", (message_id,))
        delivery = str(found.fetchone()[0])
    db.close()
    return delivery


async def _on_the_reply(pilot, app: VistaApp, message_id: int) -> TimelineList:
    """Focus the timeline with the cursor on the reply's row."""
    await settle(pilot)
    await pilot.pause(0.2)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, WorkspaceScreen)
    await pilot.press("l")
    await settle(pilot)
    timeline = screen.query_one(TimelineList)
    index = next(
        i for i, e in enumerate(timeline.events) if e.payload.get("message_id") == message_id
    )
    timeline.highlighted = index
    await settle(pilot)
    return timeline


def _footer_offers_retry(app: VistaApp) -> bool:
    return any(
        b.action == "retry_reply" and enabled
        for (_, b, enabled, _) in app.screen.active_bindings.values()
    )


async def test_the_retry_key_sends_a_failed_reply_again(make_app, demo_db) -> None:
    message_id = _replied(demo_db, Delivery.FAILED)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        timeline = await _on_the_reply(pilot, app, message_id)
        assert "[failed]" in str(timeline.get_option_at_index(timeline.highlighted).prompt)
        assert _footer_offers_retry(app)
        await pilot.press("R")
        await settle(pilot)
        assert _stored(demo_db, message_id) == "queued"
        row = next(
            i for i, e in enumerate(timeline.events) if e.payload.get("message_id") == message_id
        )
        assert "[queued]" in str(timeline.get_option_at_index(row).prompt)
        timeline.highlighted = row
        await settle(pilot)
        assert not _footer_offers_retry(app)  # queued: nothing to retry any more
        await pilot.press("R")
        await settle(pilot)
        assert _stored(demo_db, message_id) == "queued"


async def test_the_event_detail_retries_too(make_app, demo_db) -> None:
    message_id = _replied(demo_db, Delivery.FAILED)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _on_the_reply(pilot, app, message_id)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, EventScreen)
        assert _footer_offers_retry(app)
        await pilot.press("R")
        await settle(pilot)
        assert _stored(demo_db, message_id) == "queued"
        assert app.screen.event_.payload["delivery"] == "queued"
        assert not _footer_offers_retry(app)


async def test_a_delivered_reply_is_not_sent_again(make_app, demo_db) -> None:
    message_id = _replied(demo_db, Delivery.DELIVERED)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _on_the_reply(pilot, app, message_id)
        assert not _footer_offers_retry(app)
        assert app.screen.why_not("retry_reply") == (
            "only a reply whose delivery failed is sent again"
        )
        await pilot.press("R")
        await settle(pilot)
        assert _stored(demo_db, message_id) == "delivered"


async def test_a_supervisor_cannot_send_a_failed_reply_again(demo_db, settings_path) -> None:
    message_id = _replied(demo_db, Delivery.FAILED)
    backend = SQLiteBackend(demo_db, agent="anna", clock=lambda: NOW)
    app = VistaApp(backend, clock=lambda: NOW, settings_path=settings_path, poll_interval=3600.0)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await _on_the_reply(pilot, app, message_id)
            assert not _footer_offers_retry(app)
            assert app.screen.check_action("retry_reply", ()) is False
            await pilot.press("R")
            await settle(pilot)
            assert _stored(demo_db, message_id) == "failed"
    finally:
        backend.close()
    assert "retry_reply" in actions.MUTATING
