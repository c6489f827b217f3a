"""Identity review in the console: suggestions listed best first with the two customers side by
side, merge and reject stored through the backend, read-only blocks both, and the customer view
shows provenance on demand."""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import DataTable, Static

from backends.base import NotFound
from console import actions
from console.screens.identity import IdentityReviewScreen, PairCompare
from console.screens.palette import VistaCommands
from console.screens.provenance import ProvenanceScreen
from console.screens.workspace import WorkspaceScreen
from console.widgets.customer.pane import CustomerView
from tests.ui.conftest import settle
from tests.ui.test_snapshots import FixedLocation

pytestmark = pytest.mark.anyio

#: Everything a merge or a reject could touch.
TABLES = (
    "customers",
    "source_records",
    "identity_suggestions",
    "identity_links",
    "identity_journal",
    "changes",
    "events",
    "contacts",
)


def stored(path) -> tuple[object, ...]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return tuple(tuple(db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()) for t in TABLES)
    finally:
        db.close()


def text_of(widget) -> str:
    return str(widget.render())


async def open_review(pilot) -> IdentityReviewScreen:
    await settle(pilot)
    await pilot.press("I")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, IdentityReviewScreen)
    return screen


async def test_review_lists_suggestions_best_first_and_compares_both_customers(
    make_app, backend
) -> None:
    expected = backend.identity_suggestions(200)
    assert len(expected) >= 3  # the demo has some duplicates below the automatic threshold
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_review(pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == len(expected)
        assert [s.id for s in screen.suggestions] == [s.id for s in expected]
        scores = [s.score for s in screen.suggestions]
        assert scores == sorted(scores, reverse=True)
        first = expected[0]
        row = " ".join(str(cell) for cell in table.get_row_at(0))
        assert f"#{first.customer_a}" in row and f"#{first.customer_b}" in row
        assert first.reason[:20] in row

        panel = text_of(screen.query_one(PairCompare))
        a, b = backend.get_customer(first.customer_a), backend.get_customer(first.customer_b)
        assert first.reason in panel
        assert f"A  #{a.id}" in panel and f"B  #{b.id}" in panel
        for source in (*a.sources, *b.sources):
            assert f"{source.source}:{source.source_id}" in panel
        for email in (*a.emails, *b.emails):
            assert email[:15] in panel

        # moving the cursor compares the next pair
        await pilot.press("down")
        await settle(pilot)
        second = expected[1]
        assert f"A  #{second.customer_a}" in text_of(screen.query_one(PairCompare))

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)


async def test_merge_from_the_review_screen_is_stored_and_the_list_refreshes(
    make_app, backend
) -> None:
    first = backend.identity_suggestions(200)[0]
    record_b = backend.get_customer(first.customer_b).sources
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("m")
        await settle(pilot)
        status = text_of(screen.query_one("#idr-status", Static))
        assert f"Merged #{first.customer_b} into #{first.customer_a}" in status
        assert f"vista identity split {first.customer_a}" in status
        assert first.id not in {s.id for s in screen.suggestions}  # the list refreshed
        assert screen.query_one(DataTable).row_count == len(screen.suggestions)

    # what a second connection sees
    merged = backend.get_customer(first.customer_a)
    names = {f"{r.source}:{r.source_id}" for r in merged.sources}
    assert {f"{r.source}:{r.source_id}" for r in record_b} <= names
    assert first.record_a in names and first.record_b in names
    with pytest.raises(NotFound):
        backend.get_customer(first.customer_b)
    explained = backend.explain_customer(first.customer_a)
    assert any(j.action == "merge" and j.other_id == first.customer_b for j in explained.journal)
    assert first.id not in {s.id for s in backend.identity_suggestions(200)}


async def test_reject_from_the_review_screen_removes_the_suggestion(make_app, backend) -> None:
    before = backend.identity_suggestions(200)
    second = before[1]
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("down")
        await settle(pilot)
        assert screen.current == second
        await pilot.press("x")
        await settle(pilot)
        assert f"Rejected suggestion #{second.id}" in text_of(
            screen.query_one("#idr-status", Static)
        )
        assert second.id not in {s.id for s in screen.suggestions}
        assert screen.query_one(DataTable).row_count == len(screen.suggestions)

    after = backend.identity_suggestions(200)
    assert second.id not in {s.id for s in after}
    # the rejected records are never suggested again (another record pair of the same two
    # customers may still be: rejecting is per record pair in the backend)
    assert (second.record_a, second.record_b) not in {(s.record_a, s.record_b) for s in after}
    # both customers are still there, apart
    assert backend.get_customer(second.customer_a).id != backend.get_customer(second.customer_b).id


async def test_a_merge_that_fails_is_shown_on_the_screen_which_stays_usable(
    make_app, backend
) -> None:
    first, second = backend.identity_suggestions(200)[:2]
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_review(pilot)
        assert screen.current == first
        backend.merge_customers(first.customer_a, first.customer_b)  # someone else, meanwhile
        await pilot.press("m")
        await settle(pilot)
        status = text_of(screen.query_one("#idr-status", Static))
        assert status.startswith("Merge: Not found:") and f"{first.customer_b}" in status
        assert not screen.busy
        assert first.id not in {s.id for s in screen.suggestions}  # reloaded after the failure
        assert screen.current == second
        await pilot.press("x")  # and the screen still works
        await settle(pilot)
        assert f"Rejected suggestion #{second.id}" in text_of(
            screen.query_one("#idr-status", Static)
        )


async def test_read_only_review_blocks_merge_and_reject(make_app, backend, demo_db) -> None:
    before, cursor = stored(demo_db), backend.changes(-1).cursor
    count = len(backend.identity_suggestions(200))
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_review(pilot)
        assert "READ-ONLY" in text_of(screen.query_one("#idr-head", Static))
        assert len(screen.suggestions) == count  # reading is allowed
        assert "blocked (read-only)" in text_of(screen.query_one("#idr-status", Static))
        for key in ("m", "x", "down", "m", "x"):
            await pilot.press(key)
            await settle(pilot)
        for name in ("merge", "reject"):
            assert actions.is_mutating(name)
            assert screen.check_action(name, ()) is False
            assert app.check_action(name, ()) is False
            await app.run_action(name, screen)
        await settle(pilot)
        # even the worker, called around the checks, is refused by the backend
        screen.busy = True
        screen._merge(screen.suggestions[0])
        await settle(pilot)
        assert "Merge: Read-only" in text_of(screen.query_one("#idr-status", Static))
        shown = {b.action for (_, b, enabled, _) in screen.active_bindings.values() if enabled}
        assert not shown & actions.MUTATING
        provider = VistaCommands(screen)
        titles = {hit.text async for hit in provider.discover()}
        assert "identity: open customer A" in titles
        assert not titles & {a.title for a in actions.ACTIONS if a.mutating}
    assert backend.changes(-1).cursor == cursor
    assert stored(demo_db) == before
    assert len(backend.identity_suggestions(200)) == count


async def test_palette_on_the_review_screen_offers_merge_when_writable(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_review(pilot)
        titles = {hit.text async for hit in VistaCommands(screen).discover()}
        assert {
            "identity: merge B into A",
            "identity: reject suggestion",
            "identity: open customer B",
        } <= titles


async def test_enter_and_b_open_either_customer_in_the_workspace(make_app, backend) -> None:
    first = backend.identity_suggestions(200)[0]
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_review(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.screen.customer_id == first.customer_a
        assert app.screen.query_one(CustomerView).customer.id == first.customer_a
        await open_review(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.screen.customer_id == first.customer_b


async def test_provenance_on_demand_shows_source_record_time_and_losers(make_app, backend) -> None:
    chosen = None
    for customer_id in range(1, 301):
        fields = backend.provenance(customer_id)
        if any(f.losers for f in fields):
            chosen = customer_id, fields
            break
    assert chosen is not None, "the demo has a customer whose sources disagreed"
    customer_id, fields = chosen
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        workspace = app.screen
        assert isinstance(workspace, WorkspaceScreen)
        workspace.open_customer(customer_id)
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ProvenanceScreen)
        body = text_of(modal.query_one("#provenance-body", Static))
        loser = next(f for f in fields if f.losers)
        assert f"chosen from {loser.source} record {loser.source_id}" in body
        assert "lost: " in body
        assert " UTC" in body
        title = text_of(modal.query_one("#provenance-title", Static))
        assert f"#{customer_id}" in title
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)


def test_identity_review_snapshot(snap_compare, make_app) -> None:
    app = make_app()
    app.backend = FixedLocation(app.backend)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        await pilot.press("I")
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        app.clear_notifications()

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_help_lists_the_identity_keys_and_strikes_merge_in_read_only() -> None:
    from console.screens.help import bindings_table

    plain = bindings_table({}, read_only=False).plain
    for key, title, binding in (
        ("I", "identity: review suggestions", "app.identity_review"),
        ("P", "customer: show provenance", "workspace.provenance"),
        ("m", "identity: merge B into A", "identity.merge"),
        ("x", "identity: reject suggestion", "identity.reject"),
        ("enter", "identity: open customer A", "identity.open_a"),
        ("b", "identity: open customer B", "identity.open_b"),
    ):
        assert any(line.split() == [key, *title.split(), binding] for line in plain.splitlines())
    blocked = bindings_table({}, read_only=True)
    struck = {
        blocked.plain[span.start : span.end].strip()
        for span in blocked.spans
        if "strike" in str(span.style)
    }
    assert {"identity: merge B into A", "identity: reject suggestion"} <= struck
    assert "identity: open customer A" not in struck


def test_comparison_marks_what_both_customers_share_and_keeps_hostile_text_literal() -> None:
    from backends.models import Address, Customer
    from console.screens.identity import compare_content

    a = Customer(
        57,
        "Gabriele",
        "Giordano",
        emails=("g.giordano@example.it",),
        addresses=(Address("V. XX Settembre 175", "Padova", postal_code="35150", country="IT"),),
    )
    b = Customer(
        302,
        "[bold]Gabriele[/bold]",
        "Gioradno\x1b[31m\u202e",
        emails=("other@x.it",),
        addresses=(Address("Via XX Settembre 175", "PADOVA", postal_code="35150", country="IT"),),
    )
    lines = compare_content(a, b, width=100).plain.splitlines()
    row = {line.split()[0]: line for line in lines if line.split()}
    assert row["address"].startswith("address    = V. XX Settembre 175")
    assert row["address"].count("= ") == 2  # both sides marked the same
    assert "=" not in row["name"] and "=" not in row["e-mail"]
    assert "[bold]Gabriele[/bold] Gioradno" in row["name"]  # literal, no markup, no escapes
    assert "\x1b" not in row["name"] and "\u202e" not in row["name"]


async def test_provenance_of_a_missing_customer_shows_the_error_in_the_dialog(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await app.push_screen(ProvenanceScreen(999_999))
        await settle(pilot)
        body = text_of(app.screen.query_one("#provenance-body", Static))
        assert body.startswith("Provenance: Not found:")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
