"""The queue list: paints only the visible rows of the window, one line each.

It never holds the queue: it draws from a `QueueWindow` (a few pages around
the cursor) and asks its pane for more when the cursor nears an edge.

Rows are drawn line by line (Textual's line API) and each row's strip is kept
until something shown on it changes, so the SLA countdowns tick by repainting
only the rows whose countdown text changed, not the whole list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from backends.models import Channel, Contact, Priority, SlaState
from console.format import duration
from console.safe_text import clean
from console.widgets.queue.window import QueueWindow

CHANNEL_TAG = {
    Channel.EMAIL: "EM",
    Channel.CHAT: "CH",
    Channel.PHONE: "PH",
    Channel.WHATSAPP: "WA",
    Channel.SMS: "SM",
    Channel.WEB: "WB",
}
PRIORITY_TAG = {
    Priority.URGENT: "!!",
    Priority.HIGH: "! ",
    Priority.NORMAL: "  ",
    Priority.LOW: "↓ ",
}
#: The SLA column: the longest countdown, `-12m 05s` (console.format.duration).
SLA_WIDTH = 8


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


def _runs(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Parts as Content draws them: empty ones dropped, neighbouring unstyled ones joined."""
    runs: list[tuple[str, str]] = []
    for text, style in parts:
        if not text:
            continue
        if not style and runs and not runs[-1][1]:
            runs[-1] = (runs[-1][0] + text, "")
        else:
            runs.append((text, style))
    return runs


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

    class Painted(Message):
        """The first loaded page (or "No contacts") is on screen: posted once."""

    def __init__(
        self, window: QueueWindow, me: str, clock: Callable[[], datetime], **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.window = window
        self.me = me
        self.clock = clock
        self.top = 0  # absolute index of the first visible row
        self.empty_text = "No contacts"
        self._painted = False
        # line y -> (what the row showed, its strip): reused while nothing on it changes
        self._lines: dict[int, tuple[tuple[object, ...], Strip]] = {}
        self._styles: dict[tuple[str, str], Style] = {}  # (style, mark) -> resolved Style
        self._styles_for: tuple[Style, str] | None = None  # the base style and theme of those
        # set while render_lines paints (None: a direct render_line call, a mouse hit test)
        self._painting: tuple[int, Style, str, bool, datetime] | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)  # SLA countdowns tick

    def _tick(self) -> None:
        """Repaint the rows whose countdown (or waiting time) text changed.

        Not while a dialog (search, help, a picker) covers the workspace: the dimmed
        background would be composed again every second under it, 25-40 ms that land
        on the operator's keystrokes. The workspace repaints when it is back on top."""
        if not self.screen.is_active:
            return
        now = self.clock()
        w, width = self.window, self.size.width
        for y in range(self.size.height):
            contact = w.row(self.top + y)
            if contact is None:
                break
            cached = self._lines.get(y)
            if (
                cached is None
                or cached[0][1] is not contact
                or cached[0][-1] != sla_cell(contact, now)
            ):
                self.refresh(Region(0, y, width, 1))

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
        """The visible rows as one Content (what `render_line` draws line by line)."""
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

    def render_lines(self, crop: Region) -> list[Strip]:
        w = self.window
        if w.loaded and not self._painted:
            self._painted = True
            self.call_after_refresh(self.post_message, self.Painted())
        if w.rows:
            self._scroll_to_cursor()
            if self.text_selection is None:
                self._dirty_regions.clear()  # rows come from render_line, not render()
        # what every line of this paint shares: its width, base style, theme, focus, clock
        self._painting = (
            self.size.width,
            self.visual_style,
            self.app.theme,
            self.has_focus,
            self.clock(),
        )
        try:
            return super().render_lines(crop)
        finally:
            self._painting = None

    def render_line(self, y: int) -> Strip:
        w = self.window
        if not w.rows or self.text_selection is not None:
            # "Loading…", "No contacts", or text selected with the mouse (which Textual
            # highlights when it draws the whole Content): the plain Widget way
            return super().render_line(y)
        paint = self._painting
        width, base, theme, focus, now = paint or (
            self.size.width,
            self.visual_style,
            self.app.theme,
            self.has_focus,
            self.clock(),
        )
        index = self.top + y
        contact = w.row(index)
        if contact is None:
            self._lines.pop(y, None)
            return Strip.blank(width, base.rich_style)
        selected = index == w.cursor
        sla = sla_cell(contact, now)
        key = (width, contact, selected, selected and focus, base, theme, sla)
        cached = self._lines.get(y)
        if paint is not None and cached is not None and cached[0] == key:
            return cached[1]
        parts = self.row_parts(contact, now, width, sla)
        if paint is None:  # a mouse hit test (text selection): offsets, not cached
            return self._strip(parts, selected, y, base, width, offsets=True)
        strip = self._strip(parts, selected, y, base, width)
        self._lines[y] = (key, strip)
        return strip

    def _strip(
        self,
        parts: list[tuple[str, str]],
        selected: bool,
        y: int,
        base: Style,
        width: int,
        offsets: bool = False,
    ) -> Strip:
        """One row drawn as Textual draws a line of Content (same segments and styles),
        from styles resolved once per theme and focus. The offsets Textual's text
        selection looks for go only into the lines its mouse hit test asks for: making
        them for every painted segment costs more than the rest of the row."""
        marked = ("reverse" if self.has_focus else "underline") if selected else ""
        styles = self._styles
        theme = self.app.theme
        if self._styles_for != (base, theme):
            styles.clear()
            self._styles_for = (base, theme)
        segments = []
        x = 0
        plain = []
        for text, style in _runs(parts):
            combined = styles.get((style, marked))
            if combined is None:
                combined = base
                for name in (style, marked):
                    if name:
                        combined = combined + self._get_style(name)
                styles[(style, marked)] = combined
            segments.append(
                Segment(
                    text, combined.rich_style_with_offset(x, y) if offsets else combined.rich_style
                )
            )
            x += len(text)
            plain.append(text)
        return Strip(segments, cell_len("".join(plain))).adjust_cell_length(
            width, (base + Style(reverse=False)).rich_style
        )

    def row_parts(
        self, c: Contact, now: datetime, width: int, sla: tuple[str, str] | None = None
    ) -> list[tuple[str, str]]:
        """One queue row as (text, style) parts: holder, channel, priority, SLA (`sla`
        when already worked out), name, subject, assignee."""
        if c.assignee is None:
            mark, mark_style = " ", ""
        elif c.assignee == self.me:
            mark, mark_style = "●", "$success"
        else:
            mark, mark_style = "◆", "$warning"
        sla_text, sla_style = sla or sla_cell(c, now)
        # the subject takes what the fixed columns leave; the holder shows from 46 cells
        show_assignee = width >= 46
        name_w = 12 if width < 56 else 14 if width < 72 else 18
        assignee_w = (8 if width < 72 else 10) if show_assignee else 0
        fixed = 1 + 1 + 2 + 1 + 2 + 1 + SLA_WIDTH + 1 + name_w + 1 + assignee_w
        subject_w = max(0, width - fixed)
        prio = PRIORITY_TAG.get(c.priority, "  ")
        parts: list[tuple[str, str]] = [
            (mark, mark_style),
            (" ", ""),
            (CHANNEL_TAG.get(c.channel, "??"), "bold"),
            (" ", ""),
            (
                prio,
                "bold $error"
                if c.priority is Priority.URGENT
                else "$warning"
                if c.priority is Priority.HIGH
                else "",
            ),
            (" ", ""),
            (sla_text.rjust(SLA_WIDTH)[:SLA_WIDTH] + " ", sla_style),
            (fit(clean(c.customer_name), name_w), "bold"),
            (" ", ""),
            (fit(clean(c.subject or c.intent), subject_w), ""),
        ]
        if show_assignee:
            parts.append((" " + fit(clean(c.assignee or "—"), assignee_w - 1), mark_style or "dim"))
        return parts

    def format_row(self, c: Contact, now: datetime, width: int, selected: bool) -> Content:
        """One queue row as Content (what `render()` shows; `render_line` draws the same)."""
        row = Content.assemble(*self.row_parts(c, now, width))
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
