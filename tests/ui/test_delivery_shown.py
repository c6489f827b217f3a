"""A reply's delivery state shows in the timeline row and the event detail: queued until a
provider takes it, then delivered or read; failed with the provider's reason."""

from __future__ import annotations

from datetime import UTC, datetime

from backends.models import EventKind, TimelineEvent
from console.widgets.customer.timeline import event_row
from console.widgets.side.event_detail import render_event

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _reply(payload: dict[str, object]) -> TimelineEvent:
    return TimelineEvent(
        id=7,
        customer_id=1,
        at=AT,
        kind=EventKind.REPLY,
        channel="email",
        source="vista",
        summary="Reply: la giacca va bene",
        payload=payload,
    )


def test_the_row_and_the_detail_say_where_a_reply_stands() -> None:
    read = _reply({"body": "La giacca va bene.", "delivery": "read"})
    assert "[read]" in event_row(read).plain
    assert "delivery: read" in render_event(read).plain


def test_a_failed_reply_shows_the_providers_reason() -> None:
    failed = _reply({"body": "Ciao", "delivery": "failed", "failure": "550 5.1.1 no such user"})
    assert "[failed]" in event_row(failed).plain
    assert "delivery: failed: 550 5.1.1 no such user" in render_event(failed).plain


def test_events_without_a_delivery_state_show_none() -> None:
    history = _reply({"body": "Ciao"})  # replies from before the outbox
    assert "[" not in event_row(history).plain.split("Reply")[0]
    assert "delivery" not in render_event(history).plain
    order = TimelineEvent(
        id=8,
        customer_id=1,
        at=AT,
        kind=EventKind.ORDER,
        channel="web",
        source="webshop",
        summary="Order",
        payload={"delivery": {"carrier": "GLS"}},
    )
    assert "[" not in event_row(order).plain


def test_a_payload_that_is_not_a_vista_state_shows_nothing() -> None:
    hostile = _reply({"body": "Ciao", "delivery": "\x1b[31m\u202eread"})
    assert "\x1b" not in event_row(hostile).plain and "[" not in event_row(hostile).plain[:25]
    assert "delivery" not in render_event(hostile).plain
