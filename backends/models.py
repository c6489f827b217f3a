"""Frozen domain models: the only shapes that cross the backend boundary.

Every backend (SQLite, HTTP) returns these and nothing else: never rows,
cursors or HTTP responses. Each is a frozen `msgspec.Struct` (see `Model`):
msgspec writes it to JSON and reads it back for the HTTP API
(`backends.http.wire`), and `to_json()` gives the plain values the CLI's
`--json` prints, with the same stable field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec


def utcnow() -> datetime:
    """The current time, UTC, to the second (the store's resolution)."""
    return datetime.now(UTC).replace(microsecond=0)


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    WEB = "web"


class ContactStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


#: Statuses that are not finished (resolved is the only closed one).
OPEN_STATUSES: tuple[ContactStatus, ...] = (
    ContactStatus.NEW,
    ContactStatus.OPEN,
    ContactStatus.PENDING,
    ContactStatus.SNOOZED,
)

#: What the queue shows by default: work to do now. A snoozed contact joins
#: them again once its snooze time has passed.
QUEUE_STATUSES: tuple[ContactStatus, ...] = (
    ContactStatus.NEW,
    ContactStatus.OPEN,
    ContactStatus.PENDING,
)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for low .. 3 for urgent; the store sorts by it."""
        return _PRIORITY_RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> Priority:
        return _PRIORITY_BY_RANK[rank]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
_PRIORITY_BY_RANK = {v: k for k, v in _PRIORITY_RANK.items()}


class SlaState(StrEnum):
    """Where a contact stands against its SLA due time."""

    OK = "ok"
    AT_RISK = "at_risk"  # due within the at-risk window
    BREACHED = "breached"
    NONE = "none"  # no SLA (resolved, or none set)


class EventKind(StrEnum):
    ORDER = "order"
    ORDER_STATUS = "order_status"
    PAYMENT = "payment"
    REFUND = "refund"
    RETURN = "return"
    WEB_SESSION = "web_session"
    PAGE_VIEW = "page_view"
    PRODUCT_VIEW = "product_view"
    CART_CHANGE = "cart_change"
    CHECKOUT_STEP = "checkout_step"
    TICKET = "ticket"
    CHAT = "chat"
    EMAIL = "email"
    CALL = "call"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    SURVEY = "survey"
    NOTE = "note"
    REPLY = "reply"
    PROFILE_CHANGE = "profile_change"


#: Event kinds that are conversations with the customer.
CONVERSATION_KINDS = frozenset(
    {
        EventKind.TICKET,
        EventKind.CHAT,
        EventKind.EMAIL,
        EventKind.CALL,
        EventKind.WHATSAPP,
        EventKind.SMS,
        EventKind.REPLY,
    }
)


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    EXTERNAL_ID = "external_id"
    LOYALTY_CARD = "loyalty_card"
    WHATSAPP_ID = "whatsapp_id"
    VISITOR_ID = "visitor_id"


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def can_write(self) -> bool:
        return self is not Role.SUPERVISOR


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"  # private note, never sent to the customer


class Delivery(StrEnum):
    """Where an outbound message stands with the channel's provider."""

    QUEUED = "queued"  # stored with its outbox entry; no provider has accepted it yet
    SENT = "sent"  # the provider accepted it (an SMTP relay said 250)
    DELIVERED = "delivered"  # the provider reports it reached the customer
    READ = "read"  # the customer opened it (where the channel tells)
    FAILED = "failed"  # refused for good, or given up after retries: see `failure`


class ChangeEntity(StrEnum):
    CONTACT = "contact"
    CUSTOMER = "customer"
    MESSAGE = "message"
    AGENT = "agent"  # added, edited, disabled, presence (the action names the agent)


# --------------------------------------------------------------------------
# JSON form


def _time_text(value: datetime) -> str:
    """A time as the models write it: UTC, to the second, `Z`."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _builtin_hook(value: Any) -> Any:
    """What `msgspec.to_builtins` does not know: a read-only mapping (an event's `Payload`)."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _plain(value: Any) -> Any:
    """`msgspec.to_builtins`' output with times as text and tuples as lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return _time_text(value)
    return value


def to_builtins(value: Any) -> Any:
    """`value` as plain JSON values (dicts, lists, strings, numbers, None): models as objects
    of their fields in order, enums as their values, tuples as lists and times as UTC text
    to the second (`2026-11-20T10:00:00Z`). The CLI's `--json` and `Model.to_json` use it."""
    plain = msgspec.to_builtins(
        value, builtin_types=(datetime,), str_keys=True, enc_hook=_builtin_hook
    )
    return _plain(plain)


class Model(msgspec.Struct, frozen=True):
    """The base of every model: a frozen `msgspec.Struct` (fields in order, compared and
    hashed by value within one class; assigning, deleting or adding an attribute raises
    AttributeError), written to JSON by msgspec and to plain values by `to_json`."""

    def to_json(self) -> dict[str, Any]:
        """The model as plain JSON values (see `to_builtins`)."""
        return to_builtins(self)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------
# Customers


class Address(Model, frozen=True):
    """A postal address, with the source it came from."""

    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    source: str = ""

    def one_line(self) -> str:
        parts = [self.street, f"{self.postal_code} {self.city}".strip(), self.region, self.country]
        return ", ".join(p for p in parts if p)


class Identity(Model, frozen=True):
    """One identifier of a customer, normalised, with the source it came from."""

    kind: IdentityKind
    value: str  # normalised (lower-case e-mail, E.164 phone, ...)
    source: str
    raw: str = ""  # as the source typed it

    @property
    def shown(self) -> str:
        """How to show it: an e-mail as typed (a Gmail address keeps its dots), else the
        normalised value (a phone in E.164)."""
        return self.raw if self.kind is IdentityKind.EMAIL and self.raw else self.value


class SourceRecord(Model, frozen=True):
    """A customer record as one source system holds it, untouched."""

    source: str
    source_id: str
    fields: Mapping[str, Any]
    received_at: datetime
    updated_at: datetime
    customer_id: int | None = None


class FieldConflict(Model, frozen=True):
    """Sources disagree on a field: which source says what."""

    field: str
    values: Mapping[str, str]  # source -> value


class Consent(Model, frozen=True):
    """A customer's consent on one channel, and where it came from: the source that said so
    (an imported source system, or `agent:NAME` for a change made in Vista) and when."""

    channel: str
    granted: bool
    source: str = ""
    at: datetime | None = None


class Customer(Model, frozen=True):
    """The golden profile: one person, merged from every source."""

    id: int
    first_name: str
    last_name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    birth_date: str | None = None  # ISO date
    language: str = ""
    segment: str = ""
    tier: str = ""
    consents: Mapping[str, bool] = msgspec.field(default_factory=dict)
    lifetime_value: float = 0.0
    currency: str = "EUR"
    tags: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    churn_risk: bool = False
    unhappy: bool = False
    identities: tuple[Identity, ...] = ()
    #: each channel's consent with its source and time (`consents` says yes or no)
    consent_log: tuple[Consent, ...] = ()
    #: computed from orders, complaints, surveys and contacts (backends/values.py)
    churn_score: float = 0.0  # 0..1
    churn_reasons: tuple[str, ...] = ()
    next_action: str = ""
    sources: tuple[SourceRecord, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or (self.emails[0] if self.emails else f"customer {self.id}")

    def conflicts(self) -> tuple[FieldConflict, ...]:
        """Fields on which the source records disagree (after light normalisation)."""
        found: list[FieldConflict] = []
        for name in ("email", "phone", "first_name", "last_name", "city", "street"):
            by_source: dict[str, str] = {}
            for rec in self.sources:
                raw = rec.fields.get(name)
                if raw in (None, ""):
                    continue
                by_source.setdefault(rec.source, str(raw))
            distinct = {_loose(v) for v in by_source.values()}
            if len(distinct) > 1:
                found.append(FieldConflict(name, by_source))
        return tuple(found)


def _loose(value: str) -> str:
    """Compare values ignoring case, spaces and phone punctuation."""
    v = value.strip().lower()
    if re.fullmatch(r"[+\d\s().\-/]{6,}", v):
        digits = re.sub(r"\D", "", v)
        return digits[-9:]
    return re.sub(r"\s+", " ", v)


class CustomerHit(Model, frozen=True):
    """One search result."""

    id: int
    name: str
    email: str
    phone: str
    city: str
    segment: str
    matched: str = ""  # what matched: name, email, phone, order


class CustomerFacts(Model, frozen=True):
    """Key facts shown under the profile header."""

    customer_id: int
    last_order_number: str | None = None
    last_order_status: str | None = None
    last_order_at: datetime | None = None
    last_order_total: float | None = None
    open_tickets: int = 0
    open_contacts: int = 0
    last_contact_at: datetime | None = None
    last_contact_channel: str | None = None
    last_contact_outcome: str | None = None
    orders_count: int = 0
    csat_average: float | None = None  # 1..5
    nps_last: int | None = None  # 0..10
    # the web journey: the newest visit, the newest product looked at, and a checkout left
    # unfinished (a checkout step, or a visit that stopped in checkout, with no order since)
    last_visit_at: datetime | None = None
    last_visit: str | None = None  # the visit's summary ("Web visit on mobile: 5 steps")
    last_viewed: str | None = None  # product name
    checkout_abandoned_at: datetime | None = None
    checkout_abandoned_step: str | None = None  # "payment", "review"...
    checkout_cart: tuple[str, ...] = ()  # product names in the cart then


# --------------------------------------------------------------------------
# Timeline


class TimelineEvent(Model, frozen=True):
    """One event of a customer's unified timeline, from any source."""

    id: int
    customer_id: int
    at: datetime
    kind: EventKind
    channel: str
    source: str
    summary: str
    payload: Mapping[str, Any] = msgspec.field(default_factory=dict)
    contact_id: int | None = None


class TimelinePage(Model, frozen=True):
    """A page of timeline events, newest first."""

    events: tuple[TimelineEvent, ...]
    next_cursor: str | None  # None: no older events


# --------------------------------------------------------------------------
# Queue


class Contact(Model, frozen=True):
    """One item of the queue: a conversation to work, on one channel."""

    id: int
    channel: Channel
    customer_id: int
    customer_name: str
    subject: str
    intent: str
    priority: Priority
    status: ContactStatus
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    sla_due_at: datetime | None = None
    assignee: str | None = None
    snoozed_until: datetime | None = None
    last_inbound_at: datetime | None = None
    version: int = 1
    language: str = ""  # ISO 639-1 code of the customer's words, '' when unknown
    intent_source: str = ""  # who set `intent`: model, rules, agent (a correction), '' (import)

    def sla_state(self, now: datetime, at_risk_seconds: int = 900) -> SlaState:
        """The first-response SLA: the clock stops at the first reply (or resolution),
        which then decides met (OK) or BREACHED for good, as the KPIs count it."""
        if self.status is ContactStatus.RESOLVED or self.sla_due_at is None:
            return SlaState.NONE
        stopped = self.first_response_at or self.resolved_at
        if stopped is not None:
            return SlaState.OK if stopped <= self.sla_due_at else SlaState.BREACHED
        left = (self.sla_due_at - now).total_seconds()
        if left < 0:
            return SlaState.BREACHED
        if left <= at_risk_seconds:
            return SlaState.AT_RISK
        return SlaState.OK


class QueueQuery(Model, frozen=True):
    """Filters for a queue page. Empty tuples mean 'any'."""

    statuses: tuple[ContactStatus, ...] = QUEUE_STATUSES
    channels: tuple[Channel, ...] = ()
    assignee: str | None = None  # an agent name
    unassigned: bool = False
    priorities: tuple[Priority, ...] = ()
    sla: SlaState | None = None  # AT_RISK includes BREACHED
    text: str = ""  # filter on subject / customer name


class QueuePage(Model, frozen=True):
    """A page of the queue, with keyset cursors to the rows around it."""

    contacts: tuple[Contact, ...]
    next_cursor: str | None  # rows after the last one; None at the end
    prev_cursor: str | None  # rows before the first one; None at the start


class Message(Model, frozen=True):
    """One message of a contact's conversation (or a private note)."""

    id: int
    contact_id: int
    direction: Direction
    channel: Channel
    author: str  # agent name, or the customer's address
    body: str
    at: datetime
    external_id: str | None = None
    delivery: Delivery | None = None  # outbound messages only
    failure: str | None = None  # the provider's reason, when delivery is FAILED


class ContactDetail(Model, frozen=True):
    """A contact with its whole conversation."""

    contact: Contact
    messages: tuple[Message, ...]


class Presence(StrEnum):
    """Whether an operator takes new work: only ONLINE operators are offered contacts."""

    ONLINE = "online"
    AWAY = "away"  # set, or online but idle past the rules' away_after_minutes
    OFFLINE = "offline"


class ChannelCapacity(Model, frozen=True):
    """An agent's own limit of contacts held at once on one channel."""

    channel: Channel
    limit: int


class Agent(Model, frozen=True):
    """An operator, supervisor or admin, with the skills routing matches contacts to.

    Empty `intents`, `languages` or `channels` mean any (a generalist)."""

    name: str
    display_name: str
    role: Role
    intents: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    capacity: tuple[ChannelCapacity, ...] = ()  # own limits; other channels: the rules'
    presence: Presence = Presence.OFFLINE  # as set; see AgentState for the effective one
    disabled: bool = False

    @property
    def limits(self) -> dict[str, int]:
        """The agent's own limits as channel -> number."""
        return {c.channel.value: c.limit for c in self.capacity}


class AgentState(Model, frozen=True):
    """An agent as routing sees them now, for the Supervisor screen and `vista agents board`."""

    agent: Agent
    presence: Presence  # effective: ONLINE turns AWAY after the rules' idle limit
    held: Mapping[str, int]  # contacts held per channel (unresolved, not snoozed)
    capacity: Mapping[str, int]  # limit per channel (the agent's own, else the rules')
    last_active_at: datetime | None = None
    idle_since: datetime | None = None  # when work was last given to them (or they came online)


class IntentGuess(Model, frozen=True):
    """What Vista makes of a message: its intent (and where that came from) and language."""

    intent: str
    source: str  # model, rules (keywords) or none
    confidence: float
    language: str  # ISO 639-1, '' when the words do not say


class IntentScore(Model, frozen=True):
    """How well one intent is recognised: the share of its samples cross-validation got right."""

    intent: str
    samples: int
    accuracy: float | None = None  # None: too few samples to learn


class IntentReport(Model, frozen=True):
    """The outcome of training the intent model from the store's labelled contacts."""

    trained_at: datetime
    samples: int
    folds: int
    accuracy: float
    intents: tuple[IntentScore, ...]
    seconds: float = 0.0


_VARIABLE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_.]*)\}")


class Template(Model, frozen=True):
    """A canned reply; `{variables}` are filled from the profile and the contact."""

    id: int
    name: str
    body: str
    channel: Channel | None = None  # None: any channel
    language: str = ""
    whatsapp_approved: bool = False  # may be sent outside WhatsApp's 24-hour window
    html: str | None = None  # an HTML alternative for e-mail, with the same variables
    provider_name: str = ""  # its name at the WhatsApp provider (set when approved)
    retired: bool = False  # kept for history, offered and sent no more

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_VARIABLE.findall(self.body)))


# --------------------------------------------------------------------------
# Change feed


class Change(Model, frozen=True):
    """One entry of the change feed."""

    seq: int
    at: datetime
    entity: ChangeEntity
    entity_id: int
    action: str  # created, claimed, released, status, priority, reply, note, ...
    actor: str


class ChangeBatch(Model, frozen=True):
    """Changes after a cursor, in order."""

    changes: tuple[Change, ...]
    cursor: int  # pass back as `since` to get what happened after these


# --------------------------------------------------------------------------
# Supervisor KPIs (see the README's "KPI definitions" for what starts and stops each clock)


class KpiBucket(StrEnum):
    """The width of one trend point."""

    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return 3600 if self is KpiBucket.HOUR else 86400


class DurationKpi(Model, frozen=True):
    """An average duration over the contacts whose clock stopped in the window."""

    count: int = 0
    avg_seconds: float | None = None  # None when count is 0


class SlaKpi(Model, frozen=True):
    """First-response SLA: met when the first reply came by `sla_due_at`."""

    met: int = 0
    breached: int = 0
    attainment: float | None = None  # met / (met + breached), 0..1
    breached_open: int = 0  # live: unresolved, still unanswered and past due
    due_soon: int = 0  # live: unresolved, unanswered, due within the at-risk window


class SatisfactionKpi(Model, frozen=True):
    """CSAT (1..5) and NPS (0..10) from the survey answers received in the window."""

    csat_responses: int = 0
    csat_avg: float | None = None
    csat_percent: float | None = None  # share of 4 and 5 answers, 0..100
    nps_responses: int = 0
    promoters: int = 0  # 9..10
    passives: int = 0  # 7..8
    detractors: int = 0  # 0..6
    nps: float | None = None  # % promoters - % detractors, -100..100


class BacklogKpi(Model, frozen=True):
    """Live unresolved contacts, broken down three ways (each sums to `total`)."""

    total: int = 0
    unassigned: int = 0
    by_channel: Mapping[str, int] = msgspec.field(default_factory=dict)
    by_priority: Mapping[str, int] = msgspec.field(default_factory=dict)  # urgent first
    by_age: Mapping[str, int] = msgspec.field(default_factory=dict)  # youngest bucket first


class KpiTrendPoint(Model, frozen=True):
    """One hour or day of the window (`start` inclusive, `start` + bucket exclusive)."""

    start: datetime
    arrivals: int = 0
    first_responses: int = 0
    resolved: int = 0
    abandoned: int = 0
    asa_seconds: float | None = None
    frt_seconds: float | None = None
    aht_seconds: float | None = None
    resolution_seconds: float | None = None
    sla_met: int = 0
    sla_breached: int = 0
    sla_attainment: float | None = None
    csat_avg: float | None = None


class AgentLoad(Model, frozen=True):
    """One agent's live open work and what they got done in the window."""

    agent: str
    display_name: str
    open: int = 0  # unresolved contacts held now (any status but resolved)
    pending: int = 0  # of which waiting on the customer
    snoozed: int = 0
    breached: int = 0  # held, unanswered, past SLA due
    at_risk: int = 0  # held, unanswered, due within the at-risk window
    oldest_open_at: datetime | None = None
    first_responses: int = 0  # in the window
    resolved: int = 0  # in the window
    aht_seconds: float | None = None  # over `resolved`
    overloaded: bool = False  # open > the report's max_open


class AtRiskContact(Model, frozen=True):
    """An unresolved, unanswered contact whose SLA falls due soon (or has passed)."""

    id: int
    channel: Channel
    customer_id: int
    customer_name: str
    subject: str
    priority: Priority
    status: ContactStatus
    created_at: datetime
    sla_due_at: datetime
    seconds_left: int  # negative once breached
    assignee: str | None = None


class KpiReport(Model, frozen=True):
    """Every supervisor KPI over [since, until), plus the live figures as of `now`."""

    since: datetime
    until: datetime
    now: datetime
    bucket: KpiBucket
    channel: Channel | None
    arrivals: int = 0
    asa: DurationKpi = DurationKpi()
    first_response: DurationKpi = DurationKpi()
    handle: DurationKpi = DurationKpi()
    resolution: DurationKpi = DurationKpi()
    sla: SlaKpi = SlaKpi()
    unanswered: int = 0  # arrived in the window, unresolved, no reply yet
    abandoned: int = 0  # arrived in the window, resolved without any reply
    abandon_rate: float | None = None  # abandoned / arrivals, 0..1
    backlog: BacklogKpi = BacklogKpi()
    satisfaction: SatisfactionKpi = SatisfactionKpi()
    agents: tuple[AgentLoad, ...] = ()
    max_open: int = 25
    at_risk_seconds: int = 900
    trend: tuple[KpiTrendPoint, ...] = ()


# --------------------------------------------------------------------------
# Inbound messages


class InboundResult(Model, frozen=True):
    """What `deliver_inbound` did with one customer message."""

    message: Message
    contact: Contact
    customer_id: int
    created_customer: bool = False
    created_contact: bool = False
    duplicate: bool = False  # the external id was delivered before: nothing changed


# --------------------------------------------------------------------------
# Identity resolution


class IdentitySuggestion(Model, frozen=True):
    """Two customers that may be one person: a match below the automatic threshold."""

    id: int
    customer_a: int
    customer_b: int
    name_a: str
    name_b: str
    record_a: str  # SOURCE:SOURCE_ID
    record_b: str
    score: float  # 0..1
    reason: str  # e.g. "same landline, same first name, last name similarity 0.93"
    created_at: datetime
    cursor: str = ""  # pass as `after` for the suggestions that follow this one


class IdentityModelLevel(Model, frozen=True):
    """One level of one comparison of the match model, with its weight."""

    comparison: str  # first_name, last_name, birth_date, email, phone, street, ...
    level: str  # exact, jaro-winkler >= 0.92, different, ...
    m: float  # share of one person's record pairs at this level
    u: float  # share of two people's record pairs at this level
    weight: float  # log2(m / u), in bits


class IdentityModel(Model, frozen=True):
    """The match model identity resolution scores record pairs with (Fellegi-Sunter)."""

    version: int  # 0: the defaults, not yet trained on this store
    trained_at: datetime | None
    records: int  # records in the store when it was trained
    pairs: int  # candidate pairs the m-probabilities were estimated on
    prior: float  # chance that two records picked at random are one person
    link_probability: float  # at or above: linked automatically
    suggest_probability: float  # at or above (below link): suggested for review
    levels: tuple[IdentityModelLevel, ...]
    guards: dict[str, float]  # evidence in bits (household; twins, namesakes: learnt)


class IdentityJournalEntry(Model, frozen=True):
    """One merge or split, as journaled (a split of the same records undoes a merge)."""

    id: int
    at: datetime
    actor: str
    action: str  # merge, auto-merge, split
    customer_id: int  # the survivor of a merge / the customer split
    other_id: int  # the absorbed customer / the customer split off
    records: tuple[str, ...]  # SOURCE:SOURCE_ID of the records that moved
    reason: str = ""


class IdentityLink(Model, frozen=True):
    """Why two source records are together ('auto', 'manual') or must stay apart ('apart')."""

    record_a: str
    record_b: str
    kind: str
    score: float
    reason: str
    actor: str
    at: datetime


class RecordRef(Model, frozen=True):
    """A source record of a customer, by its source and id."""

    record_id: int
    source: str
    source_id: str
    received_at: datetime
    updated_at: datetime


class CustomerExplanation(Model, frozen=True):
    """Which records and which links made a customer, and its merge/split history."""

    customer_id: int
    records: tuple[RecordRef, ...]
    links: tuple[IdentityLink, ...]
    journal: tuple[IdentityJournalEntry, ...]
    changes: tuple[RecordChange, ...] = ()  # what re-imports changed in its records, newest first


class RecordChange(Model, frozen=True):
    """What one re-import changed in a source record: field -> [old, new]."""

    record: str  # SOURCE:SOURCE_ID
    at: datetime
    import_id: int
    changed: Mapping[str, Any]


class FieldProvenance(Model, frozen=True):
    """Where one profile value came from: source, record, when, and the values that lost."""

    field: str
    value: Any
    source: str
    source_id: str
    at: datetime | None
    losers: tuple[Any, ...] = ()
    sources: Mapping[str, str] = msgspec.field(default_factory=dict)  # value -> source


class RecordLink(Model, frozen=True):
    """One row of the links export: a source record and the customer it belongs to."""

    record_id: int
    source: str
    source_id: str
    customer_id: int | None


class CustomerView(Model, frozen=True):
    """What opening a customer shows: the profile, its key facts and a first timeline page."""

    customer: Customer
    facts: CustomerFacts
    timeline: TimelinePage


# --------------------------------------------------------------------------
# Administration: API tokens, imports, store inspection


class TokenInfo(Model, frozen=True):
    """What an API token grants (never the token itself)."""

    name: str
    role: Role
    agent: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class NewToken(Model, frozen=True):
    """A token just created: the secret (shown only this once) and what it grants."""

    token: str
    name: str
    role: Role
    agent: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def info(self) -> TokenInfo:
        return TokenInfo(self.name, self.role, self.agent, self.created_at, self.revoked_at)


class BadRow(Model, frozen=True):
    """A row an import skipped, and why."""

    line: int
    reason: str


class ImportResult(Model, frozen=True):
    """What importing one file of a source system did."""

    source: str
    kind: str  # customers or events
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    customers_created: int = 0
    auto_merges: int = 0
    suggestions: int = 0
    seconds: float = 0.0
    import_id: int = 0
    bad_rows: tuple[BadRow, ...] = ()
    held: int = 0  # rows of erased people's source records, held back (not imported)


class StoreInfo(Model, frozen=True):
    """A store's schema version, size and row counts (for `vista db info`)."""

    path: str
    schema_version: int
    code_schema_version: int
    size_bytes: int
    journal_mode: str  # SQLite's journal mode; a server database's product and version
    tables: Mapping[str, int] = msgspec.field(default_factory=dict)  # table -> rows
    table_bytes: Mapping[str, int] = msgspec.field(default_factory=dict)  # with its indexes


# --------------------------------------------------------------------------
# Audit trail and personal data (GDPR)


class Origin(StrEnum):
    """Where an action came from, as the audit trail records it."""

    CONSOLE = "console"
    CLI = "cli"
    API = "api"
    IMPORT = "import"
    DISPATCHER = "dispatcher"
    WEBHOOK = "webhook"


class AuditEntry(Model, frozen=True):
    """One entry of the audit trail: who did what to which object, when.

    `changes` maps each changed field to `[before, after]`; it is empty for a read,
    for an action without field values, and after the person it was about was erased
    (`erased` is then True)."""

    seq: int
    at: datetime
    agent: str
    role: str
    token: str
    origin: str
    action: str
    object_type: str
    object_id: str
    customer_id: int | None = None
    changes: Mapping[str, tuple[Any, Any]] = msgspec.field(default_factory=dict)
    detail: Mapping[str, Any] = msgspec.field(default_factory=dict)
    erased: bool = False
    hash: str = ""


class AuditPage(Model, frozen=True):
    """A page of the audit trail, newest first; `next_cursor` continues with older ones."""

    entries: tuple[AuditEntry, ...]
    next_cursor: str | None = None


class AuditCheck(Model, frozen=True):
    """The result of walking the audit trail's hash chain."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""


class LegalHold(Model, frozen=True):
    """Whether a customer is under a legal hold (then they cannot be erased)."""

    customer_id: int
    held: bool
    at: datetime | None = None
    by: str = ""


class PersonalDataExport(Model, frozen=True):
    """Everything Vista holds on one person: `summary` for people, `data` the sections
    (profile, provenance, source_records, identities, timeline, contacts, messages,
    consents, audit, legal_hold) as plain JSON values."""

    customer_id: int
    generated_at: datetime
    summary: tuple[str, ...]
    data: Mapping[str, Any] = msgspec.field(default_factory=dict)


class ErasureReport(Model, frozen=True):
    """What erasing a person did: how many rows of each kind were anonymised or removed,
    and the contacts whose local drafts a front end should drop."""

    customer_id: int
    at: datetime
    counts: Mapping[str, int] = msgspec.field(default_factory=dict)
    contact_ids: tuple[int, ...] = ()
    wal_cleared: bool = True  # False: a reader kept old pages in the write-ahead log


# Screen pop: who is calling, in one answer


class LookupKind(StrEnum):
    """What a lookup value was read as."""

    PHONE = "phone"
    EMAIL = "email"
    ORDER = "order"
    TEXT = "text"  # a name or anything else: the type-ahead search


class CallerCard(Model, frozen=True):
    """One customer as a ringing phone needs them: who, how much they matter, what is open."""

    id: int
    name: str
    tier: str = ""
    segment: str = ""
    language: str = ""
    email: str = ""
    phone: str = ""
    flags: tuple[str, ...] = ()  # churn_risk, unhappy, then the customer's tags
    churn_risk: bool = False
    lifetime_value: float = 0.0
    currency: str = "EUR"
    matched: str = ""  # phone, email, order, name
    open_contacts: tuple[Contact, ...] = ()  # newest first
    facts: CustomerFacts | None = None  # last order, unfinished checkout, counts


class Lookup(Model, frozen=True):
    """A lookup's answer: the customer when one matches, else the candidates, best first."""

    query: str
    kind: LookupKind
    value: str  # normalised: E.164 phone, lower-case e-mail, upper-case order number
    matches: tuple[CallerCard, ...] = ()

    @property
    def customer(self) -> CallerCard | None:
        """The one customer the value names; None when none or several match."""
        return self.matches[0] if len(self.matches) == 1 else None


# --------------------------------------------------------------------------
# Telephony


class CallState(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class Call(Model, frozen=True):
    """One phone call as the telephony reported it, on the phone contact it belongs to."""

    call_id: str
    contact_id: int
    customer_id: int
    state: CallState
    caller: str  # E.164
    started_at: datetime
    dialled: str = ""
    queue: str = ""
    agent: str = ""  # the agent it is offered to
    extension: str = ""
    recording: str = ""
    new_caller: bool = False  # the number was unknown: the customer was created for it
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    handle_seconds: int | None = None  # answered to ended


# --------------------------------------------------------------------------
# Knowledge base


class Article(Model, frozen=True):
    """A knowledge-base article: Markdown text the operator may insert or link in a reply."""

    id: int
    slug: str
    language: str
    title: str
    body: str  # Markdown, as written: shown and inserted as plain text
    link: str = ""
    intents: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    updated_at: datetime | None = None


class ArticleHit(Model, frozen=True):
    """An article found by a search, with a snippet of its text (plain, no markup)."""

    id: int
    slug: str
    language: str
    title: str
    snippet: str
    link: str = ""
    intents: tuple[str, ...] = ()
    score: float = 0.0  # higher is better


class KbImportResult(Model, frozen=True):
    """What `kb_import` did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


class KbUsage(Model, frozen=True):
    """Knowledge-base use over a window: articles inserted into replies, contacts resolved
    with one, and the most used articles."""

    since: datetime
    until: datetime
    uses: int = 0
    answers: int = 0  # an article's text inserted
    links: int = 0  # an article's link inserted
    contacts: int = 0  # contacts with an article inserted
    resolved_with_article: int = 0  # of those, resolved in the window
    top: tuple[ArticleHit, ...] = ()  # most used first; score = uses


class WriteAnswer(Model, frozen=True):
    """A server's answer to a write sent with an idempotency key, kept so that the same
    write retried (on this server or another one on the same store) gets it again."""

    request: str  # the fingerprint of the request it answered (method, path, body)
    status: int
    body: bytes
