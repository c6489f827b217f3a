"""The contract's writes on contacts and customers, the same for every store: a reply or an
internal note, a retried reply, a note on a customer, a profile edit, a consent, and the
templates' changes, each with its checks, timeline event, change-feed entry and audit
entry, in one transaction.

A store's backend mixes `WriteOps` in and gives its SQL: the modules `_queue` (its
outbox: enqueue, requeue, whatsapp_form), `_templates` and `_consents`, and the hooks
under "the store's SQL". No SQL here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from backends import channels, consent, inbound, limits, provenance, records, templating
from backends.audit_chain import Actor, diff, message_changes
from backends.base import Conflict, InvalidInput, NotFound
from backends.inbound import Arrival
from backends.models import (
    Agent,
    ChangeEntity,
    Channel,
    Contact,
    ContactStatus,
    Customer,
    Delivery,
    Direction,
    EventKind,
    InboundResult,
    Message,
    Role,
    Template,
    TimelineEvent,
    to_builtins,
)
from backends.outbox import Queued
from backends.values import ValuesConfig, check_choice

if TYPE_CHECKING:
    from backends.governance import GovernanceOps as _Mixins
else:
    _Mixins = object

EDITABLE_FIELDS = limits.EDITABLE_FIELDS

#: The profile fields the customer search's name is made of.
NAME_FIELDS = ("first_name", "last_name")


class Outgoing(NamedTuple):
    """A checked outbound reply: the text to store and what its outbox entry needs."""

    body: str
    recipient: str
    recipient_name: str
    subject: str
    html: str | None


class Queue(Protocol):
    """A store's outbox module (each function works in the caller's transaction)."""

    def enqueue(self, db: Any, reply: Queued, now: int) -> None: ...

    def requeue(self, db: Any, message_id: int, now: int) -> str: ...

    def whatsapp_form(
        self, db: Any, customer_id: int, body: str, now: float
    ) -> tuple[str, str, tuple[str, ...]] | None: ...


class Templates(Protocol):
    """A store's templates module."""

    def fields(self, db: Any, name: str) -> dict[str, Any]: ...

    #: add(db, name, body, *, channel=None, language="", html=None)
    add: Callable[..., Template]

    #: edit(db, name, *, body=None, channel=None, language=None, html=None): None keeps
    edit: Callable[..., Template]

    def approve(self, db: Any, name: str, provider_name: str) -> Template: ...

    def retire(self, db: Any, name: str) -> Template: ...


class Consents(Protocol):
    """A store's consents module."""

    def set_consent(
        self, db: Any, customer_id: int, channel: Channel, granted: bool, actor: str, now: int
    ) -> bool | None: ...


def recipient(contact: Contact, channel: Channel, customer: Customer, wrote_from: str) -> str:
    """Where a reply on `channel` goes: the address the customer wrote from on this contact
    (`wrote_from`, the author of its last inbound message), else the first one on file for
    that channel ('' when none)."""
    if channel is contact.channel:
        if channel is Channel.EMAIL and "@" in wrote_from:
            return wrote_from
        if channel in (Channel.SMS, Channel.WHATSAPP) and (
            wrote_from[:1].isdigit() or wrote_from.startswith("+")
        ):
            return wrote_from
    if channel is Channel.EMAIL and customer.emails:
        return customer.emails[0]
    if channel in (Channel.SMS, Channel.WHATSAPP) and customer.phones:
        return customer.phones[0]
    return ""


def held_by_another(contact: Contact, me: Agent) -> Conflict | None:
    """The refusal when another agent holds the contact (an admin may write on it)."""
    if contact.assignee not in (None, me.name) and me.role is not Role.ADMIN:
        return Conflict(f"contact {contact.id} is held by {contact.assignee}", current=contact)
    return None


class WriteOps(_Mixins):
    """Replies, notes, profile edits, consents and templates over a store's SQL."""

    _queue: Queue
    _templates: Templates
    _consents: Consents

    # -- the store's SQL (each in the caller's transaction) -----------------------------

    def _check_id(self, value: int, what: str) -> None:
        """Refuse an id the store cannot hold (a store that cannot overflow: nothing)."""

    def _read_contact(self, db: Any, contact_id: int, *, lock: bool = False) -> Contact:
        raise NotImplementedError

    def _read_message(self, db: Any, message_id: int) -> Message:
        raise NotImplementedError

    def _message_by_key(self, db: Any, key: str) -> Message | None:
        """The message written with this idempotency key (a second writer with the same
        key waits here for the first), or None."""
        raise NotImplementedError

    def _insert_message(
        self, db: Any, contact: Contact, direction: Direction, channel: Channel, author: str,
        body: str, now: int, key: str | None, delivery: str | None,
    ) -> int:  # fmt: skip
        raise NotImplementedError

    def _touch_contact(
        self, db: Any, contact_id: int, now: int, sets: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A message was written on the contact: set the columns `sets`, updated_at and a
        new version; its status, assignee and first_response_at before and after."""
        raise NotImplementedError

    def _template_texts(self, db: Any) -> list[tuple[str, str | None]]:
        """Every template's body and HTML."""
        raise NotImplementedError

    def _sendable_template(self, db: Any, name: str) -> Template:
        """The template a reply names, or InvalidInput (see `templating.check_sendable`)."""
        raise NotImplementedError

    def _last_whatsapp_inbound(self, db: Any, customer_id: int) -> datetime | None:
        """When the customer last wrote on WhatsApp, on any of their contacts."""
        raise NotImplementedError

    def _last_inbound_author(self, db: Any, contact_id: int) -> str | None:
        raise NotImplementedError

    def _sent_reply(self, db: Any, message_id: int) -> tuple[Any, ...] | None:
        """A message's direction, delivery, contact, channel, body and outbox status
        (None when it has no outbox row), locked for a retry."""
        raise NotImplementedError

    def _value_config(self) -> ValuesConfig:
        """The tiers and segments the store allows."""
        raise NotImplementedError

    def _profile_row(self, db: Any, customer_id: int, field: str) -> tuple[Any, int, str] | None:
        """A customer's `field`, version and provenance (locked for the edit), or None."""
        raise NotImplementedError

    def _set_profile(
        self, db: Any, customer_id: int, field: str, value: Any, kept: dict[str, Any], now: int
    ) -> None:
        """Write the field and the provenance `kept`, with a new version."""
        raise NotImplementedError

    def _refresh_search_name(self, db: Any, customer_id: int) -> None:
        raise NotImplementedError

    def _profile_value(self, db: Any, customer_id: int, field: str) -> Any:
        raise NotImplementedError

    def _deliver(self, me: Agent, actor: Actor, arrival: Arrival) -> InboundResult:
        """Write an arrived message (in a transaction of its own)."""
        raise NotImplementedError

    # -- a customer's message -----------------------------------------------------------

    def deliver_inbound(
        self, channel: Channel, sender: str, text: str, **message: Any
    ) -> InboundResult:
        """See `Backend.deliver_inbound` (`message`: at, external_id, name, subject,
        in_reply_to, references; checked by backends/inbound.py)."""
        me = self._writer()
        arrival = inbound.arrive(channel, sender, text, now_at=self.clock(), **message)
        return self._deliver(me, self.actor(me), arrival)

    # -- replies and notes --------------------------------------------------------------

    def reply(self, contact_id: int, body: str, **options: Any) -> Message:
        """See `Backend.reply` (`options`: channel, idempotency_key, template)."""
        return self._post(contact_id, body, Direction.OUTBOUND, **options)

    def add_note(
        self, contact_id: int, body: str, *, idempotency_key: str | None = None
    ) -> Message:
        return self._post(contact_id, body, Direction.NOTE, idempotency_key=idempotency_key)

    def _post(
        self, contact_id: int, body: str, direction: Direction, *, template: str | None = None,
        channel: str | None = None, idempotency_key: str | None = None,
    ) -> Message:  # fmt: skip
        me = self._writer()
        if not body.strip() and not (template and direction is Direction.OUTBOUND):
            raise InvalidInput("the message is empty")
        now_dt = self.clock()
        now = records.to_ts(now_dt)
        with self.store.write() as db:
            if idempotency_key:
                seen = self._message_by_key(db, idempotency_key)
                if seen is not None:
                    return seen
            self._ensure_agent(db, me, now)
            contact = self._read_contact(db, contact_id, lock=True)
            refused = held_by_another(contact, me)
            if refused is not None:
                raise refused
            try:
                out_channel = Channel(channel) if channel else contact.channel
            except ValueError as e:
                raise InvalidInput(f"unknown channel {channel!r}") from e
            outgoing = None
            if direction is Direction.OUTBOUND:
                outgoing = self._check_outbound(
                    db, contact, out_channel, body, template, me, now_dt
                )
                body = outgoing.body
            message_id = self._insert_message(
                db, contact, direction, out_channel, me.name, body, now, idempotency_key or None,
                Delivery.QUEUED.value if outgoing else None,
            )  # fmt: skip
            sets: dict[str, Any] = {}
            if contact.assignee is None:
                sets.update(assignee=me.name, assigned_at=now)
            if outgoing is not None:
                if contact.first_response_at is None:  # the contact is locked: it stays so
                    sets["first_response_at"] = now
                if contact.status in (ContactStatus.NEW, ContactStatus.OPEN):
                    sets["status"] = ContactStatus.PENDING.value
                self._queue_reply(db, contact, out_channel, outgoing, message_id, me, now)
            before, after = self._touch_contact(db, contact_id, now, sets)
            self._log(db, now, ChangeEntity.CONTACT, contact_id, direction.value, me.name)
            self._trail.record(
                db,
                self.actor(me),
                now,
                "reply" if direction is Direction.OUTBOUND else "note",
                "message",
                message_id,
                customer_id=contact.customer_id,
                changes=message_changes(
                    body,
                    out_channel.value,
                    contact_id,
                    outgoing.recipient if outgoing is not None else None,
                    before,
                    after,
                ),
                detail={"contact_id": contact_id, "template": template or ""},
            )
            return self._read_message(db, message_id)

    def _queue_reply(
        self,
        db: Any,
        contact: Contact,
        channel: Channel,
        outgoing: Outgoing,
        message_id: int,
        me: Agent,
        now: int,
    ) -> None:
        """A reply's timeline event and outbox entry."""
        event_id = self._add_event(
            db,
            contact.customer_id,
            now,
            EventKind.REPLY,
            channel.value,
            f"Reply by {me.name}: {outgoing.body[:120]}",
            {
                "body": outgoing.body,
                "author": me.name,
                "message_id": message_id,
                "delivery": Delivery.QUEUED.value,
            },
            contact.id,
        )
        queued = Queued(message_id, channel, *outgoing[1:], contact.customer_id, event_id)
        self._queue.enqueue(db, queued, now)

    def _check_outbound(
        self,
        db: Any,
        contact: Contact,
        channel: Channel,
        body: str,
        template_name: str | None,
        me: Agent,
        now: datetime,
    ) -> Outgoing:
        """What to send (a named template rendered when `body` is empty) and where, or
        InvalidInput for a broken channel rule or a known template variable left unfilled."""
        template = self._sendable_template(db, template_name) if template_name else None
        customer = self._customer(contact.customer_id)
        source = body if body.strip() else (template.body if template else "")
        facts = self.customer_facts(contact.customer_id) if templating.needs_facts(source) else None
        values = templating.variables(customer, facts, contact, me)
        if not body.strip() and template is not None:
            body = templating.fill(template.body, values)
        known = templating.known_variables(t for row in self._template_texts(db) for t in row)
        missing = templating.unresolved(body, values, known)
        if missing:
            raise InvalidInput(templating.unresolved_message(missing), "Template")
        problems = channels.check_reply(
            channel,
            body,
            now=now,
            last_inbound_at=contact.last_inbound_at,
            contact_channel=contact.channel,
            # the customer's addresses matter only when replying on another channel
            customer=customer if channel is not contact.channel else None,
            template=template,
            whatsapp_inbound_at=self._last_whatsapp_inbound(db, contact.customer_id),
        )
        if problems:
            raise InvalidInput("; ".join(p.message for p in problems), "Channel rule")
        refused = consent.consent_problem(
            channel,
            customer.consents,
            now=now,
            contact_channel=contact.channel,
            last_inbound_at=contact.last_inbound_at,
        )
        if refused:
            raise InvalidInput(refused, "Consent")
        html = None
        if (
            template is not None
            and template.html
            and body == templating.fill(template.body, values)
        ):
            html = templating.fill_html(template.html, values)
        subject = contact.subject.strip()
        if subject and not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        wrote_from = ""
        if channel is contact.channel:
            wrote_from = str(self._last_inbound_author(db, contact.id) or "").strip()
        name = f"{customer.first_name} {customer.last_name}".strip()
        return Outgoing(
            body, recipient(contact, channel, customer, wrote_from), name, subject, html
        )

    def retry_message(self, message_id: int) -> Message:
        """See `Backend.retry_message`; the key rule is the outbox's `requeue`."""
        me = self._writer()
        self._check_id(message_id, "message id")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            found = self._sent_reply(db, message_id)
            if found is None:
                raise NotFound(f"message {message_id} not found")
            direction, delivery, contact_id, channel, body, status = found
            if direction != Direction.OUTBOUND.value or status is None:
                raise InvalidInput(
                    f"message {message_id} is not a reply Vista sent: there is nothing to retry"
                )
            if status != "failed":
                raise Conflict(
                    f"message {message_id} is {delivery or status}, not failed: only a failed "
                    "reply is sent again"
                )
            contact = self._read_contact(db, contact_id)
            refused = held_by_another(contact, me)
            if refused is not None:
                raise refused
            if channel == Channel.WHATSAPP.value and (
                self._queue.whatsapp_form(db, contact.customer_id, body, now) is None
            ):
                raise InvalidInput(
                    f"message {message_id} is free text and WhatsApp's 24-hour window has "
                    "closed since: write a new reply with an approved template",
                    "Channel rule",
                )
            self._ensure_agent(db, me, now)
            self._queue.requeue(db, message_id, now)
            self._log(db, now, ChangeEntity.CONTACT, contact.id, "retry", me.name)
            self._trail.record(
                db,
                self.actor(me),
                now,
                "retry",
                "message",
                message_id,
                customer_id=contact.customer_id,
                changes={"outbox.status": [status, "queued"]},
            )
            return self._read_message(db, message_id)

    # -- customers ----------------------------------------------------------------------

    def add_customer_note(self, customer_id: int, body: str) -> TimelineEvent:
        me = self._writer()
        if not body.strip():
            raise InvalidInput("the note is empty")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            self._require_customer(db, customer_id)
            self._ensure_agent(db, me, now)
            event_id = self._add_event(
                db,
                customer_id,
                now,
                EventKind.NOTE,
                "",
                f"Note by {me.name}: {body[:120]}",
                {"body": body, "author": me.name},
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "note", me.name)
            self._trail.record(
                db,
                self.actor(me),
                now,
                "customer-note",
                "event",
                event_id,
                customer_id=customer_id,
                changes={"body": [None, body]},
            )
        return self.get_event(event_id)

    def edit_profile(
        self, customer_id: int, field: str, value: str, *, expected_version: int | None = None
    ) -> Customer:
        me = self._writer()
        if field not in EDITABLE_FIELDS:
            raise InvalidInput(
                f"field {field!r} cannot be edited here; editable: {', '.join(EDITABLE_FIELDS)}"
            )
        value = value.strip()
        if field in ("tier", "segment"):
            cfg = self._value_config()
            value = check_choice(field, value, cfg.tiers if field == "tier" else cfg.segments)
        if field == "birth_date" and value:
            try:
                value = datetime.strptime(value, "%Y-%m-%d").date().isoformat()
            except ValueError as e:
                raise InvalidInput(f"birth_date must be YYYY-MM-DD (got {value!r})") from e
        self._check_id(customer_id, "customer id")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            row = self._profile_row(db, customer_id, field)
            if row is None:
                raise NotFound(f"no customer with id {customer_id}")
            old, version, kept_text = row
            if expected_version is not None and version != expected_version:
                raise Conflict(
                    f"customer {customer_id} changed meanwhile (version {version}, "
                    f"you had {expected_version})"
                )
            kept = provenance.loads(kept_text)
            kept[field] = {"source": f"agent:{me.name}", "at": now, "losers": [old]}
            stored = value or (None if field == "birth_date" else "")
            self._set_profile(db, customer_id, field, stored, kept, now)
            if field in NAME_FIELDS:
                self._refresh_search_name(db, customer_id)
            self._ensure_agent(db, me, now)
            change = {"field": field, "old": old, "new": value, "author": me.name}
            self._profile_changed(db, customer_id, now, f"{field} changed by {me.name}", change)
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, f"edit:{field}", me.name)
            new = self._profile_value(db, customer_id, field)
            self._audit_customer(
                db, me, now, "edit", customer_id, changes=diff({field: old}, {field: new})
            )
        return self._customer(customer_id)

    def set_consent(self, customer_id: int, channel: str, granted: bool) -> Customer:
        me = self._writer()
        try:
            which = consent.consent_channel(channel)
        except ValueError as e:
            raise InvalidInput(str(e)) from e
        self._check_id(customer_id, "customer id")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            old = self._consents.set_consent(db, customer_id, which, bool(granted), me.name, now)
            self._ensure_agent(db, me, now)
            word = "given" if granted else "withdrawn"
            self._profile_changed(
                db,
                customer_id,
                now,
                f"{which.value} consent {word} by {me.name}",
                {
                    "field": f"consent_{which.value}",
                    "old": old,
                    "new": bool(granted),
                    "author": me.name,
                },
                which.value,
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "consent", me.name)
            self._audit_customer(
                db,
                me,
                now,
                "consent",
                customer_id,
                changes={f"consent_{which.value}": [old, bool(granted)]},
            )
        return self.get_customer(customer_id)

    # -- templates (admins) -------------------------------------------------------------

    def add_template(self, name: str, body: str, **options: Any) -> Template:
        """See `Backend.add_template` (`options`: channel, language, html)."""
        return self._change_template(
            "add", name, lambda db: self._templates.add(db, name, body, **options)
        )

    def edit_template(self, name: str, **changes: Any) -> Template:
        """See `Backend.edit_template` (`changes`: body, channel, language, html)."""
        return self._change_template(
            "edit", name, lambda db: self._templates.edit(db, name, **changes)
        )

    def approve_template(self, name: str, provider_name: str) -> Template:
        return self._change_template(
            "approve", name, lambda db: self._templates.approve(db, name, provider_name)
        )

    def retire_template(self, name: str) -> Template:
        return self._change_template("retire", name, lambda db: self._templates.retire(db, name))

    def _change_template(self, verb: str, name: str, change: Callable[[Any], Template]) -> Template:
        """One change of a template by an admin, with its audit entry (`verb`: add, edit,
        approve, retire)."""
        me = self._writer()
        self._admin(f"{verb} templates")
        with self.store.write() as db:
            before = self._templates.fields(db, name)
            template = change(db)
            self._trail.record(
                db,
                self.actor(me),
                records.to_ts(self.clock()),
                f"template-{verb}",
                "template",
                template.name,
                changes=diff(before, dict(to_builtins(template))),
            )
            return template
