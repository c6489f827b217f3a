"""Frozen domain models: the only shapes that cross the backend boundary.

Every backend (SQLite, HTTP) returns these and nothing else: never rows,
cursors or HTTP responses. They serialise to JSON through `to_json()` with
stable field names, which the CLI's `--json` output and the HTTP API share.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar, dataclass_transform


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


# --------------------------------------------------------------------------
# JSON helpers


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, StrEnum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [_jsonable(v) for v in value]
    return value


class _Model:
    """Mixin: stable JSON form of a frozen dataclass, its repr, equality and hash, and
    what makes it frozen.

    Python's dataclasses `exec` each method they generate, and that was most of
    `import backends.models` (on the console's start path). So the models (see
    `_model`) share these here instead of generating them per class, and behave
    as the generated ones: fields in order, same class to compare, any assignment
    or deletion raises `FrozenInstanceError`, pickling and copying restore the fields.
    """

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[Any]:
        return [getattr(self, name) for name in self.__dataclass_fields__]  # type: ignore[attr-defined]

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(self.__dataclass_fields__, state, strict=False):  # type: ignore[attr-defined]
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)  # type: ignore[attr-defined]
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def to_json(self) -> dict[str, Any]:
        return _jsonable(self)  # type: ignore[no-any-return]


_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def _model(cls: type[_T]) -> type[_T]:
    """`@dataclass(frozen=True, slots=True, repr=False, eq=False)`, for a third of the cost.

    The dataclass machinery makes the fields, slots and `__match_args__`; `__init__`
    is generated here (the same code dataclasses write for a frozen class: defaults,
    default factories, `object.__setattr__`), and the frozen `__setattr__` and
    `__delattr__`, which dataclasses would generate per class, come from `_Model`.
    """
    cls = dataclass(cls, init=False, repr=False, eq=False, slots=True)  # type: ignore[call-overload]
    fields = cls.__dataclass_fields__.values()  # type: ignore[attr-defined]
    env: dict[str, Any] = {"__set": object.__setattr__, "__factory": _HAS_DEFAULT_FACTORY}
    params, body = ["self"], []
    for f in fields:
        value = f.name
        if f.default is not dataclasses.MISSING:
            env[f"__d_{f.name}"] = f.default
            params.append(f"{f.name}=__d_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"__f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=__factory")
            value = f"__f_{f.name}() if {f.name} is __factory else {f.name}"
        else:
            params.append(f.name)
        body.append(f"    __set(self, {f.name!r}, {value})\n")
    source = f"def __init__({', '.join(params)}):\n{''.join(body) or '    pass'}\n"
    exec(source, env)  # noqa: S102 - our own field names, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {f.name: f.type for f in fields} | {"return": None}
    cls.__init__ = init  # type: ignore[method-assign]
    dc_params = cls.__dataclass_params__  # type: ignore[attr-defined]
    dc_params.init = dc_params.frozen = True  # what the class is, as dataclasses reports it
    return cls


class _HasDefaultFactory:
    """The `__init__` default of a field with a default factory (as in dataclasses)."""

    def __repr__(self) -> str:
        return "<factory>"


_HAS_DEFAULT_FACTORY = _HasDefaultFactory()


# --------------------------------------------------------------------------
# Customers


@_model
class Address(_Model):
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


@_model
class Identity(_Model):
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


@_model
class SourceRecord(_Model):
    """A customer record as one source system holds it, untouched."""

    source: str
    source_id: str
    fields: Mapping[str, Any]
    received_at: datetime
    updated_at: datetime
    customer_id: int | None = None


@_model
class FieldConflict(_Model):
    """Sources disagree on a field: which source says what."""

    field: str
    values: Mapping[str, str]  # source -> value


@_model
class Customer(_Model):
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
    consents: Mapping[str, bool] = field(default_factory=dict)
    lifetime_value: float = 0.0
    currency: str = "EUR"
    tags: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    churn_risk: bool = False
    unhappy: bool = False
    identities: tuple[Identity, ...] = ()
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


@_model
class CustomerHit(_Model):
    """One search result."""

    id: int
    name: str
    email: str
    phone: str
    city: str
    segment: str
    matched: str = ""  # what matched: name, email, phone, order


@_model
class CustomerFacts(_Model):
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


@_model
class TimelineEvent(_Model):
    """One event of a customer's unified timeline, from any source."""

    id: int
    customer_id: int
    at: datetime
    kind: EventKind
    channel: str
    source: str
    summary: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    contact_id: int | None = None


@_model
class TimelinePage(_Model):
    """A page of timeline events, newest first."""

    events: tuple[TimelineEvent, ...]
    next_cursor: str | None  # None: no older events


# --------------------------------------------------------------------------
# Queue


@_model
class Contact(_Model):
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


@_model
class QueueQuery(_Model):
    """Filters for a queue page. Empty tuples mean 'any'."""

    statuses: tuple[ContactStatus, ...] = QUEUE_STATUSES
    channels: tuple[Channel, ...] = ()
    assignee: str | None = None  # an agent name
    unassigned: bool = False
    priorities: tuple[Priority, ...] = ()
    sla: SlaState | None = None  # AT_RISK includes BREACHED
    text: str = ""  # filter on subject / customer name


@_model
class QueuePage(_Model):
    """A page of the queue, with keyset cursors to the rows around it."""

    contacts: tuple[Contact, ...]
    next_cursor: str | None  # rows after the last one; None at the end
    prev_cursor: str | None  # rows before the first one; None at the start


@_model
class Message(_Model):
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


@_model
class ContactDetail(_Model):
    """A contact with its whole conversation."""

    contact: Contact
    messages: tuple[Message, ...]


@_model
class Agent(_Model):
    """An operator, supervisor or admin."""

    name: str
    display_name: str
    role: Role


_VARIABLE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_.]*)\}")


@_model
class Template(_Model):
    """A canned reply; `{variables}` are filled from the profile and the contact."""

    id: int
    name: str
    body: str
    channel: Channel | None = None  # None: any channel
    language: str = ""
    whatsapp_approved: bool = False  # may be sent outside WhatsApp's 24-hour window
    html: str | None = None  # an HTML alternative for e-mail, with the same variables

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_VARIABLE.findall(self.body)))


# --------------------------------------------------------------------------
# Change feed


@_model
class Change(_Model):
    """One entry of the change feed."""

    seq: int
    at: datetime
    entity: ChangeEntity
    entity_id: int
    action: str  # created, claimed, released, status, priority, reply, note, ...
    actor: str


@_model
class ChangeBatch(_Model):
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


@_model
class DurationKpi(_Model):
    """An average duration over the contacts whose clock stopped in the window."""

    count: int = 0
    avg_seconds: float | None = None  # None when count is 0


@_model
class SlaKpi(_Model):
    """First-response SLA: met when the first reply came by `sla_due_at`."""

    met: int = 0
    breached: int = 0
    attainment: float | None = None  # met / (met + breached), 0..1
    breached_open: int = 0  # live: unresolved, still unanswered and past due
    due_soon: int = 0  # live: unresolved, unanswered, due within the at-risk window


@_model
class SatisfactionKpi(_Model):
    """CSAT (1..5) and NPS (0..10) from the survey answers received in the window."""

    csat_responses: int = 0
    csat_avg: float | None = None
    csat_percent: float | None = None  # share of 4 and 5 answers, 0..100
    nps_responses: int = 0
    promoters: int = 0  # 9..10
    passives: int = 0  # 7..8
    detractors: int = 0  # 0..6
    nps: float | None = None  # % promoters - % detractors, -100..100


@_model
class BacklogKpi(_Model):
    """Live unresolved contacts, broken down three ways (each sums to `total`)."""

    total: int = 0
    unassigned: int = 0
    by_channel: Mapping[str, int] = field(default_factory=dict)
    by_priority: Mapping[str, int] = field(default_factory=dict)  # urgent first
    by_age: Mapping[str, int] = field(default_factory=dict)  # youngest bucket first


@_model
class KpiTrendPoint(_Model):
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


@_model
class AgentLoad(_Model):
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


@_model
class AtRiskContact(_Model):
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


@_model
class KpiReport(_Model):
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


@_model
class InboundResult(_Model):
    """What `deliver_inbound` did with one customer message."""

    message: Message
    contact: Contact
    customer_id: int
    created_customer: bool = False
    created_contact: bool = False
    duplicate: bool = False  # the external id was delivered before: nothing changed


# --------------------------------------------------------------------------
# Identity resolution


@_model
class IdentitySuggestion(_Model):
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


@_model
class IdentityJournalEntry(_Model):
    """One merge or split, as journaled (a split of the same records undoes a merge)."""

    id: int
    at: datetime
    actor: str
    action: str  # merge, auto-merge, split
    customer_id: int  # the survivor of a merge / the customer split
    other_id: int  # the absorbed customer / the customer split off
    records: tuple[str, ...]  # SOURCE:SOURCE_ID of the records that moved
    reason: str = ""


@_model
class IdentityLink(_Model):
    """Why two source records are together ('auto', 'manual') or must stay apart ('apart')."""

    record_a: str
    record_b: str
    kind: str
    score: float
    reason: str
    actor: str
    at: datetime


@_model
class RecordRef(_Model):
    """A source record of a customer, by its source and id."""

    record_id: int
    source: str
    source_id: str
    received_at: datetime
    updated_at: datetime


@_model
class CustomerExplanation(_Model):
    """Which records and which links made a customer, and its merge/split history."""

    customer_id: int
    records: tuple[RecordRef, ...]
    links: tuple[IdentityLink, ...]
    journal: tuple[IdentityJournalEntry, ...]
    changes: tuple[RecordChange, ...] = ()  # what re-imports changed in its records, newest first


@_model
class RecordChange(_Model):
    """What one re-import changed in a source record: field -> [old, new]."""

    record: str  # SOURCE:SOURCE_ID
    at: datetime
    import_id: int
    changed: Mapping[str, Any]


@_model
class FieldProvenance(_Model):
    """Where one profile value came from: source, record, when, and the values that lost."""

    field: str
    value: Any
    source: str
    source_id: str
    at: datetime | None
    losers: tuple[Any, ...] = ()
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)  # value -> source


@_model
class RecordLink(_Model):
    """One row of the links export: a source record and the customer it belongs to."""

    record_id: int
    source: str
    source_id: str
    customer_id: int | None


@_model
class CustomerView(_Model):
    """What opening a customer shows: the profile, its key facts and a first timeline page."""

    customer: Customer
    facts: CustomerFacts
    timeline: TimelinePage
