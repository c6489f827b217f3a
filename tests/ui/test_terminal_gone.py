"""A console whose terminal went away (no SIGHUP) leaves instead of spinning, drafts kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backends.sqlite.backend import SQLiteBackend
from console import app as app_module
from console.app import VistaApp, terminal_hung_up
from console.settings import Drafts, draft_scope
from tests.conftest import NOW
from tests.ui.conftest import own_first_contact, settle

pytestmark = pytest.mark.anyio


def test_a_closed_terminal_is_seen_without_reading_what_was_typed() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "rb", buffering=0) as terminal:
        assert not terminal_hung_up(terminal)
        os.write(master, b"x\n")  # a line: the terminal is in line mode
        assert not terminal_hung_up(terminal)  # input waiting is not a hang-up
        assert os.read(slave, 10) == b"x\n"  # and it was not consumed
        os.close(master)
        assert terminal_hung_up(terminal)
    assert not terminal_hung_up(None)  # no stream: nothing to watch


async def test_the_console_leaves_with_the_draft_saved_when_the_terminal_is_gone(
    demo_db: Path, settings_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_first_contact(demo_db)
    backend = SQLiteBackend(demo_db, agent="demo", clock=lambda: NOW)
    app = VistaApp(backend, clock=lambda: NOW, settings_path=settings_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        contact = app.screen.contact  # type: ignore[attr-defined]
        await pilot.press("i", *"Buongiorno")
        monkeypatch.setattr(app_module, "terminal_hung_up", lambda stream: False)
        app._watch_terminal()
        assert app.return_code is None  # a terminal still there: the console stays
        monkeypatch.setattr(app_module, "terminal_hung_up", lambda stream: True)
        app._watch_terminal()
        assert app.return_code == 0  # gone: the console leaves by itself
        await pilot.pause(0.2)
    draft = Drafts(app.settings.drafts_path, scope=draft_scope(backend)).get(contact.id)
    assert draft is not None and draft.body == "Buongiorno"
    backend.close()
