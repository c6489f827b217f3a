"""The presence key (online, away, offline: only online operators are offered contacts) and
the intent correction in the contact view (it becomes training data)."""

from __future__ import annotations

import sqlite3

import pytest

from backends.models import Presence
from console import app as app_module
from console.screens.pickers import Picker
from console.screens.workspace import WorkspaceScreen
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


async def _opened(pilot) -> WorkspaceScreen:
    await settle(pilot)
    await pilot.pause(0.2)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WorkspaceScreen) and screen.contact is not None
    return screen


def _presence(backend, name: str = "demo") -> Presence:
    return next(s.presence for s in backend.agent_states() if s.agent.name == name)


async def test_the_presence_key_cycles_online_away_offline(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _opened(pilot)
        assert _presence(backend) is Presence.OFFLINE
        seen = []
        for _ in range(3):
            await pilot.press("A")
            await settle(pilot)
            await pilot.pause(0.1)
            seen.append(_presence(backend))
        assert seen == [Presence.ONLINE, Presence.AWAY, Presence.OFFLINE]


async def test_the_presence_key_is_refused_read_only(make_app, backend) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await _opened(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert _presence(backend) is Presence.OFFLINE


async def test_an_operator_corrects_the_intent_in_the_contact_view(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await _opened(pilot)
        contact_id = screen.contact.id
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press(*"invoice_request", "enter")
        await settle(pilot)
        await pilot.pause(0.1)
        stored = backend.get_contact(contact_id).contact
        assert (stored.intent, stored.intent_source) == ("invoice_request", "agent")


async def test_keys_pressed_while_online_keep_me_from_going_away(
    make_app, backend, demo_db, monkeypatch
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _opened(pilot)
        await pilot.press("A")
        await settle(pilot)
        await pilot.pause(0.1)
        with sqlite3.connect(demo_db) as db:  # as if the last sign of life were an hour ago
            db.execute("UPDATE agents SET last_active_at = 0, presence_at = 0 WHERE name = 'demo'")
        assert _presence(backend) is Presence.AWAY
        monkeypatch.setattr(app_module, "HEARTBEAT_SECONDS", 0.0)
        await pilot.press("down")
        await settle(pilot)
        await pilot.pause(0.2)
        assert _presence(backend) is Presence.ONLINE
