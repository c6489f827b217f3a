"""One line over the customer view: the open contact, its state, and the last action's outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from backends.models import Contact
from console.format import TIMEZONE, duration, when
from console.safe_text import content
from console.widgets.queue.rows import sla_cell


class ContactBar(Static):
    """Shows the open contact; `note()` adds an outcome or error after it."""

    def __init__(self, me: str, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.me, self.clock = me, clock
        self.contact: Contact | None = None
        self.customer_only: int | None = None
        self.message: Content | None = None
        self._clear_timer: Timer | None = None
        self._line: Content | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._paint()

    def _tick(self) -> None:
        """The SLA countdown, every second (not under a dialog: see `QueueList._tick`)."""
        if self.screen.is_active:
            self._paint()

    def repaint(self) -> None:
        """Show `contact` again (after it changed)."""
        self._paint()

    def show(self, contact: Contact | None, customer_id: int | None = None) -> None:
        self.contact, self.customer_only = contact, customer_id
        self.message = None
        self._paint()

    def note(self, text: str, error: bool = False) -> None:
        """Show an action's outcome for a few seconds (errors longer)."""
        self.message = Content.styled(text, "bold $error" if error else "bold $success")
        self._paint()
        if self._clear_timer is not None:
            self._clear_timer.stop()
        self._clear_timer = self.set_timer(12.0 if error else 4.0, self._clear)

    def _clear(self) -> None:
        self.message = None
        self._paint()

    def _paint(self) -> None:
        c = self.contact
        if c is None:
            line = Content.styled(
                f"Customer #{self.customer_only} (no contact selected)"
                if self.customer_only
                else "No contact selected",
                "dim",
            )
        else:
            holder = (
                "unassigned"
                if c.assignee is None
                else ("mine" if c.assignee == self.me else f"held by {c.assignee}")
            )
            holder_style = (
                "$success" if c.assignee == self.me else ("bold $warning" if c.assignee else "dim")
            )
            now = self.clock()
            if c.resolved_at is not None:  # the clocks stopped: say when, not a countdown
                clock: tuple[str, str] = (
                    f" · resolved {when(c.resolved_at)} {TIMEZONE}",
                    "dim",
                )
                sla_parts: list[str | tuple[str, str]] = []
            else:
                sla, sla_style = sla_cell(c, now)
                sla_parts = [" · SLA ", (sla, sla_style or "bold")]
                waiting = duration((now - (c.last_inbound_at or c.created_at)).total_seconds())
                clock = (f" · waiting {waiting}", "dim")
            line = Content.assemble(
                (f"#{c.id} ", "bold"),
                (c.channel.value, "$accent"),
                " · ",
                (c.status.value.upper(), "bold"),
                " · ",
                (c.priority.value, ""),
                " · ",
                content(holder, holder_style),
                *sla_parts,
                clock,
                "\n",
                content(c.subject or c.intent, "bold", max_length=200),
            )
        if self.message is not None:  # the outcome shows in place of the subject, for a while
            first = line.split("\n")[0]
            line = Content("\n").join([first, self.message])
        # the clock ticks each second, the text changes less often: repaint only then
        # (two lines, always: no layout pass)
        if line != self._line or line.spans != self._line.spans:
            self._line = line
            self.update(line, layout=False)
