"""The web-journey key facts (newest visit, newest product viewed, a checkout left
unfinished) from what source systems sent: odd payload shapes are ignored, never an error,
and the console shows them as text, on a line of their own under the other facts."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from backends.models import CustomerFacts
from backends.sqlite.backend import SQLiteBackend
from console.widgets.customer.profile import facts_content, web_content
from tests.conftest import NOW

LATER = int((NOW + timedelta(days=1)).timestamp())


def _add(db: Path, *events: tuple[int, str, str, str]) -> None:
    """Events (seconds after LATER, kind, summary, payload text) for customer 1."""
    conn = sqlite3.connect(db)
    try:
        top = conn.execute("SELECT max(id) FROM events").fetchone()[0]
        conn.executemany(
            "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload) "
            "VALUES (1, ?, ?, ?, 'web', 'shop', ?, ?)",
            [
                (LATER + dt, top + i + 1, kind, summary, payload)
                for i, (dt, kind, summary, payload) in enumerate(events)
            ],
        )
        conn.commit()
    finally:
        conn.close()


def _facts(db: Path) -> CustomerFacts:
    with SQLiteBackend(db, agent="demo") as backend:
        return backend.customer_facts(1)


def test_a_checkout_after_the_last_order_is_abandoned_with_its_cart(demo_db: Path) -> None:
    _add(
        demo_db,
        (0, "web_session", "Web visit on mobile: 3 steps", '{"steps": []}'),
        (10, "product_view", "Viewed Tenda", '{"name": "Tenda 2 posti", "price": 189}'),
        (
            20,
            "checkout_step",
            "Checkout at payment",
            '{"step": "payment", "cart": [{"name": "Tenda 2 posti"}, {"sku": "SKU-9"}, 7]}',
        ),
    )
    facts = _facts(demo_db)
    assert facts.last_visit == "Web visit on mobile: 3 steps"
    assert facts.last_viewed == "Tenda 2 posti"
    assert (facts.checkout_abandoned_step, facts.checkout_cart) == (
        "payment",
        ("Tenda 2 posti", "SKU-9"),
    )
    assert facts.checkout_abandoned_at is not None
    assert int(facts.checkout_abandoned_at.timestamp()) == LATER + 20


def test_a_visit_that_stopped_in_checkout_counts_and_an_order_after_clears_it(
    demo_db: Path,
) -> None:
    _add(demo_db, (0, "web_session", "Visit", '{"abandoned_at": "shipping"}'))
    assert _facts(demo_db).checkout_abandoned_step == "shipping"
    conn = sqlite3.connect(demo_db)
    conn.execute(
        "INSERT INTO orders(number, customer_id, at, status, total) "
        "VALUES ('WEB-1', 1, ?, 'paid', 10)",
        (LATER + 60,),
    )
    conn.commit()
    conn.close()
    facts = _facts(demo_db)
    assert facts.checkout_abandoned_at is None and facts.checkout_cart == ()
    assert facts.last_visit == "Visit"


def test_odd_payloads_are_ignored(demo_db: Path) -> None:
    _add(
        demo_db,
        (0, "web_session", "", "[1, 2]"),
        (1, "product_view", "Viewed something", "not json at all"),
        (2, "checkout_step", "", '{"cart": "a string"}'),
    )
    facts = _facts(demo_db)
    assert facts.last_visit is None and facts.last_visit_at is not None
    assert facts.last_viewed == "Viewed something"  # the summary, when the payload says nothing
    assert (facts.checkout_abandoned_step, facts.checkout_cart) == ("?", ())


def test_the_console_shows_the_journey_as_text() -> None:
    bare = CustomerFacts(customer_id=1)
    assert web_content(bare) == []  # nothing about the web when there is nothing
    assert str(facts_content(bare)).count("\n") == 1
    facts = CustomerFacts(
        customer_id=1,
        last_visit_at=NOW,
        last_viewed="[b]Tenda[/b] \u202eevil",
        checkout_abandoned_at=NOW,
        checkout_abandoned_step="payment",
        checkout_cart=("Tenda 2 posti", "[red]x[/red]"),
    )
    lines = [str(line) for line in web_content(facts)]
    assert lines[0].startswith("Abandoned checkout at payment ")
    assert lines[0].endswith("· cart Tenda 2 posti, [red]x[/red]")  # markup stays text
    assert lines[1].startswith("Last visit ") and "viewed [b]Tenda[/b] evil" in lines[1]
    assert "\u202e" not in lines[1]
