"""The queue's view tabs (Mine, Unassigned, All, SLA at risk) as one line of text.

A plain line instead of Textual's `Tabs`: that widget's animated underline
costs about 0.2 s of the console's first paint. Keys 1-4 switch views; a
click on a label does too.
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

TABS: tuple[tuple[str, str], ...] = (
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("all", "All"),
    ("at_risk", "SLA risk"),
)


class QueueTabs(Widget):
    """Shows the views with the active one highlighted; posts `Chosen` on a click."""

    active: reactive[str] = reactive("all")

    class Chosen(Message):
        def __init__(self, tab: str) -> None:
            super().__init__()
            self.tab = tab

    def render(self) -> Content:
        parts: list[tuple[str, str] | str] = []
        for key, label in TABS:
            style = "bold reverse $accent" if key == self.active else "$foreground-muted"
            parts += [(f" {label} ", style), " "]
        return Content.assemble(*parts)

    def on_click(self, event: events.Click) -> None:
        x = 0
        for key, label in TABS:
            width = len(f" {label} ") + 1
            if x <= event.x < x + width:
                self.post_message(self.Chosen(key))
                return
            x += width
