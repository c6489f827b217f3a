"""Settings survive restarts: theme, remapped keys (by binding id), drafts per contact."""

from __future__ import annotations

import json

import pytest

from console.screens.workspace import WorkspaceScreen
from console.widgets.queue.pane import QueuePane
from console.widgets.side.composer import Composer
from tests.ui.conftest import own_first_contact, settle

pytestmark = pytest.mark.anyio


async def test_theme_switch_is_remembered(make_app, settings_path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "vista-dark"
        await pilot.press("T")
        await settle(pilot)
        assert app.theme == "vista-light"
    assert json.loads(settings_path.read_text())["theme"] == "vista-light"
    again = make_app()
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert again.theme == "vista-light"


async def test_keys_remap_by_binding_id(make_app, settings_path) -> None:
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(json.dumps({"keys": {"workspace.tab_unassigned": "f6"}}))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        queue = app.screen.query_one(QueuePane)
        await pilot.press("f6")
        await settle(pilot)
        assert queue.tab == "unassigned"


async def test_resolved_note_names_the_remapped_reopen_key(
    make_app, settings_path, backend
) -> None:
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(json.dumps({"keys": {"workspace.reopen": "f8"}}))
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen) and screen.contact is not None
        # operators resolve only what they hold: take the first contact over first
        backend.assign(screen.contact.id, "demo")
        await pilot.press("r")
        await settle(pilot)
        bar = str(screen.query_one("#contact-bar").render())
        assert "✓ resolved · f8 reopens" in bar
        assert screen.contact.status.value == "resolved"
        await pilot.press("f8")
        await settle(pilot)
        assert screen.contact.status.value == "open"
        assert "✓ reopened" in str(screen.query_one("#contact-bar").render())


async def test_draft_is_kept_per_contact_across_restarts(make_app, demo_db) -> None:
    own_first_contact(demo_db)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen) and screen.contact is not None
        first = screen.contact.id
        await pilot.press("i", *"half a reply")
        await pilot.press("escape")
        screen.query_one("#queue-list").focus()
        await pilot.press("down")
        await pilot.pause(0.2)
        await settle(pilot)
        assert screen.contact.id != first
        assert screen.query_one(Composer).body == ""
    again = make_app()
    async with again.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert again.screen.contact.id == first
        assert again.screen.query_one(Composer).body == "half a reply"


async def test_layout_toggle_is_remembered(make_app, settings_path) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("-wide")  # auto: wide at 160 columns
        assert screen.query_one("#inline-detail").display
        await pilot.press("w")
        await settle(pilot)
        assert screen.has_class("-narrow") and not screen.query_one("#inline-detail").display
    assert json.loads(settings_path.read_text())["layout"] == "narrow"
    again = make_app()
    async with again.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert again.screen.has_class("-narrow")


async def test_escape_leaves_the_composer_for_the_queue(make_app, demo_db) -> None:
    own_first_contact(demo_db)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        assert app.focused is app.screen.query_one(Composer).text_area
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.screen.query_one("#queue-list")


@pytest.mark.parametrize("content", [b'{"theme": "vista-light", "keys": {', b'{"theme": "\xff"}'])
async def test_a_broken_settings_file_is_kept_aside_and_the_console_says_so(
    make_app, settings_path, content: bytes
) -> None:
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_bytes(content)
    drafts = settings_path.with_name("drafts.json")
    drafts.write_bytes(b"[not json")
    app = make_app()
    said: list[str] = []
    app.notify = lambda message, **_kw: said.append(message)  # what the operator is told
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert any("settings.json" in m and "keeps it as settings.json.broken" in m for m in said)
        assert any("drafts.json" in m and "keeps it as drafts.json.broken" in m for m in said)
        assert app.theme == "vista-dark"  # the defaults
        await pilot.press("T")  # a change saves settings.json anew...
        await settle(pilot)
    # ...and what the user had is still there to recover
    assert settings_path.with_name("settings.json.broken").read_bytes() == content
    assert drafts.read_bytes() == b"[not json"  # no draft saved: the file is left as it was
    assert json.loads(settings_path.read_text("utf-8"))["theme"] == "vista-light"
