"""The contract's audit trail and personal data, the same for every store: who acts (the
audit actor), reading and verifying the trail, exporting, erasing and holding one person.

A store's backend mixes `GovernanceOps` in and names its own modules of SQL: `_trail`
(record, page, verify: backends/sqlite/audit.py, backends/postgres/audit.py) and
`_personal` (hold, set_hold, contact_ids, erase: backends/*/gdpr.py), plus what an erasure
needs around its transaction (`_erasing`, `_after_erasure`). No SQL here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from backends import personal_data, records
from backends.audit_chain import READ_ACTION, Actor, Appender, PageQuery, diff
from backends.base import Unavailable
from backends.models import (
    Agent,
    AuditCheck,
    AuditEntry,
    AuditPage,
    ChangeEntity,
    Contact,
    ErasureReport,
    EventKind,
    LegalHold,
    Origin,
    PersonalDataExport,
    TimelineEvent,
)


class Trail(Protocol):
    """A store's audit trail module (each function works in the caller's transaction)."""

    record: Appender

    def page(self, db: Any, query: PageQuery) -> AuditPage: ...

    def verify(self, db: Any) -> AuditCheck: ...


class Personal(Protocol):
    """A store's personal data module (each function works in the caller's transaction)."""

    def hold(self, db: Any, customer_id: int) -> tuple[int, str] | None: ...

    def set_hold(self, db: Any, customer_id: int, held: bool, actor: str, now: int) -> bool: ...

    def contact_ids(self, db: Any, customer_id: int) -> list[int]: ...

    def erase(self, db: Any, customer_id: int, now: int) -> tuple[dict[str, int], list[int]]: ...


class StoreHandle(Protocol):
    """What the mixin uses of a store: its transactions and its mode."""

    read_only: bool

    def read(self) -> AbstractContextManager[Any]: ...

    def write(self) -> AbstractContextManager[Any]: ...


if TYPE_CHECKING:
    from backends.base import Backend as _Contract
else:
    _Contract = object


class GovernanceOps(_Contract):
    """Audit trail and personal data over a store's `_trail` and `_personal` modules."""

    _trail: Trail
    _personal: Personal
    store: Any
    clock: Callable[[], datetime]
    _origin: str = Origin.CONSOLE.value
    _token: str = ""
    _read_audit: bool = False
    _audit_store: StoreHandle | None = None

    if TYPE_CHECKING:  # provided by the store's backend (the contract's methods by `Backend`)

        def _writer(self) -> Agent: ...

        def _admin(self, doing: str) -> Agent: ...

        def _customer(self, customer_id: int) -> Any: ...

        def _require_customer(self, db: Any, customer_id: int) -> None: ...

        def _ensure_agent(self, db: Any, me: Agent, now: int) -> None: ...

        #: (db, now, entity, entity id, action, actor): an entry of the change feed
        _log: Callable[[Any, int, ChangeEntity, int, str, str], None]

        #: (db, customer id, at, kind, channel, summary, payload, contact id=None): a
        #: timeline event; its id
        _add_event: Callable[..., int]

    # -- who acts ---------------------------------------------------------------------

    def _audit_setup(
        self, origin: str, token: str | None, read_audit: bool, audit_store: StoreHandle | None
    ) -> None:
        """What the trail records of this backend's caller, and where its reads go."""
        self._origin = Origin(origin).value
        self._token = token or ""
        self._read_audit = read_audit
        self._audit_store = audit_store

    def actor(self, me: Agent | None = None) -> Actor:
        """Who acts, as the audit trail records it."""
        me = me or self.whoami()
        return Actor(me.name, me.role.value, self._token, self._origin)

    def _audit_customer(
        self,
        db: Any,
        me: Agent,
        now: int,
        action: str,
        customer_id: int,
        *,
        changes: Mapping[str, list[Any]] | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """The audit entry of `me`'s change of a customer (in the caller's transaction)."""
        self._trail.record(
            db,
            self.actor(me),
            now,
            action,
            "customer",
            customer_id,
            customer_id=customer_id,
            changes=changes,
            detail=detail,
        )

    def _contact_changed(
        self, db: Any, me: Agent, now: int, action: str, contact: Contact,
        before: Mapping[str, Any], after: Mapping[str, Any],
    ) -> None:  # fmt: skip
        """`me`'s change of a contact (fields `before` and `after` it) in the change feed
        and the audit trail (in the caller's transaction)."""
        self._log(db, now, ChangeEntity.CONTACT, contact.id, action, me.name)
        self._trail.record(
            db,
            self.actor(me),
            now,
            action,
            "contact",
            contact.id,
            customer_id=contact.customer_id,
            changes=diff(before, after),
        )

    def _profile_changed(
        self,
        db: Any,
        customer_id: int,
        now: int,
        summary: str,
        payload: dict[str, Any],
        channel: str = "",
    ) -> None:
        """A change of the customer's profile on their timeline."""
        self._add_event(db, customer_id, now, EventKind.PROFILE_CHANGE, channel, summary, payload)

    def _audit_read(self, customer_id: int, what: str) -> None:
        """Record a read of a customer's data, when read audit is on."""
        if self._read_audit:
            self._record_read(customer_id, READ_ACTION, {"what": what})

    def _record_read(self, customer_id: int, action: str, detail: dict[str, Any]) -> None:
        """An audit entry for a read, in its own transaction: into `audit_store` when this
        store is read-only (a server's supervisors); a read-only store records nothing."""
        store = self._audit_store or (None if self.store.read_only else self.store)
        if store is None:
            return
        with store.write() as db:
            self._trail.record(
                db,
                self.actor(),
                records.to_ts(self.clock()),
                action,
                "customer",
                customer_id,
                customer_id=customer_id,
                detail=detail,
            )

    # -- the trail ----------------------------------------------------------------------

    def audit_log(self, **filters: Any) -> AuditPage:
        """See `Backend.audit_log` (its filters are a `PageQuery`'s)."""
        self._admin("read the audit trail")
        query = PageQuery(**filters)
        with self.store.read() as db:
            return self._trail.page(db, query)

    def verify_audit(self) -> AuditCheck:
        self._admin("verify the audit trail")
        with self.store.read() as db:
            return self._trail.verify(db)

    # -- one person ---------------------------------------------------------------------

    def export_customer(self, customer_id: int) -> PersonalDataExport:
        self._admin("export a person's data")
        customer = self._customer(customer_id)
        events: list[TimelineEvent] = []
        cursor: str | None = None
        while True:
            page = self.timeline(customer_id, cursor=cursor, limit=500)
            events.extend(page.events)
            cursor = page.next_cursor
            if cursor is None:
                break
        entries: list[AuditEntry] = []
        with self.store.read() as db:
            contact_ids = self._personal.contact_ids(db, customer_id)
            cursor = None
            while True:
                found = self._trail.page(db, PageQuery(customer_id, cursor=cursor, limit=1000))
                entries.extend(found.entries)
                cursor = found.next_cursor
                if cursor is None:
                    break
            held = self._personal.hold(db, customer_id)
        contacts = [self.get_contact(cid) for cid in contact_ids]
        try:
            provenance = self.provenance(customer_id)
        except Unavailable:  # a store without identity resolution keeps none
            provenance = ()
        summary, data = personal_data.export_bundle(
            customer, provenance, events, contacts, entries, held[1] if held else None
        )
        self._record_read(customer_id, "export", {})
        return PersonalDataExport(customer_id, self.clock(), summary, data)

    @contextmanager
    def _erasing(self) -> Iterator[None]:
        """Around an erasure's transaction (SQLite: its secure_delete)."""
        yield

    def _after_erasure(self, counts: Mapping[str, int]) -> bool:
        """After an erasure committed (`counts`: the rows it touched per kind): clear what
        the store keeps of old versions (SQLite's write-ahead log, PostgreSQL's dead rows);
        whether that was done."""
        return True

    def erase_customer(self, customer_id: int) -> ErasureReport:
        me = self._writer()
        self._admin("erase a person's data")
        now_dt = self.clock()
        now = records.to_ts(now_dt)
        with self._erasing(), self.store.write() as db:
            counts, contacts = self._personal.erase(db, customer_id, now)
            self._ensure_agent(db, me, now)
            self._profile_changed(
                db, customer_id, now, f"Personal data erased by {me.name}", {"erased": True}
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "erased", me.name)
            # the trail records that it happened, with counts, never values
            self._audit_customer(db, me, now, "erase", customer_id, detail=counts)
        cleared = self._after_erasure(counts)
        return ErasureReport(customer_id, now_dt, counts, tuple(contacts), cleared)

    def set_legal_hold(self, customer_id: int, held: bool) -> LegalHold:
        me = self._writer()
        self._admin("set a legal hold")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            self._require_customer(db, customer_id)
            was = self._personal.set_hold(db, customer_id, held, me.name, now)
            if was != held:
                self._log(
                    db,
                    now,
                    ChangeEntity.CUSTOMER,
                    customer_id,
                    f"hold:{'on' if held else 'off'}",
                    me.name,
                )
                self._audit_customer(
                    db, me, now, "legal-hold", customer_id, changes={"legal_hold": [was, held]}
                )
        return self.legal_hold(customer_id)

    def legal_hold(self, customer_id: int) -> LegalHold:
        self._admin("read legal holds")
        with self.store.read() as db:
            self._require_customer(db, customer_id)
            found = self._personal.hold(db, customer_id)
        if found is None:
            return LegalHold(customer_id, False)
        return LegalHold(customer_id, True, records.from_ts(found[0]), found[1])
