"""The unified timeline list: newest first, paged from the backend, with filters and jumps."""

from __future__ import annotations

from textual.content import Content
from textual.widgets.option_list import Option

from backends.models import CONVERSATION_KINDS, EventKind, TimelineEvent
from console.format import DELIVERY_STYLE, when
from console.safe_text import content
from console.widgets.common.hit_list import HitList

KIND_FILTERS: tuple[tuple[str, tuple[EventKind, ...]], ...] = (
    ("all kinds", ()),
    (
        "orders",
        (
            EventKind.ORDER,
            EventKind.ORDER_STATUS,
            EventKind.PAYMENT,
            EventKind.REFUND,
            EventKind.RETURN,
        ),
    ),
    ("conversations", tuple(sorted(CONVERSATION_KINDS))),
    (
        "web",
        (
            EventKind.WEB_SESSION,
            EventKind.PAGE_VIEW,
            EventKind.PRODUCT_VIEW,
            EventKind.CART_CHANGE,
            EventKind.CHECKOUT_STEP,
        ),
    ),
    ("notes & surveys", (EventKind.NOTE, EventKind.SURVEY, EventKind.PROFILE_CHANGE)),
)
CHANNEL_FILTERS: tuple[str | None, ...] = (None, "email", "chat", "phone", "whatsapp", "sms", "web")

KIND_TAG = {
    EventKind.ORDER: ("ORDER", "bold $accent"),
    EventKind.ORDER_STATUS: ("SHIP", "$accent"),
    EventKind.PAYMENT: ("PAY", "dim"),
    EventKind.REFUND: ("REFUND", "$warning"),
    EventKind.RETURN: ("RETURN", "$warning"),
    EventKind.WEB_SESSION: ("VISIT", "$secondary"),
    EventKind.PRODUCT_VIEW: ("VIEW", "dim"),
    EventKind.PAGE_VIEW: ("PAGE", "dim"),
    EventKind.CART_CHANGE: ("CART", "dim"),
    EventKind.CHECKOUT_STEP: ("CHECKOUT", "$warning"),
    EventKind.TICKET: ("TICKET", "bold $primary"),
    EventKind.CHAT: ("CHAT", "bold $primary"),
    EventKind.EMAIL: ("EMAIL", "bold $primary"),
    EventKind.CALL: ("CALL", "bold $primary"),
    EventKind.WHATSAPP: ("WHATSAPP", "bold $primary"),
    EventKind.SMS: ("SMS", "bold $primary"),
    EventKind.SURVEY: ("SURVEY", "$success"),
    EventKind.NOTE: ("NOTE", "$warning"),
    EventKind.REPLY: ("REPLY", "$success"),
    EventKind.PROFILE_CHANGE: ("PROFILE", "dim"),
}
JUMP_KINDS: dict[str, frozenset[EventKind]] = {
    "order": frozenset({EventKind.ORDER}),
    "ticket": frozenset({EventKind.TICKET}),
    "conversation": frozenset(CONVERSATION_KINDS - {EventKind.REPLY}),
}


def event_row(event: TimelineEvent) -> Content:
    tag, style = KIND_TAG.get(event.kind, (event.kind.value.upper(), ""))
    row = Content.assemble(
        (when(event.at), "dim"),
        " ",
        (f"{tag:<8}", style),
        " ",
    )
    delivery = (event.payload or {}).get("delivery") if event.kind is EventKind.REPLY else None
    # a reply's state with its provider, before the text (rows are cut at the end); only the
    # states Vista writes: a payload from an import is the source's text, not a state
    if delivery in DELIVERY_STYLE:
        state = str(delivery)
        row = Content.assemble(row, (f"[{state}] ", DELIVERY_STYLE.get(state, "")))
    return Content.assemble(row, content(event.summary, max_length=300))


class TimelineList(HitList):
    """Loaded events as options (ids are event ids); the pane pages more in.

    An OptionList whose one-line rows are drawn once and kept (see HitList)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.events: list[TimelineEvent] = []

    def set_events(self, events: list[TimelineEvent], *, append: bool = False) -> None:
        options = [Option(event_row(e), id=str(e.id)) for e in events]
        if append:
            self.events.extend(events)
            self.add_options(options)
            return
        self.events = list(events)
        self.set_options(options)  # one replacement: one update, not clear + add
        if events:
            self.highlighted = 0

    @property
    def current(self) -> TimelineEvent | None:
        i = self.highlighted
        return self.events[i] if i is not None and 0 <= i < len(self.events) else None

    def find(self, group: str, direction: int) -> int | None:
        """Index of the next (1: older) or previous (-1: newer) event of a jump group."""
        kinds = JUMP_KINDS[group]
        start = self.highlighted if self.highlighted is not None else -1
        i = start + direction
        while 0 <= i < len(self.events):
            if self.events[i].kind in kinds:
                return i
            i += direction
        return None
