"""The queue list: paints only the visible rows of the window, one line each.

It never holds the queue: it draws from a `QueueWindow` (a few pages around
the cursor) and asks its pane for more when the cursor nears an edge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from backends.models import Channel, Contact, Priority, SlaState
from console.safe_text import clean
from console.widgets.queue_window import QueueWindow

CHANNEL_TAG = {
    Channel.EMAIL: "EM", Channel.CHAT: "CH", Channel.PHONE: "PH",
    Channel.WHATSAPP: "WA", Channel.SMS: "SM", Channel.WEB: "WB",
}
PRIORITY_TAG = {Priority.URGENT: "!!", Priority.HIGH: "! ", Priority.NORMAL: "  ",
                Priority.LOW: "↓ "}


def duration(seconds: float) -> str:
    """A compact duration: 45s, 12m, 2h05, 3d04."""
    s = int(abs(seconds))
    if s < 60:
        out = f"{s}s"
    elif s < 3600:
        out = f"{s // 60}m"
    elif s < 86400:
        out = f"{s // 3600}h{(s % 3600) // 60:02d}"
    else:
        out = f"{s // 86400}d{(s % 86400) // 3600:02d}"
    return ("-" if seconds < 0 else "") + out


def fit(text: str, width: int) -> str:
    """Cut or pad to exactly `width` cells (ellipsis when cut)."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


def sla_cell(contact: Contact, now: datetime) -> tuple[str, str]:
    """The SLA countdown (or waiting time) and its style."""
    state = contact.sla_state(now)
    if contact.sla_due_at is not None and state is not SlaState.NONE:
        left = (contact.sla_due_at - now).total_seconds()
        style = {SlaState.BREACHED: "bold $error", SlaState.AT_RISK: "bold $warning"}.get(state, "")
        return duration(left), style
    return "⏱" + duration((now - contact.created_at).total_seconds()), "dim"


class QueueList(Widget, can_focus=True):
    """Visible rows of the queue window with a cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False, id="queue.up"),
        Binding("down", "move(1)", "Down", show=False, id="queue.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="queue.pageup"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="queue.pagedown"),
        Binding("home", "home", "Top", show=False, id="queue.home"),
        Binding("end", "end", "Bottom", show=False, id="queue.end"),
        Binding("enter", "open", "Open", show=False, id="queue.open"),
    ]

    class Moved(Message):
        """The operator moved the cursor (the pane loads pages and opens the contact)."""

    class Jump(Message):
        """Home or End: the pane reloads from the top or the bottom."""

        def __init__(self, where: str) -> None:
            super().__init__()
            self.where = where

    class Open(Message):
        """Enter on a row."""

    def __init__(self, window: QueueWindow, me: str, clock: Callable[[], datetime],
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.window = window
        self.me = me
        self.clock = clock
        self.top = 0  # absolute index of the first visible row
        self.empty_text = "No contacts"

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)  # SLA countdowns tick

    # -- drawing ----------------------------------------------------------------

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.size.height)
        w = self.window
        if w.cursor < self.top:
            self.top = w.cursor
        elif w.cursor >= self.top + height:
            self.top = w.cursor - height + 1
        self.top = max(w.base, min(self.top, max(w.base, w.base + len(w.rows) - height)))
        self.top = min(self.top, w.cursor)

    def render(self) -> Content:
        w = self.window
        if not w.rows:
            return Content.styled(self.empty_text if w.loaded else "Loading…", "dim")
        self._scroll_to_cursor()
        now = self.clock()
        width = self.size.width
        lines = []
        for index in range(self.top, self.top + self.size.height):
            contact = w.row(index)
            if contact is None:
                break
            lines.append(self.format_row(contact, now, width, index == w.cursor))
        return Content("\n").join(lines)

    def format_row(self, c: Contact, now: datetime, width: int, selected: bool) -> Content:
        """One queue row: holder, channel, priority, SLA, name, subject, assignee."""
        if c.assignee is None:
            mark, mark_style = " ", ""
        elif c.assignee == self.me:
            mark, mark_style = "●", "$success"
        else:
            mark, mark_style = "◆", "$warning"
        sla, sla_style = sla_cell(c, now)
        show_assignee = width >= 54
        name_w = 14 if width < 60 else 18
        fixed = 1 + 1 + 2 + 1 + 2 + 1 + 7 + name_w + 1 + (10 if show_assignee else 0)
        subject_w = max(0, width - fixed)
        prio = PRIORITY_TAG.get(c.priority, "  ")
        parts: list[tuple[str, str]] = [
            (mark, mark_style), (" ", ""), (CHANNEL_TAG.get(c.channel, "??"), "bold"), (" ", ""),
            (prio, "bold $error" if c.priority is Priority.URGENT else
             "$warning" if c.priority is Priority.HIGH else ""),
            (" ", ""), (sla.rjust(6)[:6] + " ", sla_style),
            (fit(clean(c.customer_name), name_w), "bold"), (" ", ""),
            (fit(clean(c.subject or c.intent), subject_w), ""),
        ]
        if show_assignee:
            parts.append((" " + fit(clean(c.assignee or "—"), 9), mark_style or "dim"))
        row = Content.assemble(*parts)
        if selected:
            row = row.stylize("reverse" if self.has_focus else "underline")
        return row

    # -- moving ----------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        before = self.window.cursor
        self.window.move(delta)
        if self.window.cursor != before:
            self.refresh()
            self.post_message(self.Moved())

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 1))

    def action_home(self) -> None:
        self.post_message(self.Jump("top"))

    def action_end(self) -> None:
        self.post_message(self.Jump("bottom"))

    def action_open(self) -> None:
        self.post_message(self.Open())

    def on_click(self, event: events.Click) -> None:
        index = self.top + event.y
        if self.window.row(index) is not None:
            self.action_move(index - self.window.cursor)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_move(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_move(-1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
