"""Screen pop: a call event written to the store opens the caller's customer in the console
of the operator it is offered to, within a second, and in nobody else's; an unknown caller
gets the new caller card, whose quick create names the customer."""

from __future__ import annotations

import time

import pytest

from backends.models import CallState
from backends.sqlite.backend import SQLiteBackend
from console.screens.new_caller import NewCallerCard
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from tests.conftest import NOW
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio


async def _wait(pilot, done, seconds: float = 1.0) -> float:
    """Pause until `done()` or `seconds` pass; the time it took."""
    start = time.monotonic()
    while time.monotonic() - start < seconds and not done():
        await pilot.pause(0.02)
    return time.monotonic() - start


async def test_a_ringing_call_opens_the_customer_for_the_operator_it_is_offered_to(
    make_app, demo_db
) -> None:
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        telephony = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
        caller = telephony.get_customer(7)
        call = telephony.record_call("CA-pop", CallState.RINGING, caller.phones[0], agent="demo")
        telephony.close()
        took = await _wait(
            pilot, lambda: screen.contact is not None and screen.contact.id == call.contact_id
        )
        assert screen.contact is not None and screen.contact.id == call.contact_id
        assert took < 1.0
        await settle(pilot)
        view = screen.query_one(CustomerView)
        assert view.customer is not None and view.customer.id == 7
        assert not isinstance(app.screen, NewCallerCard)  # a known caller: no card


async def test_a_call_offered_to_another_operator_does_not_pop(make_app, demo_db) -> None:
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        before = screen.contact.id if screen.contact else None
        telephony = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
        call = telephony.record_call(
            "CA-other", CallState.RINGING, telephony.get_customer(8).phones[0], agent="marco"
        )
        telephony.close()
        await _wait(pilot, lambda: False, 0.6)
        await settle(pilot)
        assert (screen.contact.id if screen.contact else None) == before != call.contact_id
        assert screen.customer_id != 8


async def test_an_unknown_caller_gets_the_new_caller_card_and_quick_create(
    make_app, demo_db, backend
) -> None:
    # a dialog redraws the whole screen beneath it whenever that screen handles a message,
    # a poll tick included: four ticks a second, not twenty, while the card is typed into
    app = make_app(poll_interval=0.25)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        telephony = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
        call = telephony.record_call("CA-new", CallState.RINGING, "347 000 0420", agent="demo")
        telephony.close()
        await _wait(pilot, lambda: isinstance(app.screen, NewCallerCard))
        assert isinstance(app.screen, NewCallerCard)
        await pilot.press(*"Mario Nuovo")
        await pilot.press("enter")
        await pilot.press(*"mario.nuovo@libero.it")
        await pilot.press("enter")
        await _wait(pilot, lambda: backend.get_customer(call.customer_id).first_name == "Mario")
        named = backend.get_customer(call.customer_id)
        assert (named.first_name, named.last_name) == ("Mario", "Nuovo")
        assert "mario.nuovo@libero.it" in named.emails
