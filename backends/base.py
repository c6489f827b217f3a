"""The Backend contract: everything the console, the CLI and the HTTP API may ask of a store.

One abstract class, synchronous (the console calls it from thread workers),
returning only the frozen models of `backends.models`, raising only the
errors below. A second backend is a new module implementing this class,
never an `if` in the UI.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from datetime import datetime
from types import TracebackType
from typing import Self

from backends.models import (
    Agent,
    ChangeBatch,
    Contact,
    ContactDetail,
    ContactStatus,
    Customer,
    CustomerFacts,
    CustomerHit,
    EventKind,
    Message,
    Priority,
    QueueQuery,
    QueuePage,
    Template,
    TimelineEvent,
    TimelinePage,
)

# --------------------------------------------------------------------------
# Errors


class VistaError(Exception):
    """Base of every error a backend raises. `title` is a short heading for the UI."""

    title = "Error"
    exit_code = 1

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class NotFound(VistaError):
    title = "Not found"


class Conflict(VistaError):
    """A write lost a race: the contact was taken, or the version was stale."""

    title = "Conflict"

    def __init__(self, message: str, title: str | None = None, current: object = None) -> None:
        super().__init__(message, title)
        self.current = current  # the state that won, when known


class Forbidden(VistaError):
    title = "Forbidden"


class ReadOnly(Forbidden):
    title = "Read-only"


class Unavailable(VistaError):
    """The store cannot be reached or opened (dead server, locked or corrupt file)."""

    title = "Unavailable"


class InvalidInput(VistaError):
    title = "Invalid input"


# --------------------------------------------------------------------------
# Capabilities


class Capability(enum.Flag):
    NONE = 0
    WRITE = enum.auto()  # writes are allowed for this user on this backend
    LIVE_UPDATES = enum.auto()  # `changes()` reports other users' work
    FULL_TEXT_SEARCH = enum.auto()


class Backend(ABC):
    """A store of customers, timelines and the contact queue.

    Writes act as `agent` (the authenticated user). A backend opened
    read-only (or for a supervisor) raises `ReadOnly` on every write; the UI
    reads `capabilities` to decide what to compose, but the backend is the
    one that enforces it.
    """

    #: What this kind of backend can do at best; `capabilities` narrows it per instance.
    CAPABILITIES: Capability = Capability.NONE

    @property
    @abstractmethod
    def capabilities(self) -> Capability:
        """What this instance allows now (no WRITE when read-only)."""

    @property
    def read_only(self) -> bool:
        return Capability.WRITE not in self.capabilities

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives, for the header and error messages (a path or a URL)."""

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Safe to call twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- who ----------------------------------------------------------------

    @abstractmethod
    def whoami(self) -> Agent:
        """The agent this backend acts as.

        Returns:
            The agent, with its role.
        Raises:
            Unavailable: the store cannot be reached.
        """

    @abstractmethod
    def agents(self) -> tuple[Agent, ...]:
        """Every agent, sorted by name (for transfer pickers and KPIs)."""

    # -- customers ------------------------------------------------------------

    @abstractmethod
    def search_customers(self, text: str, limit: int = 20) -> tuple[CustomerHit, ...]:
        """Type-ahead search across names, e-mails, phones and order numbers.

        Args:
            text: what the user typed; words are matched as prefixes, a phone
                in any format matches its digits, an order number matches exactly.
            limit: at most this many hits (1..500).
        Returns:
            Hits, best first; empty for blank text.
        Raises:
            InvalidInput: limit out of range.
        """

    @abstractmethod
    def get_customer(self, customer_id: int) -> Customer:
        """The golden profile with its identities and source records.

        Raises:
            NotFound: no such customer.
        """

    @abstractmethod
    def customer_facts(self, customer_id: int) -> CustomerFacts:
        """Last order, open tickets, last contact, satisfaction.

        Raises:
            NotFound: no such customer.
        """

    @abstractmethod
    def timeline(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        cursor: str | None = None,
        limit: int = 50,
    ) -> TimelinePage:
        """One page of the customer's unified timeline, newest first.

        Args:
            customer_id: whose timeline.
            kinds: only these event kinds (empty: all).
            channels: only these channels (empty: all).
            cursor: `next_cursor` of the previous page; None for the newest.
            limit: page size (1..500).
        Returns:
            The page, with `next_cursor` None when there is nothing older.
        Raises:
            NotFound: no such customer.
            InvalidInput: a malformed cursor or limit out of range.
        """

    @abstractmethod
    def get_event(self, event_id: int) -> TimelineEvent:
        """One timeline event with its whole payload.

        Raises:
            NotFound: no such event.
        """

    # -- queue ------------------------------------------------------------------

    @abstractmethod
    def queue(
        self,
        query: QueueQuery = QueueQuery(),
        *,
        cursor: str | None = None,
        limit: int = 50,
        backwards: bool = False,
    ) -> QueuePage:
        """A window of the contact queue, ordered by priority (urgent first),
        then SLA due time (soonest first, none last), then age (oldest first), then id.

        Args:
            query: filters.
            cursor: a `next_cursor` (or, with `backwards`, a `prev_cursor`) of an
                earlier page; None starts at the top (or, backwards, at the bottom).
            limit: page size (1..500).
            backwards: read the rows before `cursor`; they are still returned in
                queue order.
        Returns:
            The page and the cursors on either side of it.
        Raises:
            InvalidInput: a malformed cursor or limit out of range.
        """

    @abstractmethod
    def queue_count(self, query: QueueQuery = QueueQuery()) -> int:
        """How many contacts match `query`."""

    @abstractmethod
    def get_contact(self, contact_id: int) -> ContactDetail:
        """A contact with its messages, oldest first.

        Raises:
            NotFound: no such contact.
        """

    @abstractmethod
    def templates(self) -> tuple[Template, ...]:
        """Every canned reply template, sorted by name."""

    @abstractmethod
    def changes(self, since: int = 0, limit: int = 500) -> ChangeBatch:
        """What changed after `since` (a cursor from an earlier batch; 0 for the start).

        Returns:
            Changes in order, and the cursor to pass next time. With `since`
            of -1 the batch is empty and the cursor is the current end (a
            console starts there).
        """

    # -- writes -------------------------------------------------------------------
    # Every write returns the new state, raises ReadOnly when writes are not
    # allowed, NotFound for an unknown id and Conflict when it lost a race.

    @abstractmethod
    def claim(self, contact_id: int, *, expected_version: int | None = None) -> Contact:
        """Assign an unassigned contact to me, atomically: of two operators
        claiming at once exactly one wins; the other gets Conflict("taken by NAME").
        Claiming a contact I already hold returns it unchanged.
        """

    @abstractmethod
    def release(self, contact_id: int, *, expected_version: int | None = None) -> Contact:
        """Give back a contact I hold (it becomes unassigned).

        Raises:
            Conflict: it is held by someone else.
        """

    @abstractmethod
    def assign(
        self, contact_id: int, agent: str, *, expected_version: int | None = None
    ) -> Contact:
        """Assign (or transfer) a contact to `agent`, whoever holds it now.

        Raises:
            NotFound: no such contact or agent.
            InvalidInput: the agent is a supervisor.
        """

    def transfer(
        self, contact_id: int, agent: str, *, expected_version: int | None = None
    ) -> Contact:
        """Hand a contact over to another operator (same as `assign`)."""
        return self.assign(contact_id, agent, expected_version=expected_version)

    @abstractmethod
    def set_status(
        self, contact_id: int, status: ContactStatus, *, expected_version: int | None = None
    ) -> Contact:
        """Move a contact to `status` (resolve, reopen, pending...).

        Raises:
            Conflict: `expected_version` is stale.
            InvalidInput: use `snooze` for SNOOZED.
        """

    @abstractmethod
    def set_priority(
        self, contact_id: int, priority: Priority, *, expected_version: int | None = None
    ) -> Contact:
        """Change a contact's priority."""

    @abstractmethod
    def snooze(
        self, contact_id: int, until: datetime, *, expected_version: int | None = None
    ) -> Contact:
        """Hide a contact from the queue until `until` (then it is open again).

        Raises:
            InvalidInput: `until` is in the past.
        """

    @abstractmethod
    def reply(
        self,
        contact_id: int,
        body: str,
        *,
        channel: str | None = None,
        idempotency_key: str | None = None,
        template: str | None = None,
    ) -> Message:
        """Send a reply to the customer on `channel` (default: the contact's).

        `template` names the canned template the body came from (an approved
        one may go out on WhatsApp outside the 24-hour window). A retried call with the same `idempotency_key` returns the first
        message instead of sending twice. Records the first response time.
        Raises:
            InvalidInput: empty body, or a channel rule is broken.
        """

    @abstractmethod
    def add_note(
        self, contact_id: int, body: str, *, idempotency_key: str | None = None
    ) -> Message:
        """A private note on a contact (never sent to the customer)."""

    @abstractmethod
    def add_customer_note(self, customer_id: int, body: str) -> TimelineEvent:
        """A note on the customer's timeline."""

    @abstractmethod
    def edit_profile(
        self, customer_id: int, field: str, value: str, *, expected_version: int | None = None
    ) -> Customer:
        """Correct one profile field (first_name, last_name, language, segment,
        tier, birth_date); the change goes on the timeline.

        Raises:
            InvalidInput: unknown or read-only field, or a malformed value.
            Conflict: `expected_version` is stale.
        """


#: Names of the writing methods: the read-only guard and the role tests walk these.
WRITE_METHODS: tuple[str, ...] = (
    "claim",
    "release",
    "assign",
    "transfer",
    "set_status",
    "set_priority",
    "snooze",
    "reply",
    "add_note",
    "add_customer_note",
    "edit_profile",
)
