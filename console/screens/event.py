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
from console import actions
from console.format import error_text
from console.host import backend_of, host
from console.widgets.side.event_detail import EventDetail


def load_detail(backend: Backend, event: TimelineEvent) -> ContactDetail | None:
    """The live contact (with replies added since) of a conversation event, if any."""
    if event.kind in CONVERSATION_KINDS and event.contact_id is not None:
        return backend.get_contact(event.contact_id)
    return None


class EventScreen(ModalScreen[None]):
    """Event detail over the workspace; Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,d", "close", "Close", id="event.close"),
        *actions.bindings("event"),
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if actions.is_mutating(action) and host(self).read_only:
            return False
        if action == "retry_reply":  # shown on a failed reply only
            return actions.failed_reply(self.event_) is not None
        return True

    def action_retry_reply(self) -> None:
        message_id = actions.failed_reply(self.event_)
        if message_id is not None:
            self._retry(message_id)

    @work(thread=True, exclusive=True, group="event-retry", exit_on_error=False)
    def _retry(self, message_id: int) -> None:
        """Send the failed reply again, then show the event as it now stands (queued)."""
        backend = backend_of(self)
        try:
            backend.retry_message(message_id)
            event = backend.get_event(self.event_.id)
        except Exception as error:  # noqa: BLE001 - shown, the screen stays usable
            text = error_text(error, "Retry")
            self.app.call_from_thread(self.notify, text, severity="error", markup=False)
            return
        self.app.call_from_thread(self._retried, event)

    def _retried(self, event: TimelineEvent) -> None:
        self.event_ = event
        self.query_one(EventDetail).show(event)
        self.refresh_bindings()
        self.notify("Reply queued to send again", markup=False)
        self._load()
