"""A failing backend call shows a clear message where it happened; the app keeps
working; what the operator typed is never lost; a retried send never duplicates."""

from __future__ import annotations

import msgspec
import pytest

from backends.base import Conflict, Unavailable
from backends.models import Direction
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from console.widgets.side.composer import Composer
from tests.ui.conftest import queue_failure_shown_then_retried, settle

pytestmark = pytest.mark.anyio


class Flaky:
    """Wraps a backend; `fail[name]` makes that method fail (after `store_first`, it
    performs the call and then raises, like a response lost on the way back)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.fail: dict[str, Exception] = {}
        self.store_first = False

    def __getattr__(self, name: str):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            error = self.fail.pop(name, None)
            if error is not None:
                if self.store_first:
                    attr(*args, **kwargs)
                raise error
            return attr(*args, **kwargs)

        return call


async def test_failed_send_keeps_text_and_retry_sends_once(make_app, backend) -> None:
    app = make_app()
    flaky = Flaky(app.backend)
    app.backend = flaky
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        # an e-mail contact: no WhatsApp window in the way
        await pilot.press("v")
        await pilot.pause(0.2)
        await settle(pilot)
        contact = screen.contact
        assert contact is not None
        await pilot.press("i", *"We are on it.")
        composer = screen.query_one(Composer)
        flaky.fail["reply"] = Unavailable("server went away")
        flaky.store_first = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        problems = str(composer.query_one("#composer-problems").render())
        assert "Unavailable" in problems and "server went away" in problems
        assert composer.body == "We are on it."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert composer.body == ""
        sent = [
            m
            for m in backend.get_contact(contact.id).messages
            if m.direction is Direction.OUTBOUND and m.body == "We are on it."
        ]
        assert len(sent) == 1


async def test_failed_claim_and_failed_timeline_are_shown_in_place(make_app) -> None:
    app = make_app()
    flaky = Flaky(app.backend)
    app.backend = flaky
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        flaky.fail["claim"] = Conflict("contact taken by giulia")
        screen.contact = msgspec.structs.replace(screen.contact, assignee=None)
        screen.refresh_bindings()
        await pilot.press("c")
        await settle(pilot)
        bar = str(screen.query_one("#contact-bar").render())
        assert "Conflict" in bar and "taken by giulia" in bar

        flaky.fail["customer_view"] = Unavailable("database is locked")
        await pilot.press("down")
        await pilot.pause(0.2)
        await settle(pilot)
        timeline_bar = str(screen.query_one("#timeline-bar").render())
        assert "database is locked" in timeline_bar
        # the app keeps working: the next move loads normally
        await pilot.press("down")
        await pilot.pause(0.2)
        await settle(pilot)
        view = screen.query_one(CustomerView)
        assert view.customer is not None and view.customer.id == screen.contact.customer_id


async def test_queue_failure_is_shown_and_retried(make_app) -> None:
    app = make_app()
    flaky = Flaky(app.backend)
    flaky.fail["queue"] = Unavailable("cannot open /data/vista.db")
    app.backend = flaky
    async with app.run_test(size=(100, 30)) as pilot:
        await queue_failure_shown_then_retried(pilot, "cannot open")


async def test_lost_claim_race_shows_the_winner(make_app, demo_db) -> None:
    from backends.sqlite.backend import SQLiteBackend
    from tests.conftest import NOW

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("2")
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        contact = screen.contact
        assert contact is not None and contact.assignee is None
        rival = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
        rival.claim(contact.id)  # giulia is faster; the change feed has not told us yet
        rival.close()
        await pilot.press("c")
        await settle(pilot)
        bar = str(screen.query_one("#contact-bar").render())
        assert "taken by giulia" in bar and "held by giulia" in bar
        assert screen.contact.assignee == "giulia"
