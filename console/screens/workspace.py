"""The workspace: queue (left), single customer view (centre), detail + composer (right or bottom).

The screen mediates between panes (attributes down, messages up), runs the
contact actions in thread workers and follows the change feed: held reads of a
backend that can hold them (Capability.WAIT_CHANGES: a server's long-poll), so
another operator's work shows at once, else a read every `poll_interval` seconds
(the embedded store reads its file).

Start-up paints the queue first: the header, the queue pane and the key bar are
composed (and, in the narrow layout, the empty bottom strip, so nothing moves); the
centre column (contact bar, customer view) and the side column (inline detail,
composer) are mounted, and the reference data (agents, templates) loaded, right
after the queue's first page is on screen. A contact opened before then is opened
when they are in. The change feed is polled from its cursor as it was before the
queue's first page was read (console.widgets.queue.first_page).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Key, Resize
from textual.message import Message
from textual.widgets import Input, Static, TextArea
from textual.worker import get_current_worker

from backends.base import Capability, Unavailable
from backends.models import (
    Agent,
    Call,
    CallState,
    ChangeBatch,
    ChangeEntity,
    Contact,
    ContactDetail,
    ContactStatus,
    QueueQuery,
    Template,
    TimelineEvent,
)
from console import actions, lazy
from console.format import error_text
from console.host import backend_of, host
from console.safe_text import clean, content
from console.screens.contact_actions import ContactActions
from console.widgets.common.key_bar import KeyBar
from console.widgets.queue.first_page import FirstPage
from console.widgets.queue.pane import QueuePane
from console.widgets.queue.rows import QueueList
from console.widgets.queue.window import PAGE

if TYPE_CHECKING:
    from console.widgets.customer.contact_bar import ContactBar
    from console.widgets.customer.pane import CustomerView
    from console.widgets.side.composer import Composer
    from console.widgets.side.event_detail import EventDetail

#: The change-feed action of a ringing call on its contact (backends.sqlite.calls).
RINGING = "ringing"
#: When the queue has not shown its first page by then, the other panes come in anyway.
PANES_AT_THE_LATEST = 1.0
#: How long one held read of the change feed waits: a change ends it at once, and the
#: console's exit waits at most this long for the read in flight.
LIVE_WAIT = 1.0
#: Pauses between held reads while the backend is unreachable (the last one repeats).
LIVE_BACKOFF = (0.5, 1.0, 2.0, 5.0)


class WorkspaceScreen(ContactActions):
    """The operator's whole shift happens here."""

    BINDINGS = actions.bindings("workspace")
    AUTO_FOCUS = "#queue-list"

    class _Changes(Message):
        def __init__(self, batch: ChangeBatch) -> None:
            super().__init__()
            self.batch = batch

    class _Connection(Message):
        """The change feed answered (online) or the backend is unreachable (offline)."""

        def __init__(self, online: bool, reason: str = "") -> None:
            super().__init__()
            self.online, self.reason = online, reason

    def __init__(self) -> None:
        # layout classes from the start: changing a screen's classes restyles every pane
        super().__init__(classes=" ".join(self._layout_classes()))
        self.contact: Contact | None = None
        self.customer_id: int | None = None
        self.agents_: tuple[Agent, ...] = ()
        self.templates: tuple[Template, ...] = ()
        self.agent: Agent | None = None
        self.since: int | None = None
        self._open_timer = None
        self._binding_state: object = None
        self.offline = ""  # why the backend is unreachable; empty when online
        self._panes_started = False
        self._pending_open: tuple[Contact | None, int | None, bool] | None = None
        self._first: FirstPage | None = None  # the queue's first page, asked at start-up
        self._panes: lazy.LatePanes | None = None  # the centre and side panes, once mounted
        self.live = False  # the change feed is followed by held reads (`_follow_changes`)

    @property
    def me(self) -> str:
        return host(self).agent_name

    @property
    def panes_ready(self) -> bool:
        """The customer view, contact bar, detail and composer are mounted."""
        return self._panes is not None

    def compose(self) -> ComposeResult:
        yield Static(self._header(), id="app-header")
        with Horizontal(id="panes"):
            yield QueuePane(self.me, self._asked_first_page(), id="queue")
            if self.has_class("-narrow"):  # docked under the queue: there from the start,
                yield Vertical(id="side")  # so the queue does not shrink when it fills in
        yield KeyBar()

    def _asked_first_page(self) -> FirstPage:
        """The queue's first page as `vista` asked for it at start-up, or asked now."""
        app = host(self)
        first = app.take_first_page()
        if first is None or first.backend is not app.backend:
            first = FirstPage(app.backend, QueueQuery(), PAGE)
        self._first = first
        return first

    def on_screen_resume(self) -> None:
        """Back on top after a dialog: the countdowns paused under it catch up at once."""
        for queue in self.query(QueueList):
            queue.refresh()
        bar = self._contact_bar()
        if bar is not None:
            bar.repaint()

    def on_mount(self) -> None:
        self.live = Capability.WAIT_CHANGES in host(self).capabilities
        self.set_interval(host(self).poll_interval, self._poll)
        if self.live:
            self._follow_changes()
        self.set_timer(PANES_AT_THE_LATEST, self._start_panes)

    def _header(self) -> Content:
        app = host(self)
        parts: list[Any] = [
            (" Vista ", "bold reverse"),
            "  agent ",
            content(app.agent_label, "bold"),
            "  ",
            content(app.backend.location, "dim"),
        ]
        if app.read_only:
            parts += ["  ", (" READ-ONLY ", "bold $text-error on $error-muted")]
        if self.offline:
            parts += [
                "  ",
                (" OFFLINE, retrying ", "bold $text-warning on $warning-muted"),
                " ",
                content(self.offline, "dim"),
            ]
        return Content.assemble(*parts)

    def _paint_header(self) -> None:
        self.query_one("#app-header", Static).update(self._header(), layout=False)

    # -- the panes after the queue -------------------------------------------------

    def on_queue_list_painted(self, message: QueueList.Painted) -> None:
        """The queue's first page (or its error) is on screen: now the rest."""
        message.stop()
        self.call_after_refresh(self._start_panes)

    def _start_panes(self) -> None:
        if not self._panes_started:
            self._panes_started = True
            self._load_reference(self._first.since if self._first is not None else None)
            self.run_worker(self._mount_panes, group="panes", exit_on_error=True)

    async def _mount_panes(self) -> None:
        """Mount the customer view, contact bar, inline detail and composer."""
        app = host(self)
        late = lazy.late_panes(self.me, app.now, None if app.read_only else app.drafts)
        side_panes: list[Any] = [late.detail]
        if late.composer is not None:
            side_panes.append(late.composer)
        centre = Vertical(late.contact_bar, late.customer, id="centre")
        panes, queue = self.query_one("#panes"), self.query_one(QueuePane)
        if not panes.is_attached:  # the console is closing already (quit at start-up)
            return
        sides = self.query("#side")
        if sides:
            mounted = [panes.mount(centre, after=queue), sides.first().mount(*side_panes)]
        else:
            mounted = [panes.mount(centre, Vertical(*side_panes, id="side"), after=queue)]
        for awaited in mounted:
            await awaited
        self._panes = late
        app.started()
        for composer in self._composers():  # the reference data may have come meanwhile
            composer.set_reference(self.agent, self.templates)
        pending, self._pending_open = self._pending_open, None
        if pending is not None:
            contact, customer_id, focus_timeline = pending
            if contact is not None:
                self.open_contact(contact)
            elif customer_id is not None:
                self.open_customer(customer_id)
            if focus_timeline:
                self.action_focus_timeline()

    def _customer_view(self) -> CustomerView | None:
        return self._panes.customer if self._panes is not None else None

    def _contact_bar(self) -> ContactBar | None:
        return self._panes.contact_bar if self._panes is not None else None

    def _composers(self) -> list[Composer]:
        """The composer, when there is one (none in read-only mode, none before the panes)."""
        composer = self._panes.composer if self._panes is not None else None
        return [composer] if composer is not None else []

    # -- layout -------------------------------------------------------------------

    def _layout_classes(self) -> tuple[str, ...]:
        mode = host(self).settings.layout
        wide = mode == "wide" or (mode == "auto" and self.app.size.width >= 140)
        classes = ("-wide",) if wide else ("-narrow",)
        if host(self).read_only:
            classes += ("-read-only",)
        return classes

    def _apply_layout(self) -> None:
        wide = "-wide" in self._layout_classes()
        self.update_classes({"-wide": wide, "-narrow": not wide})

    def on_resize(self, event: Resize) -> None:
        self._apply_layout()

    def action_toggle_layout(self) -> None:
        settings = host(self).settings
        settings.layout = "narrow" if self.has_class("-wide") else "wide"
        settings.save()
        self._apply_layout()

    # -- reference data, change feed --------------------------------------------------

    @work(thread=True, exclusive=True, group="reference", exit_on_error=False)
    def _load_reference(self, since: int | None = None) -> None:
        """Agents, templates, who I am, and the change feed's cursor (`since`: when
        it was read already, before the queue's first page)."""
        backend = backend_of(self)
        try:
            if since is None:
                since = backend.changes(-1).cursor
            agents = backend.agents()
            templates = backend.templates()
            me = backend.whoami()
        except Unavailable as error:  # the poll tick retries, the header says offline
            self.post_message(self._Connection(False, error.message))
            return
        except Exception as error:  # noqa: BLE001 - shown, app keeps going
            self.app.call_from_thread(
                self.notify, error_text(error, "Start"), severity="error", markup=False
            )
            return
        self.app.call_from_thread(self._reference_loaded, since, agents, templates, me)

    def _reference_loaded(
        self, since: int, agents: tuple[Agent, ...], templates: tuple[Template, ...], me: Agent
    ) -> None:
        self.since = since
        self.agents_ = agents
        self.templates = templates
        self.agent = me
        for composer in self._composers():
            composer.set_reference(me, templates)

    def _poll(self) -> None:
        if self.since is not None:
            if not self.live:
                self._poll_changes(self.since)
        elif self.offline:
            self._load_reference()  # the backend was down at start: try again
        queue = self.query_one(QueuePane)
        if queue.failed:
            queue.reload()

    @work(thread=True, exclusive=True, group="changes", exit_on_error=False)
    def _poll_changes(self, since: int) -> None:
        try:
            batch = backend_of(self).changes(since)
        except Unavailable as error:  # the next tick retries
            self.post_message(self._Connection(False, error.message))
            return
        except Exception:  # noqa: BLE001 - the next tick retries
            return
        self.post_message(self._Connection(True))
        if batch.changes and not get_current_worker().is_cancelled:
            self.post_message(self._Changes(batch))

    @work(thread=True, exclusive=True, group="live-changes", exit_on_error=False)
    def _follow_changes(self) -> None:
        """Read the change feed in held reads until the screen goes: each returns as soon
        as something changed, or after `LIVE_WAIT` seconds. While the backend is
        unreachable the header says so and the reads back off (`LIVE_BACKOFF`)."""
        stop = get_current_worker().cancelled_event
        backend = backend_of(self)
        cursor: int | None = None
        failures = 0
        while not stop.is_set():
            since = self.since  # None until the reference data (and the cursor) is in
            if since is None:
                stop.wait(LIVE_WAIT / 4)
                continue
            cursor = since if cursor is None else max(cursor, since)
            started = time.monotonic()
            try:
                batch = backend.wait_changes(cursor, timeout=LIVE_WAIT)
            except Exception as error:  # noqa: BLE001 - retried after a pause
                if isinstance(error, Unavailable):
                    self.post_message(self._Connection(False, error.message))
                stop.wait(LIVE_BACKOFF[min(failures, len(LIVE_BACKOFF) - 1)])
                failures += 1
                continue
            failures = 0
            if stop.is_set():
                return
            self.post_message(self._Connection(True))
            if batch.changes:
                cursor = batch.cursor
                self.post_message(self._Changes(batch))
            else:  # a backend that did not hold the read: do not spin on it
                stop.wait(max(0.0, LIVE_WAIT / 2 - (time.monotonic() - started)))

    def on_workspace_screen__connection(self, message: _Connection) -> None:
        reason = "" if message.online else (message.reason or "unreachable")
        if reason == self.offline:
            return
        was_offline, self.offline = bool(self.offline), reason
        self._paint_header()
        if was_offline and message.online:  # back: catch up on what happened meanwhile
            self.query_one(QueuePane).reload(keep_id=self.contact.id if self.contact else None)
            if self.contact is not None:
                self._refresh_contact(self.contact.id)
            view = self._customer_view()
            if view is not None and self.customer_id is not None:
                view.reload_timeline()  # keeps the operator's place in the timeline

    def on_workspace_screen__changes(self, message: _Changes) -> None:
        batch = message.batch
        if self.since is not None and batch.cursor <= self.since:
            return
        self.since = batch.cursor
        ringing = [
            c.entity_id
            for c in batch.changes
            if c.entity is ChangeEntity.CONTACT and c.action == RINGING
        ]
        if ringing and Capability.CALLS in host(self).capabilities:
            self._screen_pop(ringing[-1])
        contacts = {c.entity_id for c in batch.changes if c.entity is ChangeEntity.CONTACT}
        customers = {c.entity_id for c in batch.changes if c.entity is ChangeEntity.CUSTOMER}
        if contacts:
            self.query_one(QueuePane).reload(keep_id=self.contact.id if self.contact else None)
        if self.contact is not None and self.contact.id in contacts:
            self._refresh_contact(self.contact.id)
        view = self._customer_view()
        if (
            view is not None
            and self.customer_id is not None
            and (
                self.customer_id in customers
                or (self.contact is not None and self.contact.id in contacts)
            )
        ):
            view.reload_timeline()

    # -- screen pop ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="screen-pop", exit_on_error=False)
    def _screen_pop(self, contact_id: int) -> None:
        """A call rings on `contact_id`: when it is offered to me, open its customer (and,
        for an unknown number, the new caller card)."""
        backend = backend_of(self)
        try:
            contact = backend.get_contact(contact_id).contact
            if contact.assignee != self.me:
                return
            calls = backend.calls(contact_id)
        except Exception:  # noqa: BLE001 - a missed pop leaves the contact in the queue
            return
        call = calls[0] if calls else None
        self.app.call_from_thread(self._popped, contact, call)

    def _popped(self, contact: Contact, call: Call | None) -> None:
        self.open_contact(contact)
        self.query_one(QueuePane).reload(keep_id=contact.id)
        who = clean(contact.customer_name) if call is None or not call.new_caller else "new caller"
        number = f" {call.caller}" if call is not None else ""
        self.notify(f"Incoming call{number}: {who}", title="Call", timeout=10, markup=False)
        if call is not None and call.new_caller and call.state is not CallState.ENDED:
            self.app.push_screen(
                lazy.new_caller_card(call), lambda named: self._name_caller(call, named)
            )

    def _name_caller(self, call: Call, named: tuple[str, str] | None) -> None:
        if named is not None:
            self._save_caller(call.customer_id, *named)

    @work(thread=True, exclusive=True, group="new-caller", exit_on_error=False)
    def _save_caller(self, customer_id: int, name: str, email: str) -> None:
        try:
            backend_of(self).name_caller(customer_id, name, email)
        except Exception as error:  # noqa: BLE001 - shown, the app keeps going
            self.app.call_from_thread(
                self.notify, error_text(error, "New caller"), severity="error", markup=False
            )
            return
        self.app.call_from_thread(self._caller_saved, customer_id)

    def _caller_saved(self, customer_id: int) -> None:
        view = self._customer_view()
        if view is not None and self.customer_id == customer_id:
            view.open(customer_id, force=True)
        self.query_one(QueuePane).reload(keep_id=self.contact.id if self.contact else None)

    @work(thread=True, exclusive=True, group="contact", exit_on_error=False)
    def _refresh_contact(self, contact_id: int) -> None:
        try:
            detail = backend_of(self).get_contact(contact_id)
        except Exception:  # noqa: BLE001 - keep the last known state
            return
        self.app.call_from_thread(self._contact_updated, detail.contact)

    def _contact_updated(self, contact: Contact) -> None:
        if self.contact is not None and contact.id == self.contact.id:
            self.contact = contact
            bar = self._contact_bar()
            if bar is not None:
                bar.contact = contact
                bar.repaint()
            for composer in self._composers():
                composer.set_contact(contact)
            self._bindings_changed()

    # -- opening ----------------------------------------------------------------------

    @on(QueuePane.Highlighted)
    def _queue_moved(self, message: QueuePane.Highlighted) -> None:
        if self._open_timer is not None:
            self._open_timer.stop()
        contact = message.contact
        # a short debounce: holding an arrow key does not load every customer on the way
        self._open_timer = self.set_timer(0.03, lambda: self.open_contact(contact))

    @on(QueuePane.Opened)
    def _queue_opened(self, message: QueuePane.Opened) -> None:
        self.open_contact(message.contact)
        self.action_focus_timeline()

    def open_contact(self, contact: Contact) -> None:
        """Make `contact` the one the actions and the composer work on."""
        self.contact = contact
        self.customer_id = contact.customer_id
        view, bar = self._customer_view(), self._contact_bar()
        if view is None or bar is None:  # the panes are on their way: open it then
            self._pending_open = (contact, None, False)
        else:
            bar.show(contact)
            view.open(contact.customer_id)
            for composer in self._composers():
                composer.set_contact(contact)
        self._bindings_changed()

    def open_customer(self, customer_id: int) -> None:
        """Open a customer without a contact (from search)."""
        self.contact = None
        self.customer_id = customer_id
        view, bar = self._customer_view(), self._contact_bar()
        if view is None or bar is None:
            self._pending_open = (None, customer_id, True)
        else:
            bar.show(None, customer_id)
            view.open(customer_id, force=True)
            for composer in self._composers():
                composer.set_contact(None)
            self.action_focus_timeline()
        self._bindings_changed()

    def on_customer_view_loaded(self, message: CustomerView.Loaded) -> None:
        for composer in self._composers():
            composer.set_customer(message.customer, message.facts)

    def on_customer_view_event_highlighted(self, message: CustomerView.EventHighlighted) -> None:
        self._bindings_changed()
        if self.has_class("-wide"):
            self._inline().show(message.event)
            if message.event is not None:
                self._inline_detail(message.event)

    @work(thread=True, exclusive=True, group="inline-detail", exit_on_error=False)
    def _inline_detail(self, event: TimelineEvent) -> None:
        try:
            detail = lazy.event_detail(backend_of(self), event)
        except Exception as error:  # noqa: BLE001 - shown in place
            self.app.call_from_thread(self._inline_failed, error_text(error, "Conversation"))
            return
        if detail is not None and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_inline, event, detail)

    def _inline(self) -> EventDetail:
        assert self._panes is not None  # only asked for once a timeline event is shown
        return self._panes.detail

    def _inline_failed(self, text: str) -> None:
        self._inline().show_error(text)

    def _show_inline(self, event: TimelineEvent, detail: ContactDetail) -> None:
        """Show a loaded conversation, unless the operator has moved on meanwhile."""
        view = self._customer_view()
        current = view.current_event if view is not None else None
        if current is not None and current.id == event.id:
            self._inline().show(event, detail)

    def on_customer_view_event_opened(self, message: CustomerView.EventOpened) -> None:
        self.app.push_screen(lazy.event_screen(message.event))

    def _bindings_changed(self) -> None:
        """Refresh the footer and palette only when what is allowed actually changed
        (a footer refresh recomposes it: too slow to do on every customer opened)."""
        c = self.contact
        state = (
            self._failed_reply() is not None,
            self.customer_id is not None,
            c is not None,
            None
            if c is None
            else (c.assignee == self.me, c.assignee is None, c.status is ContactStatus.RESOLVED),
        )
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    # -- simple actions ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        read_only = host(self).read_only
        if actions.is_mutating(action) and read_only:
            return False
        if not actions.offered(action, host(self).capabilities):
            return False
        c = self.contact
        if action == "retry_reply":  # shown on a failed reply of a contact I may answer
            return (self._failed_reply() is not None and not self._held_by_other()) or False
        if action in actions.MUTATING:
            if c is None:
                return None
            if action == "claim":  # only a free contact; another's is theirs (or a transfer)
                return c.assignee is None or None
            if action == "release":  # only my own: another's hold is theirs to give back
                return c.assignee == self.me or None
            if action == "resolve":
                return c.status is not ContactStatus.RESOLVED or None
            if action == "reopen":
                return c.status is ContactStatus.RESOLVED or None
        if action in ("compose", "template"):  # no composer in read-only mode
            if read_only:
                return False
            return (c is not None and not self._held_by_other()) or None
        if action in (
            "open_event",
            "jump",
            "cycle_kind",
            "cycle_timeline_channel",
            "focus_timeline",
            "provenance",
        ):
            return self.customer_id is not None or None
        return True

    def why_not(self, action: str) -> str:
        """Why a workspace action cannot run now, in words for the operator ("" when it
        can, or when there is nothing to say: no contact open)."""
        if self.check_action(action, ()) is True:
            return ""
        spec = next((a for a in actions.ACTIONS if a.action == action), None)
        name = spec.description.lower() if spec is not None else action
        if host(self).read_only and (
            actions.is_mutating(action) or action in ("compose", "template")
        ):
            return f"read-only: {name} not allowed"
        c = self.contact
        if action == "retry_reply":
            if self._failed_reply() is None:
                return "only a reply whose delivery failed is sent again"
            if c is not None and self._held_by_other():
                return f"#{c.id} is held by {c.assignee}: ask for a transfer to retry"
            return ""
        if c is None:
            return ""
        holder = c.assignee
        if action == "claim" and holder == self.me:
            return f"#{c.id} is yours already"
        if action == "claim" and holder is not None:
            return f"#{c.id} is held by {holder}: ask them or a supervisor to transfer it"
        if action == "release" and holder is not None and holder != self.me:
            return f"#{c.id} is held by {holder}: only they can release it"
        if action in ("compose", "template") and self._held_by_other():
            return f"#{c.id} is held by {holder}: ask for a transfer to reply"
        return ""

    def _failed_reply(self) -> int | None:
        """The message id of the timeline's current event when it is a failed reply."""
        view = self._customer_view()
        return actions.failed_reply(view.current_event if view is not None else None)

    def action_retry_reply(self) -> None:
        message_id = self._failed_reply()
        if message_id is not None:
            self._retry(message_id)

    @work(thread=True, exclusive=True, group="retry", exit_on_error=False)
    def _retry(self, message_id: int) -> None:
        """Send a failed reply again; the timeline shows it queued (the change feed
        brings the dispatcher's progress after that)."""
        try:
            backend_of(self).retry_message(message_id)
        except Exception as error:  # noqa: BLE001 - shown, the app stays usable
            text = error_text(error, "Retry")
            self.app.call_from_thread(self.notify, text, severity="error", markup=False)
            return
        self.app.call_from_thread(self._retried)

    def _retried(self) -> None:
        self.notify("Reply queued to send again", markup=False)
        view = self._customer_view()
        if view is not None:
            view.reload_timeline()

    def _held_by_other(self) -> bool:
        """The open contact is held by another operator (an admin may still reply)."""
        return actions.held_by_other(self.contact, self.me, self.agent) is not None

    def on_key(self, event: Key) -> None:
        """A key whose action cannot run now says why (Textual would ignore it silently)."""
        if isinstance(self.focused, (Input, TextArea)):
            return  # typed text, not a command
        spec = actions.bound_to("workspace", event.key, host(self).keymap)
        if spec is None:
            return
        action = spec.action.split("(")[0]
        reason = self.why_not(action)
        if reason:
            self.notify(reason, severity="warning", markup=False, timeout=4)

    def action_tab(self, tab: str) -> None:
        self.query_one(QueuePane).set_tab(tab)

    def action_cycle_channel(self) -> None:
        self.query_one(QueuePane).cycle_channel()

    def action_filter(self) -> None:
        self.query_one(QueuePane).focus_filter()

    def action_focus_queue(self) -> None:
        self.query_one(QueueList).focus()

    def action_focus_timeline(self) -> None:
        view = self._customer_view()
        if view is not None:
            view.focus_timeline()
        elif self._pending_open is not None:
            contact, customer_id, _ = self._pending_open
            self._pending_open = (contact, customer_id, True)

    def action_cycle_kind(self) -> None:
        view = self._customer_view()
        if view is not None:
            view.cycle_kind()

    def action_cycle_timeline_channel(self) -> None:
        view = self._customer_view()
        if view is not None:
            view.cycle_channel()

    def action_jump(self, group: str, direction: int) -> None:
        view = self._customer_view()
        if view is not None:
            view.jump(group, direction)

    def action_open_event(self) -> None:
        view = self._customer_view()
        event = view.current_event if view is not None else None
        if event is not None:
            self.app.push_screen(lazy.event_screen(event))

    def action_provenance(self) -> None:
        """Where each profile value of the open customer came from (a modal, read-only)."""
        if self.customer_id is not None:
            view = self._customer_view()
            name = (
                view.customer.display_name
                if view is not None
                and view.customer is not None
                and view.customer.id == self.customer_id
                else ""
            )
            self.app.push_screen(lazy.provenance_screen(self.customer_id, name))

    def action_compose(self) -> None:
        for composer in self._composers():
            composer.text_area.focus()

    def action_template(self) -> None:
        for composer in self._composers():
            composer.action_pick_template()

    def action_next_contact(self) -> None:
        queue = self.query_one(QueuePane)
        if (
            self.contact is not None
            and queue.current is not None
            and queue.current.id != self.contact.id
        ):
            current = queue.current  # the cursor is already past the open one
            self.open_contact(current)
            return
        if not queue.select_next():
            self.notify("No more contacts in this view", markup=False)

    def on_composer_template_wanted(self, message: Composer.TemplateWanted) -> None:
        """The composer asks for a template: the screen opens the picker, the answer
        goes back to the composer."""
        self.app.push_screen(
            lazy.template_picker(message.templates), message.composer.insert_template
        )

    def on_composer_articles_wanted(self, message: Composer.ArticlesWanted) -> None:
        """The composer found articles: the screen opens the picker (each article's text or
        its link), the answer goes back to the composer."""
        self.app.push_screen(lazy.article_picker(message.articles), message.composer.insert_article)

    def on_composer_left(self) -> None:
        self.query_one(QueueList).focus()

    def on_composer_sent(self, message: Composer.Sent) -> None:
        if message.then == "resolve":
            self._write("resolve", message.contact_id)
            self.query_one(QueueList).focus()
        elif message.then == "next":
            self.query_one(QueueList).focus()
            self.action_next_contact()
        self.query_one(QueuePane).reload(keep_id=message.contact_id)
        self._refresh_contact(message.contact_id)
        view = self._customer_view()
        if view is not None:
            view.reload_timeline()
