"""The detail of one timeline event: an order with items and delivery, a
conversation transcript, a web session step by step up to where the visitor
stopped. Every customer-supplied string goes through safe_text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from backends.models import CONVERSATION_KINDS, ContactDetail, EventKind, TimelineEvent
from console.format import DELIVERY_STYLE, money, when
from console.safe_text import clean, content

Line = tuple[str, str]  # (text, style)


def _heading(event: TimelineEvent) -> list[Content]:
    return [
        Content.assemble(
            (f"{event.kind.value.replace('_', ' ').upper()}", "bold $accent"),
            (f"  {when(event.at)}  ", "dim"),
            content(f"{event.channel or '—'} · {event.source}", "dim"),
        ),
        content(event.summary, "bold"),
        Content(""),
    ]


def _order(p: Mapping[str, Any]) -> list[Content]:
    out = [
        Content.assemble(
            ("Order ", "bold"),
            content(p.get("number", "?"), "bold"),
            "  status: ",
            content(p.get("status", "?"), "bold $accent"),
        )
    ]
    items = p.get("items") or []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        qty, price = item.get("qty", 1), item.get("price", 0)
        out.append(
            Content.assemble(
                f"  {clean(qty):>2} × ",
                content(item.get("name", item.get("sku", "?"))),
                (f"  {clean(item.get('sku', ''))}", "dim"),
                f"  {money(price)}",
            )
        )
    out.append(
        Content(
            f"  Total {money(p.get('total'), p.get('currency', 'EUR'))}"
            f" · paid by {clean(p.get('payment_method', '?'))}"
        )
    )
    ship = p.get("shipping")
    if isinstance(ship, Mapping):
        out.append(Content(""))
        out.append(Content.styled("Delivery", "bold"))
        out.append(content(f"  {ship.get('carrier', '?')}  tracking {ship.get('tracking', '?')}"))
        out.append(content(f"  to {ship.get('address', '?')}"))
    return out


def _transcript(messages: Iterable[Mapping[str, Any]]) -> list[Content]:
    out: list[Content] = []
    for m in messages:
        direction = str(m.get("direction", ""))
        label = {"inbound": "◀ customer", "outbound": "▶ agent", "note": "✎ note"}.get(
            direction, direction
        )
        style = {
            "inbound": "bold $secondary",
            "outbound": "bold $success",
            "note": "bold $warning",
        }.get(direction, "bold")
        out.append(
            Content.assemble(
                (label, style),
                " ",
                content(m.get("author", ""), "dim"),
                (f"  {when(m.get('at'))}", "dim"),
            )
        )
        out.append(content(m.get("body", ""), multiline=True))
        state = delivery_text(m.get("delivery"), m.get("failure"))
        if state is not None:
            out.append(state)
        out.append(Content(""))
    return out


def delivery_text(delivery: object, failure: object = None) -> Content | None:
    """`delivery: read` (or `delivery: failed: the provider's reason`) under an outbound
    message; None for messages that carry no delivery state (inbound, notes, history)."""
    if delivery not in DELIVERY_STYLE:  # none, or an imported payload's own text
        return None
    state = str(delivery)
    shown = Content.assemble(("delivery: ", "dim"), (state, DELIVERY_STYLE.get(state, "")))
    if failure:
        return Content.assemble(shown, ": ", content(failure, "$error", max_length=300))
    return shown


def _session(p: Mapping[str, Any]) -> list[Content]:
    steps = p.get("steps") or []
    out = [
        content(
            f"Visit on {p.get('device', '?')}, {p.get('duration', 0)} s, {len(steps)} steps", "bold"
        )
    ]
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, Mapping):
            continue
        kind = str(step.get("type", "?"))
        what = step.get("page") or step.get("name") or step.get("step") or step.get("sku") or ""
        last = i == len(steps) - 1
        marker = "■" if last else "│"
        line = Content.assemble(
            (f" {marker} +{clean(step.get('t', 0)):>4}s ", "dim"),
            (kind.replace("_", " "), "bold"),
            " ",
            content(what),
        )
        out.append(line)
    stop = p.get("abandoned_at")
    if stop:
        out.append(
            Content.assemble(" ", content(f"■ stopped at checkout step: {stop}", "bold $error"))
        )
    elif steps:
        out.append(Content.styled(" ■ the visitor stopped here", "dim"))
    return out


def _payload(p: Mapping[str, Any]) -> list[Content]:
    out = []
    for key, value in p.items():
        if isinstance(value, (list, dict)):
            continue
        out.append(Content.assemble((f"{clean(key)}: ", "bold"), content(value, max_length=2000)))
    return out


def render_event(event: TimelineEvent, detail: ContactDetail | None = None) -> Content:
    """The whole detail view of `event` (and its live contact messages, when known)."""
    p = event.payload or {}
    lines = _heading(event)
    if event.kind is EventKind.ORDER:
        lines += _order(p)
    elif event.kind is EventKind.WEB_SESSION:
        lines += _session(p)
    elif event.kind in CONVERSATION_KINDS:
        if p.get("subject"):
            lines.append(Content.assemble(("Subject: ", "bold"), content(p["subject"])))
            lines.append(Content(""))
        if detail is not None:
            lines.append(
                Content.assemble(
                    (f"Contact #{detail.contact.id}", "bold"),
                    f" · {detail.contact.status.value}",
                    " · ",
                    content(detail.contact.assignee or "unassigned"),
                )
            )
            lines.append(Content(""))
            lines += _transcript(
                {
                    "direction": m.direction.value,
                    "author": m.author,
                    "body": m.body,
                    "at": m.at,
                    "delivery": m.delivery.value if m.delivery else None,
                    "failure": m.failure,
                }
                for m in detail.messages
            )
        elif isinstance(p.get("messages"), list):
            lines += _transcript(m for m in p["messages"] if isinstance(m, Mapping))
        elif p.get("body"):
            lines.append(content(p["body"], multiline=True))
            state = delivery_text(p.get("delivery"), p.get("failure"))
            if state is not None:
                lines.append(state)
    elif p.get("body"):
        lines.append(content(p["body"], multiline=True))
    else:
        lines += _payload(p)
    return Content("\n").join(lines)


class EventDetail(VerticalScroll):
    """A scrollable detail view of one event."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(Content.styled("Select an event in the timeline.", "dim"), id="event-body")

    def show(self, event: TimelineEvent | None, detail: ContactDetail | None = None) -> None:
        body = self.query_one("#event-body", Static)
        if event is None:
            body.update(Content.styled("Select an event in the timeline.", "dim"))
        else:
            body.update(render_event(event, detail))
        self.scroll_home(animate=False)

    def show_error(self, text: str) -> None:
        self.query_one("#event-body", Static).update(Content.styled(text, "bold $error"))
