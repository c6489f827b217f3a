"""The Backend contract: everything the console, the CLI and the HTTP API may ask of a store.

One abstract class, synchronous (the console calls it from thread workers),
returning only the frozen models of `backends.models`, raising only the
errors below. A second backend is a new module implementing this class,
never an `if` in the UI.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from backends.models import (
    Agent,
    AgentLoad,
    AgentState,
    Article,
    ArticleHit,
    AtRiskContact,
    AuditCheck,
    AuditPage,
    Call,
    CallState,
    ChangeBatch,
    Channel,
    Contact,
    ContactDetail,
    ContactStatus,
    Customer,
    CustomerExplanation,
    CustomerFacts,
    CustomerHit,
    CustomerView,
    ErasureReport,
    EventKind,
    FieldProvenance,
    IdentityJournalEntry,
    IdentityModel,
    IdentitySuggestion,
    ImportResult,
    InboundResult,
    IntentGuess,
    IntentReport,
    KbImportResult,
    KbUsage,
    KpiBucket,
    KpiReport,
    LegalHold,
    Lookup,
    Message,
    NewToken,
    PersonalDataExport,
    Presence,
    Priority,
    QueuePage,
    QueueQuery,
    RecordLink,
    Role,
    StoreInfo,
    Template,
    TimelineEvent,
    TimelinePage,
    TokenInfo,
    WriteAnswer,
)

if TYPE_CHECKING:
    from backends.channels.connector import Outbox

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


def not_text(error: UnicodeEncodeError, written: str = "") -> InvalidInput:
    """What a value that cannot be sent or stored as text becomes: a lone UTF-16 surrogate,
    which arrives from bytes that were not UTF-8 (a command-line argument, say) or from a
    JSON escape such as \\udcff. `written`: what to add about the write."""
    bad = error.object[error.start : error.end] if isinstance(error.object, str) else ""
    shown = "".join(f"\\u{ord(c):04x}" for c in bad[:3])
    return InvalidInput(
        f"the text holds {shown or 'characters'}, which is not Unicode text "
        f"(a byte that is not UTF-8, or a lone UTF-16 surrogate escape){written}"
    )


# --------------------------------------------------------------------------
# Capabilities


class Capability(enum.Flag):
    """What a backend can do. `Backend.CAPABILITIES` is what its kind can do at best;
    `Backend.capabilities` what this instance allows its user now. A front end offers an
    optional feature only when its flag is set; the backend still refuses it otherwise."""

    NONE = 0
    WRITE = enum.auto()  # writes are allowed for this user on this backend
    LIVE_UPDATES = enum.auto()  # `changes()` reports other users' work
    FULL_TEXT_SEARCH = enum.auto()
    KPIS = enum.auto()  # `stats`, `at_risk`, `agent_load`
    IDENTITY = enum.auto()  # identity resolution: suggestions, merge, split, explain
    INBOUND = enum.auto()  # `deliver_inbound` (for this user: it writes)
    IMPORT = enum.auto()  # `import_file` (for this user)
    TOKENS = enum.auto()  # `tokens`, `create_token`, `revoke_token` (for this user: admins)
    INSPECT = enum.auto()  # `store_info`, `check_store`: the store is a file to look inside
    OUTBOX = enum.auto()  # `outbox()`: the queue a dispatcher sends replies from
    AUDIT = enum.auto()  # `audit_log`, `verify_audit` (for this user: admins)
    PERSONAL_DATA = enum.auto()  # `export_customer`, `erase_customer`, `set_legal_hold` (admins)
    ROUTING = enum.auto()  # agents' skills and presence, routing, intents (see "routing")
    CALLS = enum.auto()  # `lookup`, `record_call`, `calls`, `name_caller`: screen pop
    KNOWLEDGE = enum.auto()  # `kb_*`: the knowledge base
    WAIT_CHANGES = enum.auto()  # `wait_changes`: the change feed held until it moves


class Backend(ABC):
    """A store of customers, timelines and the contact queue.

    Writes act as `agent` (the authenticated user). A backend opened
    read-only (or for a supervisor) raises `ReadOnly` on every write; the UI
    reads `capabilities` to decide what to compose, but the backend is the
    one that enforces it.
    """

    #: What this kind of backend can do at best; `capabilities` narrows it per instance.
    CAPABILITIES: Capability = Capability.NONE
    #: Whether a read waits for another process (a database server): a server then runs
    #: every call of this kind, its token checks included, off its event loop.
    READS_WAIT: bool = False

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

    def close(self) -> None:
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
    def templates(self, retired: bool = False) -> tuple[Template, ...]:
        """Every canned reply template, sorted by name; retired ones only with `retired`."""

    def store_id(self) -> str:
        """The store's own id (a UUID made when the store was created or upgraded): the
        same for every path or URL it is reached by, different for every other store."""
        raise Unavailable(f"{type(self).__name__} does not support store_id")

    @abstractmethod
    def changes(self, since: int = 0, limit: int = 500) -> ChangeBatch:
        """What changed after `since` (a cursor from an earlier batch; 0 for the start).

        Returns:
            Changes in order, and the cursor to pass next time. With `since`
            of -1 the batch is empty and the cursor is the current end (a
            console starts there).
        """

    def wait_changes(self, since: int, limit: int = 500, *, timeout: float = 1.0) -> ChangeBatch:
        """Like `changes`, but held up to `timeout` seconds until something changes after
        `since` (Capability.WAIT_CHANGES), so a console shows another user's work at once.

        Returns:
            The changes after `since` as soon as there are any; an empty batch (cursor
            unchanged) when `timeout` passed without one.

        Raises:
            Unavailable: the backend cannot hold a read (no WAIT_CHANGES), or is unreachable.
        """
        raise Unavailable(f"{type(self).__name__} does not support wait_changes")

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
        """Queue a reply to the customer on `channel` (default: the contact's).

        The reply is stored with its outbox entry (delivery QUEUED); a dispatcher
        hands it to the channel's connector. `template` names the canned template
        the body is: outside WhatsApp's 24-hour window an approved one may go out,
        its fixed words unchanged; with an empty body the backend fills it in. A
        retried call with the same `idempotency_key` returns the first message
        instead of sending twice. Records the first response time.
        Raises:
            InvalidInput: empty body, an unknown template, a known template
                variable left unfilled, or a channel rule is broken.
        """

    def retry_message(self, message_id: int) -> Message:
        """Send a failed reply again: back to QUEUED, due now, with a fresh round of
        attempts (the change feed reports it, as any delivery change).

        The new attempt's idempotency key is fresh when the provider refused the
        message (or accepted it and reported it failed), so no provider mistakes it for
        the old one; it stays the same when the attempts went unanswered, so a
        provider that took one after all recognises the duplicate.
        Returns:
            The message, delivery QUEUED and no failure.
        Raises:
            NotFound: no message with this id.
            InvalidInput: the message is not a reply (an inbound message or a note), or
                it is WhatsApp free text and the 24-hour window has closed since.
            Conflict: the reply is not failed (queued, sent, delivered or read), or its
                contact is held by another agent.
            ReadOnly: writes are not allowed (a supervisor, a read-only store).
            Unavailable: this backend keeps no outbox.
        """
        raise Unavailable(f"{type(self).__name__} keeps no outbox to send from again")

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

    def set_consent(self, customer_id: int, channel: str, granted: bool) -> Customer:
        """Record the customer's consent on `channel` (email, sms, whatsapp, phone) as told to
        me now: its source is `agent:NAME` and its time now, and it wins over an older
        imported value (the newest consent wins). The change goes on the timeline.

        Raises:
            InvalidInput: not a consent channel (the message names them).
            NotFound: no such customer.
        """
        raise Unavailable(f"{type(self).__name__} does not support set_consent")

    # -- templates (writes: admins) -------------------------------------------------

    def add_template(
        self,
        name: str,
        body: str,
        *,
        channel: str | None = None,
        language: str = "",
        html: str | None = None,
    ) -> Template:
        """A new canned reply template (not approved for WhatsApp until `approve_template`).

        Raises:
            InvalidInput: a malformed name, an empty body, an unknown channel or language.
            Conflict: a template of that name exists (retired ones too).
            Forbidden: the user is not an admin.
        """
        raise Unavailable(f"{type(self).__name__} does not support add_template")

    def edit_template(
        self,
        name: str,
        *,
        body: str | None = None,
        channel: str | None = None,
        language: str | None = None,
        html: str | None = None,
    ) -> Template:
        """Change a template (None: leave that part). A new body withdraws a WhatsApp approval:
        the provider approved the old words.

        Raises:
            NotFound: no template of that name.
            InvalidInput: an empty body, an unknown channel or language.
            Forbidden: the user is not an admin.
        """
        raise Unavailable(f"{type(self).__name__} does not support edit_template")

    def approve_template(self, name: str, provider_name: str) -> Template:
        """Mark a template approved by the WhatsApp provider under `provider_name` (the name
        the provider knows it by): it may then go out outside the 24-hour window.

        Raises:
            NotFound: no template of that name.
            InvalidInput: an empty or malformed provider name, a retired template, or one
                for a channel other than WhatsApp.
            Forbidden: the user is not an admin.
        """
        raise Unavailable(f"{type(self).__name__} does not support approve_template")

    def retire_template(self, name: str) -> Template:
        """Retire a template: kept for the history of what was sent, never offered or sent again.

        Raises:
            NotFound: no template of that name.
            Forbidden: the user is not an admin.
        """
        raise Unavailable(f"{type(self).__name__} does not support retire_template")

    # -- supervisor KPIs (reads only; see the README's KPI definitions) ------------
    # Not abstract so that a backend can land before its KPIs; it then says so.

    def stats(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        channel: Channel | None = None,
        bucket: KpiBucket | None = None,
        max_open: int = 25,
        at_risk_minutes: int = 15,
        now: datetime | None = None,
    ) -> KpiReport:
        """Every supervisor KPI over the window [since, until), with a trend.

        Args:
            since: window start (default: 24 hours before `until`).
            until: window end, exclusive (default: `now`).
            channel: only contacts on this channel (None: all).
            bucket: trend point width (default: hour for windows up to 48 hours, else day).
            max_open: an agent holding more unresolved contacts than this is overloaded.
            at_risk_minutes: the "due soon" horizon of the live SLA figures.
            now: the current time (default: the backend's clock), for the live figures.
        Returns:
            The report; averages are None where nothing was measured.
        Raises:
            InvalidInput: since >= until, a window over 400 days or a trend over 2,000 points.
            Unavailable: the store cannot be reached, or this backend has no KPIs.
        """
        raise Unavailable(f"{type(self).__name__} does not compute KPIs")

    def at_risk(
        self,
        within_minutes: int = 30,
        *,
        limit: int = 50,
        channel: Channel | None = None,
        include_breached: bool = False,
        now: datetime | None = None,
    ) -> tuple[AtRiskContact, ...]:
        """Unresolved contacts without a first reply whose SLA falls due within N minutes.

        Args:
            within_minutes: the horizon (0..10080).
            limit: at most this many (1..500), soonest due first.
            channel: only this channel.
            include_breached: also list those already past due (most overdue first).
            now: the current time (default: the backend's clock).
        Raises:
            InvalidInput: an argument out of range.
        """
        raise Unavailable(f"{type(self).__name__} does not compute KPIs")

    def agent_load(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        max_open: int = 25,
        at_risk_minutes: int = 15,
        now: datetime | None = None,
    ) -> tuple[AgentLoad, ...]:
        """Every operator and admin with their live open work and their output in the window.

        Returns:
            One row per agent (supervisors excluded; holders unknown to `agents` included),
            most open work first; `overloaded` set when open > max_open.
        Raises:
            InvalidInput: since >= until.
        """
        raise Unavailable(f"{type(self).__name__} does not compute KPIs")

    # -- inbound messages (integrations pushing customer messages in) --------------

    def deliver_inbound(
        self,
        channel: Channel,
        sender: str,
        text: str,
        *,
        at: datetime | None = None,
        external_id: str | None = None,
        name: str = "",
        subject: str = "",
        in_reply_to: str = "",
        references: tuple[str, ...] = (),
    ) -> InboundResult:
        """Deliver one message a customer sent: find the customer by the sender's
        normalised e-mail or phone (or create customer + source record), add the
        message to the timeline, and open a contact on that channel or update the
        open one. A repeated (channel, external_id) changes nothing.

        A reply threads first: when `in_reply_to` or `references` name the external
        id (e-mail Message-ID, with or without angle brackets) of an outbound message
        of a contact on this channel that is not resolved, the message joins that
        contact, whoever sent it; otherwise it threads by the sender as above.

        Args:
            channel: where it arrived.
            sender: the customer's e-mail address or phone number, as the channel gave it.
            text: the message body.
            at: when it was sent (default: now).
            external_id: the channel's id of the message, for deduplication.
            name: the sender's display name, used only when a customer is created.
            subject: the subject (e-mail) or topic; a new contact's subject.
            in_reply_to: the external id this message answers (e-mail In-Reply-To).
            references: earlier external ids of the thread (e-mail References).
        Returns:
            The stored message, the contact it joined, and what was created;
            `duplicate` set (and nothing changed) for a redelivery.
        Raises:
            InvalidInput: empty text, or a sender that is neither an e-mail nor a phone.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not accept inbound messages")

    # -- screen pop and telephony (Capability.CALLS) ------------------------------

    def lookup(
        self,
        value: str = "",
        limit: int = 5,
        *,
        phone: str = "",
        email: str = "",
        order: str = "",
    ) -> Lookup:
        """Who a phone number, e-mail address, order number or name is: each matching
        customer with tier, segment, flags, churn risk, open contacts, last order and an
        unfinished checkout, best first (one call, for a screen pop).

        Args:
            value: a phone in any format (read as Italian without a country code), an
                e-mail, an order number, or a name (then the type-ahead search answers).
            limit: at most this many candidates (1..50).
            phone, email, order: the value, read only as that kind (give one of the four).
        Returns:
            The lookup, with `matches` empty when nobody matches.
        Raises:
            InvalidInput: no value or more than one, a phone or e-mail that is not one, or a
                limit out of range.
        """
        raise Unavailable(f"{type(self).__name__} does not look callers up")

    def record_call(
        self,
        call_id: str,
        state: CallState,
        caller: str,
        *,
        dialled: str = "",
        queue: str = "",
        agent: str = "",
        extension: str = "",
        recording: str = "",
        at: datetime | None = None,
    ) -> Call:
        """A telephony event. A ringing call opens a phone contact for the caller (or
        continues their unresolved one); an unknown number gets a customer of its own and
        the call is marked `new_caller`. When `agent` names an agent the contact is
        assigned to them (the call is offered to them: their console opens it).
        Answered and ended update the call (handle time: answered to ended); a call id
        seen first as answered or ended is recorded as ringing at that moment first.
        A repeated state changes nothing.

        Args:
            call_id: the telephony's id of the call (Twilio's CallSid, Asterisk's channel id).
            state: ringing, answered or ended.
            caller: the caller's number, any format.
            dialled: the number called.
            queue: the telephony queue it came through.
            agent: the agent it is offered to (an agent's name).
            extension: the extension it rings on.
            recording: a link to the recording.
            at: when it happened (default: now).
        Returns:
            The call as stored now.
        Raises:
            InvalidInput: a blank call id, a caller that is not a phone number, an unknown
                agent, or a call id already recorded for another number.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not take telephony events")

    def calls(self, contact_id: int) -> tuple[Call, ...]:
        """The calls of a contact, newest first.

        Raises:
            NotFound: no such contact.
        """
        raise Unavailable(f"{type(self).__name__} does not take telephony events")

    def name_caller(self, customer_id: int, name: str, email: str = "") -> Customer:
        """Quick create: give a new caller's customer a name and, optionally, an e-mail
        address (added to its identities, so that later mail finds them).

        Raises:
            NotFound: no such customer.
            InvalidInput: a blank name or an e-mail address that is not one.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not take telephony events")

    # -- knowledge base (Capability.KNOWLEDGE) ------------------------------------

    def kb_import(self, articles: tuple[Article, ...]) -> KbImportResult:
        """Store articles (their `id` and `updated_at` are ignored): an article with the
        slug and language of a stored one replaces it; all or nothing.

        Raises:
            InvalidInput: an article without a slug, title or text.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} has no knowledge base")

    def kb_articles(self, lang: str = "") -> tuple[Article, ...]:
        """Every article (in language `lang` when given), by slug then language."""
        raise Unavailable(f"{type(self).__name__} has no knowledge base")

    def kb_article(self, article_id: int) -> Article:
        """One article.

        Raises:
            NotFound: no such article.
        """
        raise Unavailable(f"{type(self).__name__} has no knowledge base")

    def kb_search(
        self, q: str, lang: str = "", intent: str = "", limit: int = 10
    ) -> tuple[ArticleHit, ...]:
        """Articles matching the words of `q` (full text, any word, prefixes), best first;
        an article tagged with `intent` ranks first. Blank `q` with an intent lists that
        intent's articles.

        Args:
            q: a customer's text or a visitor's question.
            lang: only articles in this language (empty: any).
            intent: the contact's intent.
            limit: at most this many hits (1..50).
        Raises:
            InvalidInput: limit out of range.
        """
        raise Unavailable(f"{type(self).__name__} has no knowledge base")

    def kb_use(self, article_id: int, contact_id: int, how: str = "answer") -> None:
        """Record that an article's answer (`how` = answer) or link (link) went into a reply
        on a contact: the knowledge KPIs count it.

        Raises:
            NotFound: no such article or contact.
            InvalidInput: `how` is neither answer nor link.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} has no knowledge base")

    def kb_usage(self, since: datetime | None = None, until: datetime | None = None) -> KbUsage:
        """Knowledge-base KPIs over [since, until] (default: the 7 days to now)."""
        raise Unavailable(f"{type(self).__name__} has no knowledge base")

    # -- identity resolution ------------------------------------------------------
    # Defaults refuse politely; a backend that resolves identities overrides them.

    def identity_suggestions(
        self, limit: int = 50, after: str = ""
    ) -> tuple[IdentitySuggestion, ...]:
        """Pairs of customers that may be one person (below the automatic threshold), most
        likely first.

        Args:
            limit: at most this many (1..500); one suggestion per pair of customers.
            after: the `cursor` of the last suggestion of the previous page ("": the first).
        Raises:
            InvalidInput: limit out of range, or a malformed cursor.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def identity_model(self) -> IdentityModel:
        """The match model in use: each comparison's levels with m, u and weight.

        Raises:
            Unavailable: the backend does not resolve identities.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def train_identity_model(self) -> IdentityModel:
        """Estimate a new version of the match model from the stored records (u from random
        pairs, m by expectation maximisation on candidate pairs) and use it from now on.

        Raises:
            ReadOnly: writes are not allowed.
            Unavailable: the backend does not resolve identities.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def merge_customers(self, keep: int, other: int, *, reason: str = "") -> IdentityJournalEntry:
        """Merge customer `other` into `keep` (records, timeline, orders, contacts). Journaled;
        `split_customer(keep, <the records that moved>)` undoes it, restoring `other`.

        Raises:
            NotFound: either customer is missing.
            InvalidInput: the same customer twice.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def split_customer(self, customer_id: int, records: tuple[str, ...]) -> IdentityJournalEntry:
        """Move source records (named SOURCE:SOURCE_ID) of a customer into a customer of their
        own, with the events attached through them; undoes a merge of exactly those records.
        The two sides are kept apart by later imports. Journaled.

        Raises:
            NotFound: no such customer.
            InvalidInput: a record that is not the customer's, or all of its records.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def reject_suggestion(self, suggestion_id: int) -> None:
        """Mark a suggestion wrong: its records are kept apart from now on.

        Raises:
            NotFound: no such suggestion.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def explain_customer(self, customer_id: int) -> CustomerExplanation:
        """Which source records and which links made this customer, and its merge/split journal.

        Raises:
            NotFound: no such customer.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def provenance(self, customer_id: int) -> tuple[FieldProvenance, ...]:
        """Where each profile value came from: source, record, when, and the values that lost.

        Raises:
            NotFound: no such customer.
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def record_links(self, after: int = 0, limit: int = 1000) -> tuple[RecordLink, ...]:
        """One page of source record -> customer links, in record id order (for export).

        Args:
            after: the `record_id` of the last link of the previous page (0 to start).
            limit: page size (1..10000).
        """
        raise Unavailable(f"{type(self).__name__} does not resolve identities")

    def customer_view(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        limit: int = 50,
    ) -> CustomerView:
        """Profile, key facts and the newest timeline page at once (one round trip remotely).

        The same as `get_customer`, `customer_facts` and `timeline(customer_id,
        kinds=kinds, channels=channels, limit=limit)` called one after the other.

        Raises:
            NotFound: no such customer.
            InvalidInput: a limit out of range.
        """
        # the page first: a view refused (its limit, no such customer) reads no profile,
        # so a store with read audit records nothing for it
        page = self.timeline(customer_id, kinds=kinds, channels=channels, limit=limit)
        return CustomerView(self.get_customer(customer_id), self.customer_facts(customer_id), page)

    # -- upkeep of the store's files, for servers that write all day --------------------

    def housekeeping_due(self) -> bool:
        """Whether `housekeeping` should run now rather than when writes pause (SQLite: its
        write-ahead log has grown large). False where nothing needs keeping."""
        return False

    def housekeeping(self, *, wait_ms: int = 250) -> bool:
        """Keep the store's files small after writes (SQLite empties its write-ahead log),
        waiting at most `wait_ms` for readers. Returns True when nothing is left to do."""
        return True

    # -- idempotency keys a server shares with the others on its store -------------------

    def answer_once(
        self,
        owner: str,
        key: str,
        write: Callable[[], WriteAnswer],
        *,
        atomic: bool = True,
    ) -> tuple[WriteAnswer, bool]:
        """Run a server's `write` at most once per `owner` (an API token's name) and
        idempotency `key`, whichever server of this store gets it (backends/answers.py).

        Args:
            write: makes the write through a backend on this store (a server's backends
                share one store object) and answers as the server would.
            atomic: keep an answer under 400 in the write's own transaction, so that a
                server dying at any moment leaves both or neither. False for a write that
                does work after its own commit (an erasure clears old row versions): its
                answer is kept after it.

        Returns:
            The answer kept for `owner` and `key` and True (`write` not run), else `write`'s
            answer and False. A refusal (400-499: nothing was written) is kept too, after
            its rollback; a 5xx is not (a retry runs the write). Kept for a day. A store
            that keeps no answers runs `write` (False).

        Raises:
            Unavailable: the store cannot be reached (nothing of the write was kept).
        """
        return write(), False

    # -- the outbox (optional: OUTBOX) ------------------------------------------------

    def outbox(self) -> Outbox:
        """The store's outbox, for a dispatcher that sends queued replies through the
        connectors (backends/channels/dispatcher.py). It runs where the store is.

        Raises:
            Unavailable: this backend has no outbox to give (a remote one: its server
                dispatches).
        """
        raise Unavailable(f"{type(self).__name__} has no outbox here: its server dispatches")

    # -- agents, presence, routing and intents (optional: ROUTING) ----------------------
    # Agents are managed by admins; an agent sets their own presence. Routing offers a new
    # contact to an online operator with the skill and room on its channel (longest idle
    # first); claiming and assigning never take an agent past their capacity.

    def add_agent(
        self,
        name: str,
        display_name: str = "",
        role: Role = Role.OPERATOR,
        *,
        intents: tuple[str, ...] = (),
        languages: tuple[str, ...] = (),
        channels: tuple[Channel, ...] = (),
        capacity: dict[str, int] | None = None,
    ) -> Agent:
        """Register an agent who may then act on the store.

        Args:
            name: the login name (letters, digits, . _ - @; max 64).
            display_name: the name people see (default: `name`).
            role: operator, supervisor (read-only) or admin.
            intents, languages, channels: skills routing matches (empty: any).
            capacity: the agent's own limit per channel (others: the routing rules').
        Raises:
            InvalidInput: a malformed name, skill or capacity.
            Conflict: an agent with this name exists.
            Forbidden: the user is not an admin (a local store without an admin lets its
                owner add the first agents).
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not manage agents")

    def edit_agent(
        self,
        name: str,
        *,
        display_name: str | None = None,
        role: Role | None = None,
        intents: tuple[str, ...] | None = None,
        languages: tuple[str, ...] | None = None,
        channels: tuple[Channel, ...] | None = None,
        capacity: dict[str, int] | None = None,
    ) -> Agent:
        """Change an agent: each argument given replaces that value (None: unchanged); this
        is how an admin moves an operator between skills.

        Raises:
            NotFound: no such agent (the message names the known ones).
            InvalidInput, Forbidden, ReadOnly: as `add_agent`.
        """
        raise Unavailable(f"{type(self).__name__} does not manage agents")

    def disable_agent(self, name: str, *, disabled: bool = True) -> Agent:
        """Disable an agent (or enable them again with `disabled=False`): a disabled agent
        can no longer act, and is never offered contacts; what they did is kept.

        Raises:
            NotFound: no such agent. Forbidden: not an admin, or disabling yourself.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not manage agents")

    def set_presence(self, presence: Presence, agent: str | None = None) -> AgentState:
        """Set an agent's presence (default: mine): only ONLINE agents are offered new
        contacts; an online agent idle past the rules' away_after_minutes counts as AWAY.
        Coming online offers the waiting contacts at once.

        Raises:
            NotFound: no such agent. Forbidden: another agent's presence, unless an admin.
            InvalidInput: an unknown presence. ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not route contacts")

    def agent_states(self) -> tuple[AgentState, ...]:
        """Every enabled operator and admin as routing sees them now: effective presence,
        contacts held and capacity per channel, skills; sorted by name."""
        raise Unavailable(f"{type(self).__name__} does not route contacts")

    def route_waiting(self, limit: int = 100) -> tuple[Contact, ...]:
        """Offer waiting unassigned contacts, in queue order, to available operators with
        the skill and room (longest idle first).

        Args:
            limit: look at most at this many waiting contacts (1..1000).
        Returns:
            The contacts that were assigned.
        Raises:
            ReadOnly: writes are not allowed. InvalidInput: limit out of range.
        """
        raise Unavailable(f"{type(self).__name__} does not route contacts")

    def set_intent(
        self, contact_id: int, intent: str, *, expected_version: int | None = None
    ) -> Contact:
        """Correct a contact's intent: an operator's label, used as training data.

        Raises:
            NotFound: no such contact. InvalidInput: a malformed intent name.
            Conflict: `expected_version` is stale. ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not classify intents")

    def classify(self, text: str) -> IntentGuess:
        """The intent and language Vista gives a message with these words (nothing stored).

        Raises:
            InvalidInput: empty text.
        """
        raise Unavailable(f"{type(self).__name__} does not classify intents")

    def train_intents(self) -> IntentReport:
        """Train the intent model from the store's labelled contacts (resolved contacts with
        an operator's or an import's intent, and every correction) and use it from now on.

        Returns:
            The training report, with cross-validated accuracy per intent.
        Raises:
            InvalidInput: too few labelled contacts. Forbidden: not an admin.
            ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not classify intents")

    def intent_report(self) -> IntentReport | None:
        """The report of the model in use, or None when the keyword rules classify alone."""
        raise Unavailable(f"{type(self).__name__} does not classify intents")

    def routing_rules(self) -> str:
        """The routing rules in effect, as TOML text (see backends/routing/defaults.toml)."""
        raise Unavailable(f"{type(self).__name__} does not route contacts")

    def set_routing_rules(self, text: str) -> str:
        """Replace the routing rules (TOML text; empty: back to the defaults).

        Returns:
            The rules in effect now.
        Raises:
            InvalidInput: the text is not a valid rules file (the error names the problem).
            Forbidden: not an admin. ReadOnly: writes are not allowed.
        """
        raise Unavailable(f"{type(self).__name__} does not route contacts")

    # -- administration: imports, API tokens, the store itself ----------------------
    # Optional: a backend declares what it does with IMPORT, TOKENS and INSPECT.

    def import_file(
        self,
        path: str | Path,
        *,
        source: str,
        kind: str = "customers",
        fmt: str | None = None,
        mapping: str | Path | None = None,
        id_column: str | None = None,
        default_region: str = "IT",
        encoding: str | None = None,
        strict: bool = False,
        progress: Callable[[int, int], None] | None = None,
        on_bad: Callable[[int, str], None] | None = None,
    ) -> ImportResult:
        """Import one file of a source system: source records (or events) and identity
        resolution. Re-importing the same file updates in place (idempotent).

        Args:
            path: the file (CSV, JSON Lines or a JSON array).
            source: the source system's name (crm, webshop...).
            kind: customers (source records) or events (attached to customers).
            fmt: csv, jsonl or json (None: from the file name).
            mapping: a TOML mapping file of columns to Vista fields (None: the names match).
            id_column: the column holding the record id (None: source_id or id).
            default_region: the country of phones written without +CC.
            encoding: the file's text encoding (None: the mapping's, else UTF-8).
            strict: all or nothing: the first bad row aborts with nothing written.
            progress: called with (bytes done, bytes in all) as the file is read or sent.
            on_bad: called with (line, reason) for every row skipped, in file order.
        Returns:
            The import report.
        Raises:
            InvalidInput: bad options, an unreadable file or mapping, or (strict) a bad row.
            ReadOnly: writes are not allowed.
            Forbidden: this user may not import (a server imports for admins only).
            Unavailable: the store cannot be reached, or this backend does not import.
        """
        raise Unavailable(f"{type(self).__name__} does not import files")

    def tokens(self) -> tuple[TokenInfo, ...]:
        """Every API token, active and revoked, sorted by name (never the secrets).

        Raises:
            Forbidden: the user is not an admin.
            Unavailable: this backend keeps no tokens.
        """
        raise Unavailable(f"{type(self).__name__} does not keep API tokens")

    def create_token(self, name: str, role: Role, agent: str | None = None) -> NewToken:
        """A new API token acting as `agent` (default: `name`) with `role`; the agent is
        registered with that role if new. Only its hash is kept: the answer is the only
        time the token is shown.

        Args:
            name: the token's name, unique among active tokens (letters, digits, . _ - @).
            role: operator, supervisor (read-only) or admin.
            agent: the agent it acts as.
        Raises:
            InvalidInput: a malformed name or agent, or an unknown role.
            Conflict: an active token already has this name.
            ReadOnly: writes are not allowed.
            Forbidden: the user is not an admin (a store without any admin yet lets its
                local owner create the first admin token).
        """
        raise Unavailable(f"{type(self).__name__} does not keep API tokens")

    def revoke_token(self, name: str) -> TokenInfo:
        """Revoke a token by name: it stops working at once.

        Raises:
            NotFound: no active token has this name.
            ReadOnly: writes are not allowed.
            Forbidden: the user is not an admin.
        """
        raise Unavailable(f"{type(self).__name__} does not keep API tokens")

    def verify_token(self, token: str) -> TokenInfo | None:
        """What an active token grants, or None (unknown, malformed or revoked). For the
        server that serves this backend: any agent may ask, nothing is revealed.

        Raises:
            Unavailable: the store cannot be reached, or this backend keeps no tokens.
        """
        raise Unavailable(f"{type(self).__name__} does not keep API tokens")

    # -- audit trail and personal data (admins) ---------------------------------------

    def audit_log(
        self,
        *,
        customer_id: int | None = None,
        agent: str | None = None,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> AuditPage:
        """A page of the audit trail, newest first: every write (with the before and
        after values of each changed field) and every read of a customer's profile.

        Args:
            customer_id: only entries about this customer.
            agent: only entries by this agent (an inbound message is credited to
                `channel:<name>`, the dispatcher to `dispatcher`).
            since: only entries from this time on.
            cursor: continue after the page that returned it.
            limit: 1 to 1000 entries.
        Raises:
            Forbidden: the user is not an admin.
            InvalidInput: a limit out of range, or a cursor this backend did not make.
            Unavailable: this backend keeps no audit trail.
        """
        raise Unavailable(f"{type(self).__name__} keeps no audit trail")

    def verify_audit(self) -> AuditCheck:
        """Walk the audit trail's hash chain from its first entry.

        Returns:
            ok, how many entries were checked, and the first broken entry with the problem.
        Raises:
            Forbidden: the user is not an admin.
            Unavailable: this backend keeps no audit trail.
        """
        raise Unavailable(f"{type(self).__name__} keeps no audit trail")

    def export_customer(self, customer_id: int) -> PersonalDataExport:
        """Everything held on one person (profile with provenance, source records,
        identities, timeline, contacts and messages, consents, audit entries about
        them), with a summary for people. Recorded in the audit trail.

        Raises:
            NotFound: no such customer.
            Forbidden: the user is not an admin.
            Unavailable: this backend does not manage personal data.
        """
        raise Unavailable(f"{type(self).__name__} does not export personal data")

    def erase_customer(self, customer_id: int) -> ErasureReport:
        """Anonymise one person everywhere (profile, source records, identities, messages,
        search index, outbox), keeping the non-personal facts KPIs count (contacts,
        times, channels, scores). The audit trail records that it happened, not what;
        a later import of one of their source records is held (see the README).

        Raises:
            NotFound: no such customer.
            Conflict: the customer is under a legal hold, or already erased.
            ReadOnly: writes are not allowed.
            Forbidden: the user is not an admin.
            Unavailable: this backend does not manage personal data.
        """
        raise Unavailable(f"{type(self).__name__} does not erase personal data")

    def set_legal_hold(self, customer_id: int, held: bool) -> LegalHold:
        """Put a customer under a legal hold (they cannot be erased) or lift it.

        Raises:
            NotFound: no such customer.
            ReadOnly: writes are not allowed.
            Forbidden: the user is not an admin.
            Unavailable: this backend does not manage personal data.
        """
        raise Unavailable(f"{type(self).__name__} does not manage legal holds")

    def legal_hold(self, customer_id: int) -> LegalHold:
        """Whether a customer is under a legal hold.

        Raises:
            NotFound: no such customer.
            Forbidden: the user is not an admin.
            Unavailable: this backend does not manage legal holds.
        """
        raise Unavailable(f"{type(self).__name__} does not manage legal holds")

    def store_info(self) -> StoreInfo:
        """The store's schema version, size and row counts per table.

        Raises:
            Unavailable: the store cannot be read, or it is not a file to look inside.
        """
        raise Unavailable(f"{type(self).__name__} has no store file to inspect")

    def check_store(self) -> tuple[str, ...]:
        """The store's integrity and foreign-key checks.

        Returns:
            One line per problem; empty when the store is sound.
        Raises:
            Unavailable: the store cannot be read, or it is not a file to look inside.
        """
        raise Unavailable(f"{type(self).__name__} has no store file to inspect")


class BackendFactory(Protocol):
    """Opens one store as any agent: what a server holds to serve it (see `open_factory`)."""

    def __call__(
        self,
        agent: str,
        *,
        read_only: bool = False,
        role: Role | None = None,
        token: str | None = None,
        origin: str = "api",
    ) -> Backend:
        """The store as `agent`; with `role`, acting with that role (a verified token's)
        whatever the store's agents table says; `token` (the API token's name) and
        `origin` (api, webhook, dispatcher) are what the audit trail records of the
        caller. Backends may be shared: never close one.

        Raises:
            Unavailable: the store cannot be opened.
        """
        ...

    def close(self) -> None:
        """Close every backend this factory opened."""
        ...


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
    "retry_message",
    "add_note",
    "add_customer_note",
    "edit_profile",
    "deliver_inbound",
    "merge_customers",
    "split_customer",
    "reject_suggestion",
    "train_identity_model",
    "import_file",
    "create_token",
    "revoke_token",
    "erase_customer",
    "set_legal_hold",
    "set_consent",
    "add_template",
    "edit_template",
    "approve_template",
    "retire_template",
    "add_agent",
    "edit_agent",
    "disable_agent",
    "set_presence",
    "route_waiting",
    "set_intent",
    "train_intents",
    "set_routing_rules",
    "record_call",
    "name_caller",
    "kb_import",
    "kb_use",
)
