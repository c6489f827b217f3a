"""The composer suggests the knowledge base's best articles for the open contact (its intent
and what the customer wrote); enter inserts the chosen article's text or link into the reply
as plain text, and the use is counted."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList

from backends.knowledge import parse_article
from console.screens.pickers import Picker
from console.screens.workspace import WorkspaceScreen
from console.widgets.side.composer import Composer
from tests.ui.conftest import own_first_contact, settle

pytestmark = pytest.mark.anyio


async def _suggestions(pilot, screen: WorkspaceScreen) -> Picker:
    await settle(pilot)
    await pilot.press("i", "ctrl+f")
    for _ in range(50):
        await settle(pilot, rounds=1)
        if isinstance(pilot.app.screen, Picker):
            break
        await pilot.pause(0.05)
    assert isinstance(pilot.app.screen, Picker)
    return pilot.app.screen


async def test_ctrl_f_suggests_articles_and_inserts_the_chosen_text(
    make_app, demo_db, backend
) -> None:
    contact_id = own_first_contact(demo_db)
    contact = backend.get_contact(contact_id).contact
    expected = backend.kb_search(contact.subject, "", contact.intent, 3)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.contact is not None and screen.contact.id == contact_id
        picker = await _suggestions(pilot, screen)
        articles = {id(a): a for _, (a, _how) in picker.choices}
        assert 1 <= len({a.slug for a in articles.values()}) <= 3
        first, how = picker.choices[0][1]
        assert how == "answer"
        if expected:
            assert first.slug in {h.slug for h in expected}
        before = backend.kb_usage()
        await pilot.press("enter")
        await settle(pilot)
        composer = screen.query_one(Composer)
        assert composer.body == first.body
        await settle(pilot, rounds=5)
        after = backend.kb_usage()
        assert after.answers == before.answers + 1


async def test_an_article_link_goes_in_as_text_and_markup_stays_literal(
    make_app, demo_db, backend
) -> None:
    contact_id = own_first_contact(demo_db)
    contact = backend.get_contact(contact_id).contact
    hostile = parse_article(
        "hostile.en",
        "---\ntitle: [bold red]Reso[/] \x1b[31mnow\nlanguage: en\n"
        f"intents: [{contact.intent or 'none'}]\nlink: https://shop.example/x?a=[b]\n---\n"
        "[link=https://evil.example]click[/link] \u202eevil\n",
    )
    backend.kb_import((hostile,))
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        picker = await _suggestions(pilot, app.screen)
        labels = [str(o.prompt) for o in picker.query_one(OptionList).options]
        shown = [label for label in labels if "Reso" in label]
        assert shown and all("[bold red]Reso[/]" in label for label in shown)
        assert not any("\x1b" in label for label in labels)
        link_at = next(
            i
            for i, (_, (a, how)) in enumerate(picker.choices)
            if a.slug == "hostile" and how == "link"
        )
        picker.query_one(OptionList).highlighted = link_at
        await pilot.press("enter")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.body == "https://shop.example/x?a=[b]"
