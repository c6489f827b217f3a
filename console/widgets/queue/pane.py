"""The contact queue pane: tabs (Mine, Unassigned, All, SLA at risk), a channel
filter, a text filter box and the windowed list; live through `reload()`.
"""

from __future__ import annotations

from typing import ClassVar

from msgspec.structs import replace
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from backends.base import VistaError
from backends.models import Channel, Contact, QueuePage, QueueQuery, SlaState
from console.host import backend_of, host
from console.safe_text import clean
from console.widgets.queue import first_page
from console.widgets.queue.first_page import FirstPage
from console.widgets.queue.rows import QueueList
from console.widgets.queue.tabs import TABS, QueueTabs
from console.widgets.queue.window import PAGE, Fetch, QueueWindow

CHANNELS: tuple[Channel | None, ...] = (None, *Channel)


class QueuePane(Vertical):
    """The left pane. Posts `Highlighted` when the operator moves to a contact."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_filter", "List", show=False, id="queue.leave_filter")
    ]

    class Highlighted(Message):
        def __init__(self, contact: Contact) -> None:
            super().__init__()
            self.contact = contact

    class Opened(Message):
        """Enter on a contact: the screen moves focus to the customer view."""

        def __init__(self, contact: Contact) -> None:
            super().__init__()
            self.contact = contact

    class _Loaded(Message):
        def __init__(
            self,
            fetch: Fetch,
            pages: tuple[QueuePage, ...],
            count: int,
            keep_id: int | None,
            then_open: bool,
        ) -> None:
            super().__init__()
            self.fetch, self.pages, self.count = fetch, pages, count
            self.keep_id, self.then_open = keep_id, then_open

    class _Failed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    class _Counted(Message):
        """The total of a query, counted after its first page was shown."""

        def __init__(self, query: QueueQuery, count: int) -> None:
            super().__init__()
            self.query, self.count = query, count

    def __init__(self, me: str, first_page: FirstPage | None = None, **kwargs: object) -> None:
        """`first_page`: the first page of the queue, already asked for (used when it is
        for this view's query)."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.me = me
        self._asked = first_page
        self.window = QueueWindow()
        self.tab = "all"
        self.channel: Channel | None = None
        self.text = ""
        self._filter_timer: Timer | None = None
        self.failed = False  # the last load failed: the screen retries on its next tick
        self._first_shown = False  # the first page came in with compose, not yet counted

    def compose(self) -> ComposeResult:
        # the first page is fetched while the pane is being built (not once it is
        # mounted), or was asked for when the console started: it is often in by the
        # first paint, which then shows the rows
        self._first_shown = self._first_page()
        yield QueueTabs(id="queue-tabs")
        yield Input(placeholder="filter (f): name or subject", id="queue-filter")
        yield QueueList(
            self.window,
            self.me,
            host(self).now,
            id="queue-list",
        )
        yield Static(id="queue-status")

    # -- the query ---------------------------------------------------------------

    @property
    def query_(self) -> QueueQuery:
        """The backend query for the current tab, channel and filter text."""
        q = QueueQuery()
        if self.tab == "mine":
            q = replace(q, assignee=self.me)
        elif self.tab == "unassigned":
            q = replace(q, unassigned=True)
        elif self.tab == "at_risk":
            q = replace(q, sla=SlaState.AT_RISK)
        if self.channel is not None:
            q = replace(q, channels=(self.channel,))
        return replace(q, text=self.text.strip())

    @property
    def current(self) -> Contact | None:
        return self.window.current

    def set_tab(self, tab: str) -> None:
        """Switch the view (Mine, Unassigned, All, SLA at risk)."""
        self.query_one(QueueTabs).active = tab
        if tab != self.tab:
            self.tab = tab
            self.reload(top=True)

    def on_queue_tabs_chosen(self, message: QueueTabs.Chosen) -> None:
        message.stop()
        self.set_tab(message.tab)

    def cycle_channel(self) -> None:
        self.channel = CHANNELS[(CHANNELS.index(self.channel) + 1) % len(CHANNELS)]
        self.reload(top=True)

    def focus_filter(self) -> None:
        self.query_one("#queue-filter", Input).focus()

    @on(Input.Changed, "#queue-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text = event.value
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(0.2, lambda: self.reload(top=True))

    @on(Input.Submitted, "#queue-filter")
    def _filter_done(self) -> None:
        self.query_one(QueueList).focus()

    def action_leave_filter(self) -> None:
        self.query_one(QueueList).focus()

    # -- loading -----------------------------------------------------------------

    def _first_page(self) -> bool:
        """Load the first page: the one asked for at start-up when it is for this view
        (shown by the first paint when already in: True), else a worker's."""
        first, self._asked = self._asked, None  # used once
        if first is not None:
            if not first.serves(backend_of(self), self.query_, PAGE):
                first = None
            else:
                first.wait(first_page.WAIT)  # see console.widgets.queue.first_page
        if first is None or first.page is None:
            self.reload(top=True, first=first)
            return False
        self.window.apply(self._plan_top(), (first.page,), -1)
        return True

    def on_mount(self) -> None:
        if self._first_shown:  # the status and the first contact, with the first paint
            self._shown(Fetch("top", None, PAGE, self.window.generation), None, None, False)

    def on_queue_list_painted(self, message: QueueList.Painted) -> None:
        """The first page, when composed in, is on screen: now its total is counted (a
        big queue's count takes a core for a while: not during the first paint)."""
        if self._first_shown:  # not stopped: the screen mounts the other panes on it
            self._first_shown = False
            self._count(self.query_)

    def _plan_top(self) -> Fetch:
        self.window.cursor = 0
        self.window.generation += 1
        self.window.more_before = False
        return self.window.plan_top()

    def reload(
        self,
        *,
        top: bool = False,
        keep_id: int | None = None,
        then_open: bool = False,
        first: FirstPage | None = None,
    ) -> None:
        """Refetch the rows around the cursor (or from the top) and the count."""
        self._first_shown = False  # superseded: this load shows its own rows
        if top:
            fetch = self._plan_top()
        else:
            keep_id = (
                keep_id if keep_id is not None else (self.current.id if self.current else None)
            )
            fetch = self.window.plan_refresh()
        self._load(fetch, self.query_, keep_id, then_open, first)

    @work(thread=True, exclusive=True, group="queue-count", exit_on_error=False)
    def _count(self, query: QueueQuery) -> None:
        """Count a query whose first page is shown already."""
        try:
            count = backend_of(self).queue_count(query)
        except Exception:  # noqa: BLE001 - the status keeps "…"; the next reload counts
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self._Counted(query, count))

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _load(
        self,
        fetch: Fetch,
        query: QueueQuery,
        keep_id: int | None,
        then_open: bool = False,
        first: FirstPage | None = None,
    ) -> None:
        backend = backend_of(self)
        try:
            if first is not None:  # asked for at start-up, maybe still on its way
                pages: tuple[QueuePage, ...] = (first.result(),)
            elif fetch.kind == "refresh":
                before = backend.queue(query, cursor=fetch.cursor, limit=PAGE, backwards=True)
                start = before.next_cursor if before.contacts else None
                after = backend.queue(query, cursor=start, limit=2 * PAGE)
                pages = (before, after)
            elif fetch.kind in ("top", "forward"):
                pages = (backend.queue(query, cursor=fetch.cursor, limit=fetch.limit),)
            else:  # backward, bottom
                pages = (
                    backend.queue(query, cursor=fetch.cursor, limit=fetch.limit, backwards=True),
                )
            if fetch.kind == "top":
                # show the first page now; counting a big queue can take longer than
                # fetching it, and the total only feeds the "n/N" status
                known = self.window.count if self.query_ == query else -1
                if not get_current_worker().is_cancelled:
                    self.post_message(self._Loaded(fetch, pages, known, keep_id, then_open))
                count = backend.queue_count(query)
                if not get_current_worker().is_cancelled:
                    self.post_message(self._Counted(query, count))
                return
            if fetch.kind in ("forward", "backward"):
                # scrolling within the same query: the total is already known, and
                # counting a big queue costs more than the page itself
                count = self.window.count
            else:
                count = backend.queue_count(query)
        except Exception as error:  # noqa: BLE001 - shown in the pane, app keeps going
            if not get_current_worker().is_cancelled:
                self.post_message(self._Failed(error))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self._Loaded(fetch, pages, count, keep_id, then_open))

    def on_queue_pane__loaded(self, message: _Loaded) -> None:
        message.stop()
        self.failed = False
        before = self.window.current
        if not self.window.apply(message.fetch, message.pages, message.count, message.keep_id):
            return
        self.query_one(QueueList).refresh()
        self._shown(message.fetch, before, message.keep_id, message.then_open)

    def _shown(
        self, fetch: Fetch, before: Contact | None, keep_id: int | None, then_open: bool
    ) -> None:
        """Rows are in the window: the status, the next page if near an edge, and the
        contact under the cursor when it is a new one."""
        self._paint_status()
        more = self.window.plan_edge()
        if more is not None:
            self._load(more, self.query_, None)
        after = self.window.current
        if (
            then_open
            and after is not None
            or fetch.kind in ("top", "bottom")
            and after is not None
            and (before is None or before.id != after.id)
            and keep_id is None
        ):
            self.post_message(self.Highlighted(after))

    def on_queue_pane__counted(self, message: _Counted) -> None:
        message.stop()
        if message.query != self.query_:
            return  # the filters changed meanwhile: a newer count is on its way
        w = self.window
        w.count = max(message.count, w.base + len(w.rows) if not w.more_after else 0)
        self._paint_status()  # only the "n/N" status shows the total

    def on_queue_pane__failed(self, message: _Failed) -> None:
        message.stop()
        self.failed = True
        error = message.error
        text = (
            f"{error.title}: {error}"
            if isinstance(error, VistaError)
            else (f"Queue failed: {type(error).__name__}: {error}")
        )
        self.query_one("#queue-status", Static).update(
            Content.styled(text, "bold $error"), layout=False
        )
        self.window.loaded = True
        self.query_one(QueueList).refresh()

    def _paint_status(self) -> None:
        w = self.window
        total = f"{w.count:,}" if w.count >= 0 else "…"
        where = f"{w.cursor + 1:,}/{total}" if w.rows else f"0/{total}"
        label = dict(TABS)[self.tab]
        chan = self.channel.value if self.channel else "all channels"
        self.query_one(QueueList).empty_text = self._empty_text(label, chan)
        self.query_one("#queue-status", Static).update(
            Content.assemble((label, "bold"), f" · {chan} · ", (where, "$accent")), layout=False
        )  # one line, always

    def _empty_text(self, label: str, chan: str) -> str:
        """What an empty queue says: which view is empty, and how a new store gets data."""
        typed = self.text.strip()
        if self.tab == "all" and self.channel is None and not typed:
            return (
                "No contacts waiting.\n\nA new store? Load customers:\n"
                "  vista import FILE --source NAME\nMessages open contacts:\n"
                "  vista contacts inbound --help\n  or POST /api/v1/inbound\n"
                "Or build a demo store:\n  vista demo --db demo.db"
            )
        matching = f" matching '{clean(typed, max_length=40)}'" if typed else ""
        return f"No contacts in {label} · {chan}{matching}."

    # -- cursor ------------------------------------------------------------------

    def on_queue_list_moved(self, message: QueueList.Moved) -> None:
        message.stop()
        self._paint_status()
        more = self.window.plan_edge()
        if more is not None:
            self._load(more, self.query_, None)
        if self.current is not None:
            self.post_message(self.Highlighted(self.current))

    def on_queue_list_jump(self, message: QueueList.Jump) -> None:
        message.stop()
        if message.where == "top":
            self.reload(top=True)
        else:
            self.window.generation += 1
            self._load(self.window.plan_bottom(), self.query_, None)

    def on_queue_list_open(self, message: QueueList.Open) -> None:
        message.stop()
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def select_next(self) -> bool:
        """Move to the row after the cursor; False at the end of the loaded rows."""
        before = self.window.cursor
        self.query_one(QueueList).action_move(1)
        return self.window.cursor != before

    def select_id(self, contact_id: int) -> None:
        found = self.window.index_of(contact_id)
        if found is not None:
            self.window.cursor = found
            self.query_one(QueueList).refresh()
            self._paint_status()
