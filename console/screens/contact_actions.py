"""The contact actions of the workspace (claim, release, transfer, priority, snooze,
resolve, reopen): pickers on the UI thread, the write in a thread worker.

Every one of them is declared mutating in console/actions.py; the screen's
`check_action` blocks them in read-only mode, and `_write` refuses again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.screen import Screen

from backends.base import ReadOnly
from backends.models import Agent, Contact, ContactStatus, Priority, Role
from console import lazy
from console.actions import ACTIONS, format_key
from console.format import error_text
from console.host import host
from console.widgets.queue.pane import QueuePane

if TYPE_CHECKING:
    from console.widgets.customer.contact_bar import ContactBar

SNOOZE_TITLE = "Snooze until — pick, or type +2h, 14:30, 2026-12-01 09:00 (UTC)"

DONE = {
    "claim": "claimed",
    "release": "released",
    "transfer": "transferred",
    "priority": "priority set",
    "snooze": "snoozed",
    "resolve": "resolved",
    "reopen": "reopened",
    "intent": "intent corrected",
}


_RELATIVE = re.compile(r"^\+\s*(\d+)\s*([mhd])$")


def parse_until(text: str, now: datetime) -> datetime | None:
    """A snooze time typed by the operator (UTC): "+30m", "+2h", "+3d", "14:30" (next such
    time), "2026-12-01 09:00" or "2026-12-01". None when it is not a time in the future."""
    text = text.strip().lower()
    until: datetime | None = None
    if match := _RELATIVE.match(text):
        amount, unit = int(match.group(1)), match.group(2)
        unit_name = {"m": "minutes", "h": "hours", "d": "days"}[unit]
        until = now + timedelta(**{unit_name: amount})
    else:
        for fmt in ("%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if fmt == "%H:%M":
                until = now.replace(hour=parsed.hour, minute=parsed.minute, second=0, microsecond=0)
                if until <= now:
                    until += timedelta(days=1)
            else:
                until = parsed.replace(tzinfo=UTC)
            break
    return until if until is not None and until > now else None


def snooze_choices(now: datetime) -> list[tuple[str, datetime]]:
    """Snooze targets relative to now: 30 min, 1 h, 4 h, tomorrow 09:00, in 3 days."""
    tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        ("30 minutes", now + timedelta(minutes=30)),
        ("1 hour", now + timedelta(hours=1)),
        ("4 hours", now + timedelta(hours=4)),
        (f"tomorrow 09:00 ({tomorrow:%a %d %b})", tomorrow),
        ("3 days", now + timedelta(days=3)),
    ]


class ContactActions(Screen[None]):
    """The workspace's contact actions; the workspace supplies the open contact, the
    agents, and how a changed contact is shown (`_contact_updated`, `_contact_bar`)."""

    contact: Contact | None
    agents_: tuple[Agent, ...]

    class _Written(Message):
        def __init__(self, what: str, contact: Contact | None, error: Exception | None) -> None:
            super().__init__()
            self.what, self.contact, self.error = what, contact, error

    def _contact_updated(self, contact: Contact) -> None:
        raise NotImplementedError

    def _contact_bar(self) -> ContactBar | None:
        raise NotImplementedError

    def action_claim(self) -> None:
        if self.contact is not None:
            self._write("claim", self.contact.id)

    def action_release(self) -> None:
        if self.contact is not None:
            self._write("release", self.contact.id)

    def action_resolve(self) -> None:
        if self.contact is not None:
            self._write("resolve", self.contact.id)

    def action_reopen(self) -> None:
        if self.contact is not None:
            self._write("reopen", self.contact.id)

    def action_transfer(self) -> None:
        if self.contact is None:
            return
        contact_id = self.contact.id
        choices = [
            (f"{a.display_name} ({a.name})", a.name)
            for a in self.agents_
            if a.role is not Role.SUPERVISOR and a.name != self.contact.assignee
        ]

        def chosen(agent: str | None) -> None:
            if agent:
                self._write("transfer", contact_id, agent)

        self.app.push_screen(lazy.picker("Transfer to", choices), chosen)

    def action_set_priority(self) -> None:
        if self.contact is None:
            return
        contact_id = self.contact.id
        choices = [(p.value, p) for p in reversed(Priority)]

        def chosen(priority: Priority | None) -> None:
            if priority is not None:
                self._write("priority", contact_id, priority)

        self.app.push_screen(lazy.picker("Priority", choices), chosen)

    def action_snooze(self) -> None:
        """The preset snooze times, or any time typed in the box."""
        if self.contact is None:
            return
        contact_id = self.contact.id
        now = host(self).now()

        def chosen(until: datetime | None) -> None:
            if until is not None:
                self._write("snooze", contact_id, until)

        self.app.push_screen(
            lazy.typed_picker(
                SNOOZE_TITLE, snooze_choices(now), lambda text: parse_until(text, now)
            ),
            chosen,
        )

    def action_set_intent(self) -> None:
        """Correct the contact's intent: a known one from the list, or any name typed."""
        if self.contact is None:
            return
        contact_id, current = self.contact.id, self.contact.intent
        names = sorted({*lazy.known_intents(), current} - {""})
        choices = [(f"{n}  (now)" if n == current else n, n) for n in names]

        def chosen(intent: str | None) -> None:
            if intent:
                self._write("intent", contact_id, intent)

        self.app.push_screen(
            lazy.typed_picker("Intent", choices, lambda text: text.strip().lower() or None),
            chosen,
        )

    @work(thread=True, group="write", exit_on_error=False)
    def _write(self, what: str, contact_id: int, arg: Any = None) -> None:
        app = host(self)
        backend = app.backend
        try:
            if app.read_only:  # default-deny, whatever called us
                raise ReadOnly("the console is read-only")
            calls = {
                "claim": lambda: backend.claim(contact_id),
                "release": lambda: backend.release(contact_id),
                "transfer": lambda: backend.transfer(contact_id, arg),
                "priority": lambda: backend.set_priority(contact_id, arg),
                "snooze": lambda: backend.snooze(contact_id, arg),
                "resolve": lambda: backend.set_status(contact_id, ContactStatus.RESOLVED),
                "reopen": lambda: backend.set_status(contact_id, ContactStatus.OPEN),
                "intent": lambda: backend.set_intent(contact_id, arg),
            }
            contact = calls[what]()
        except Exception as error:  # noqa: BLE001 - shown on the contact bar
            self.post_message(self._Written(what, None, error))
            return
        self.post_message(self._Written(what, contact, None))

    def _undo_hint(self, what: str) -> str:
        """How to undo a resolve (one key, easy to hit by mistake): the reopen key as bound."""
        if what != "resolve":
            return ""
        spec = next(a for a in ACTIONS if a.action == "reopen")
        return f" · {format_key(host(self).keymap.get(spec.id, spec.key))} reopens"

    def on_contact_actions__written(self, message: _Written) -> None:
        bar = self._contact_bar()
        if message.error is not None:
            text = error_text(message.error, message.what.capitalize())
            self.app.notify(text, title="Contact", severity="error", markup=False)
            current = getattr(message.error, "current", None)
            if isinstance(current, Contact):  # lost a race: show who won
                self._contact_updated(current)
                self.query_one(QueuePane).reload(keep_id=current.id)
            if bar is not None:
                bar.note(text, error=True)
            return
        contact = message.contact
        assert contact is not None
        if self.contact is not None and self.contact.id == contact.id:
            self._contact_updated(contact)
        if bar is not None:
            bar.note(f"✓ {DONE.get(message.what, message.what)}{self._undo_hint(message.what)}")
        self.query_one(QueuePane).reload(keep_id=contact.id)
