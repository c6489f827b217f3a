"""Read-only mode is default-deny: no binding and no palette command changes anything."""

from __future__ import annotations

import sqlite3

import pytest

from console import actions
from console.screens.palette import VistaCommands
from console.screens.workspace import WorkspaceScreen
from console.widgets.side.composer import Composer
from tests.ui.conftest import settle

pytestmark = pytest.mark.anyio

#: The actions that change data, written out by hand: the registry's `mutating=True` flags
#: are what is under test, so the test does not read its list from them.
CHANGES_DATA = frozenset(
    {
        "claim",
        "release",
        "transfer",
        "set_priority",
        "snooze",
        "resolve",
        "reopen",
        "send",
        "send_resolve",
        "send_next",
        "retry_reply",
        "merge",
        "reject",
        "presence",
        "set_intent",
    }
)
#: The actions that only read or move around (method names, parameters dropped).
READS_ONLY = frozenset(
    {
        "help",
        "search",
        "cycle_theme",
        "supervisor",
        "identity_review",
        "next_contact",
        "compose",
        "template",
        "tab",
        "cycle_channel",
        "filter",
        "focus_queue",
        "focus_timeline",
        "cycle_kind",
        "cycle_timeline_channel",
        "jump",
        "open_event",
        "toggle_layout",
        "provenance",
        "pick_template",
        "toggle_note",
        "cycle_reply_channel",
        "leave",
        "open_a",
        "open_b",
        "refresh",
        "back",
    }
)


def test_the_registry_marks_exactly_the_actions_that_change_data() -> None:
    names = {actions.base_name(a.action) for a in actions.ACTIONS}
    # a new action must be put in one of the two lists above
    assert names == CHANGES_DATA | READS_ONLY and not CHANGES_DATA & READS_ONLY
    # every action that changes data is declared mutating ...
    assert CHANGES_DATA <= actions.MUTATING
    # ... and no action that only reads is
    assert not READS_ONLY & actions.MUTATING
    assert actions.MUTATING == CHANGES_DATA
    for spec in actions.ACTIONS:
        assert actions.is_mutating(spec.action) is (actions.base_name(spec.action) in CHANGES_DATA)
        assert spec.mutating is (actions.base_name(spec.action) in CHANGES_DATA), spec.action


def snapshot(path) -> tuple[object, ...]:
    """Everything a write could touch."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return tuple(
            tuple(db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())
            for table in ("contacts", "messages", "changes", "events", "customers", "agents")
        )
    finally:
        db.close()


async def back_to_workspace(pilot) -> None:
    for _ in range(3):
        if isinstance(pilot.app.screen, WorkspaceScreen):
            return
        await pilot.press("escape")
        await settle(pilot, rounds=1)


async def test_read_only_blocks_every_binding_and_palette_command(make_app, demo_db) -> None:
    before = snapshot(demo_db)
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        assert screen.contact is not None  # a contact is open: actions would apply to it
        assert "READ-ONLY" in str(screen.query_one("#app-header").render())
        assert not screen.query(Composer)  # the composer is not composed

        # footer shows no mutating binding
        shown = {b.action for (_, b, enabled, _) in screen.active_bindings.values() if enabled}
        assert not shown & actions.MUTATING
        assert not {actions.base_name(a) for a in shown} & CHANGES_DATA

        # every binding, pressed
        for spec in actions.ACTIONS:
            if spec.owner == "composer":
                continue
            await back_to_workspace(pilot)
            screen.query_one("#queue-list").focus()
            await pilot.press(spec.key)
            await settle(pilot, rounds=1)
            # answer any picker that opened with its first choice
            if not isinstance(app.screen, WorkspaceScreen):
                await pilot.press("enter")
                await settle(pilot, rounds=1)
        await back_to_workspace(pilot)

        # every mutating action run directly (as the palette or a script would)
        for name in sorted(actions.MUTATING | CHANGES_DATA):
            for node in (app, screen):
                assert node.check_action(name, ()) is False
            await app.run_action(name, screen)
        # while the actions that only read stay allowed
        for spec in actions.ACTIONS:
            if actions.base_name(spec.action) in READS_ONLY:
                assert app.check_action(spec.action, ()) is True, spec.action
        await settle(pilot)
        # and the worker itself refuses, even when called around the checks
        screen._write("claim", screen.contact.id)
        await settle(pilot)
        assert "Read-only" in str(screen.query_one("#contact-bar").render())

        # the palette offers no mutating command, and running all it offers changes nothing
        provider = VistaCommands(screen)
        hits = [hit async for hit in provider.discover()]
        titles = {hit.text for hit in hits}
        assert titles and not titles & {a.title for a in actions.ACTIONS if a.mutating}
        changing = {a.title for a in actions.ACTIONS if actions.base_name(a.action) in CHANGES_DATA}
        assert not titles & changing
        # the palette still offers what only reads
        assert {"customer: search", "view: supervisor KPIs", "queue: show all"} <= titles
        for hit in hits:
            await back_to_workspace(pilot)
            await hit.command()
            await settle(pilot, rounds=1)
            if not isinstance(app.screen, WorkspaceScreen):
                await pilot.press("enter")
                await settle(pilot, rounds=1)
    assert snapshot(demo_db) == before
