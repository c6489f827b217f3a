"""A full-screen detail of one timeline event (the narrow layout's detail view)."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from backends.base import Backend
from backends.models import CONVERSATION_KINDS, ContactDetail, TimelineEvent
from console.format import error_text
from console.host import backend_of
from console.widgets.side.event_detail import EventDetail


def load_detail(backend: Backend, event: TimelineEvent) -> ContactDetail | None:
    """The live contact (with replies added since) of a conversation event, if any."""
    if event.kind in CONVERSATION_KINDS and event.contact_id is not None:
        return backend.get_contact(event.contact_id)
    return None


class EventScreen(ModalScreen[None]):
    """Event detail over the workspace; Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,d", "close", "Close", id="event.close")
    ]

    def __init__(self, event: TimelineEvent) -> None:
        super().__init__()
        self.event_ = event

    def compose(self) -> ComposeResult:
        with Vertical(id="event-dialog"):
            yield Static(Content.styled(" Event detail ", "bold reverse"))
            yield EventDetail(id="event-detail")
        yield Footer()

    def on_mount(self) -> None:
        detail = self.query_one(EventDetail)
        detail.show(self.event_)
        detail.focus()
        self._load()

    @work(thread=True, exclusive=True, group="event", exit_on_error=False)
    def _load(self) -> None:
        try:
            contact = load_detail(backend_of(self), self.event_)
        except Exception as error:  # noqa: BLE001 - shown in place
            self.app.call_from_thread(
                self.query_one(EventDetail).show_error, error_text(error, "Conversation")
            )
            return
        if contact is not None:
            self.app.call_from_thread(self.query_one(EventDetail).show, self.event_, contact)

    def action_close(self) -> None:
        self.dismiss(None)
