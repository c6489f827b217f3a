"""The single customer view: profile header, key facts and the unified timeline.

It loads its own data in thread workers (customer + facts + first page, then
further pages) and posts what the screen needs to coordinate other panes.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.worker import get_current_worker

from backends.models import Customer, CustomerFacts, TimelineEvent, TimelinePage
from console.format import error_text
from console.host import backend_of
from console.widgets.customer.profile import ProfileHeader
from console.widgets.customer.timeline import CHANNEL_FILTERS, KIND_FILTERS, TimelineList

PAGE = 50
#: A customer still loading after this long is replaced by "Loading…".
LOADING_AFTER = 0.15


class CustomerView(Vertical):
    """Centre pane. `open(customer_id)` loads it."""

    class Loaded(Message):
        def __init__(self, customer: Customer, facts: CustomerFacts) -> None:
            super().__init__()
            self.customer, self.facts = customer, facts

    class EventHighlighted(Message):
        def __init__(self, event: TimelineEvent | None) -> None:
            super().__init__()
            self.event = event

    class EventOpened(Message):
        def __init__(self, event: TimelineEvent) -> None:
            super().__init__()
            self.event = event

    class _Page(Message):
        def __init__(
            self,
            customer_id: int,
            generation: int,
            page: TimelinePage,
            append: bool,
            customer: Customer | None = None,
            facts: CustomerFacts | None = None,
        ) -> None:
            super().__init__()
            self.customer_id, self.generation, self.page, self.append = (
                customer_id,
                generation,
                page,
                append,
            )
            self.customer, self.facts = customer, facts

    class _Failed(Message):
        def __init__(self, text: str, generation: int) -> None:
            super().__init__()
            self.text, self.generation = text, generation

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.customer_id: int | None = None
        self.customer: Customer | None = None
        self.facts: CustomerFacts | None = None
        self.kind_filter = 0
        self.channel_filter = 0
        self.next_cursor: str | None = None
        self.generation = 0
        self._loading_more = False
        self._pending_jump: tuple[str, int] | None = None
        self._stale = False  # the pane still shows the customer before `customer_id`
        self._loading_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="profile-scroll"):
            yield ProfileHeader(id="profile")
        yield Static(id="timeline-bar")
        yield TimelineList(id="timeline")

    def on_mount(self) -> None:
        self.query_one(ProfileHeader).show(None, None)
        self._paint_bar()

    # -- loading -------------------------------------------------------------------

    def open(self, customer_id: int, *, force: bool = False) -> None:
        """Show a customer (reloads profile, facts and the first timeline page)."""
        if customer_id == self.customer_id and not force:
            return
        if customer_id != self.customer_id:
            # each customer starts with the whole timeline: a filter chosen for the last
            # one would hide this one's events without saying so
            self.kind_filter = self.channel_filter = 0
            # "Loading…" only when the load takes a moment: a customer usually arrives in
            # a few ms, and blanking the pane first would paint the screen twice
            self._stale = True
            if self._loading_timer is not None:
                self._loading_timer.stop()
            self._loading_timer = self.set_timer(LOADING_AFTER, self._clear_stale)
        self.customer_id = customer_id
        self.generation += 1
        self._load(customer_id, self.generation, None, with_profile=True)

    def _clear_stale(self) -> None:
        """The previous customer is still shown while another loads: clear it."""
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        if self._stale:
            self._stale = False
            self.query_one(TimelineList).set_events([])
            self.query_one(ProfileHeader).update(Content.styled("Loading…", "dim"))

    def reload_timeline(self) -> None:
        if self.customer_id is not None:
            self.generation += 1
            self._load(self.customer_id, self.generation, None, with_profile=True)

    @work(thread=True, exclusive=True, group="customer", exit_on_error=False)
    def _load(
        self, customer_id: int, generation: int, cursor: str | None, with_profile: bool = False
    ) -> None:
        backend = backend_of(self)
        kinds = KIND_FILTERS[self.kind_filter][1]
        channel = CHANNEL_FILTERS[self.channel_filter]
        try:
            channels = (channel,) if channel else ()
            if with_profile and cursor is None:  # one round trip on a remote backend
                view = backend.customer_view(
                    customer_id, kinds=kinds, channels=channels, limit=PAGE
                )
                customer, facts, page = view.customer, view.facts, view.timeline
            else:
                customer = backend.get_customer(customer_id) if with_profile else None
                facts = backend.customer_facts(customer_id) if with_profile else None
                page = backend.timeline(
                    customer_id, kinds=kinds, channels=channels, cursor=cursor, limit=PAGE
                )
        except Exception as error:  # noqa: BLE001 - shown in the pane
            self.post_message(self._Failed(error_text(error, "Customer"), generation))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(
                self._Page(customer_id, generation, page, cursor is not None, customer, facts)
            )

    def on_customer_view__page(self, message: _Page) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self._loading_more = False
        stale, self._stale = self._stale, False
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        if message.customer is not None and message.facts is not None:
            self.customer, self.facts = message.customer, message.facts
            self.query_one(ProfileHeader).show(message.customer, message.facts)
            self.post_message(self.Loaded(message.customer, message.facts))
        timeline = self.query_one(TimelineList)
        keep = timeline.highlighted if message.append else None
        # a reload of the same customer (live changes) keeps the operator's place
        keep_event = (
            timeline.current.id if not (message.append or stale) and timeline.current else None
        )
        timeline.set_events(list(message.page.events), append=message.append)
        if keep is not None:
            timeline.highlighted = keep
        elif keep_event is not None:
            found = next((i for i, e in enumerate(timeline.events) if e.id == keep_event), None)
            if found is not None:
                timeline.highlighted = found
        self.next_cursor = message.page.next_cursor
        self._paint_bar()
        if self._pending_jump is not None:
            group, direction = self._pending_jump
            self._pending_jump = None
            self.jump(group, direction, load_more=False)
        elif not message.append:
            self.post_message(self.EventHighlighted(timeline.current))

    def on_customer_view__failed(self, message: _Failed) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self._loading_more = False
        stale = self._stale
        self._clear_stale()
        if stale:  # nothing of the previous customer stays in view (nor its conversation)
            self.post_message(self.EventHighlighted(None))
        self.query_one("#timeline-bar", Static).update(Content.styled(message.text, "bold $error"))
        self.app.notify(message.text, title="Customer", severity="error", markup=False)

    def load_more(self) -> bool:
        if (
            self.next_cursor is None
            or self.customer_id is None
            or self._loading_more
            or self._stale
        ):
            return False
        self._loading_more = True
        self._load(self.customer_id, self.generation, self.next_cursor)
        return True

    # -- filters and jumps ---------------------------------------------------------------

    def _paint_bar(self) -> None:
        timeline = self.query_one(TimelineList)
        more = "more below" if self.next_cursor else "end"
        self.query_one("#timeline-bar", Static).update(
            Content.assemble(
                ("Timeline ", "bold"),
                (f"[{KIND_FILTERS[self.kind_filter][0]}] ", "$accent"),
                (f"[{CHANNEL_FILTERS[self.channel_filter] or 'all channels'}] ", "$accent"),
                (f"{len(timeline.events)} loaded, {more}", "dim"),
            )
        )

    def focus_timeline(self) -> None:
        self.query_one(TimelineList).focus()

    def cycle_kind(self) -> None:
        self.kind_filter = (self.kind_filter + 1) % len(KIND_FILTERS)
        self._refilter()

    def cycle_channel(self) -> None:
        self.channel_filter = (self.channel_filter + 1) % len(CHANNEL_FILTERS)
        self._refilter()

    def _refilter(self) -> None:
        self._paint_bar()
        if self.customer_id is not None:
            self._clear_stale()
            self.generation += 1
            self.query_one(TimelineList).set_events([])
            # the profile too when it is not this customer's yet (a load it supersedes)
            profile = self.customer is None or self.customer.id != self.customer_id
            self._load(self.customer_id, self.generation, None, with_profile=profile)

    def jump(self, group: str, direction: int, *, load_more: bool = True) -> bool:
        """Highlight the next/previous order, ticket or conversation."""
        if self._stale:  # the customer is on its way: jump in it when it is in
            self._pending_jump = (group, direction)
            return True
        timeline = self.query_one(TimelineList)
        found = timeline.find(group, direction)
        if found is not None:
            timeline.highlighted = found
            timeline.focus()
            return True
        if direction > 0 and load_more and self.load_more():
            self._pending_jump = (group, direction)
            return True
        self.app.notify(
            f"No {'older' if direction > 0 else 'newer'} {group} loaded",
            severity="warning",
            markup=False,
        )
        return False

    @on(OptionList.OptionHighlighted, "#timeline")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self._stale:
            return
        timeline = self.query_one(TimelineList)
        if event.option_index >= len(timeline.events) - 5:
            self.load_more()
        self.post_message(self.EventHighlighted(timeline.current))

    @on(OptionList.OptionSelected, "#timeline")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self._stale:
            return
        current = self.query_one(TimelineList).current
        if current is not None:
            self.post_message(self.EventOpened(current))

    @property
    def current_event(self) -> TimelineEvent | None:
        return None if self._stale else self.query_one(TimelineList).current
