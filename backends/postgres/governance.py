"""The PostgreSQL backend's audit trail, personal data and inspection: the contract's
audit_log, verify_audit, export_customer, erase_customer, legal holds, store_info and
check_store, over backends/postgres/audit.py, gdpr.py and admin.py (a mixin of
`PostgresBackend`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

from backends import personal_data, records
from backends.audit_chain import READ_ACTION, Actor
from backends.base import Unavailable
from backends.models import (
    Agent,
    AuditCheck,
    AuditEntry,
    AuditPage,
    ChangeEntity,
    ContactDetail,
    ErasureReport,
    EventKind,
    FieldProvenance,
    LegalHold,
    Origin,
    PersonalDataExport,
    StoreInfo,
    TimelineEvent,
)
from backends.postgres import admin, audit, gdpr
from backends.postgres.store import PgStore

Conn = psycopg.Connection[Any]


class GovernanceOps:
    """Who did what (the audit trail), one person's data (export, erase, hold), and a look
    inside the database; the host class is `PostgresBackend`."""

    store: PgStore
    clock: Callable[[], datetime]

    if TYPE_CHECKING:  # provided by PostgresBackend

        def whoami(self) -> Agent: ...
        def _writer(self) -> Agent: ...
        def _admin(self, doing: str) -> Agent: ...
        def _require_customer(self, db: Conn, customer_id: int) -> None: ...
        def _customer(self, customer_id: int) -> Any: ...
        def timeline(
            self, customer_id: int, *, cursor: str | None = None, limit: int = 50
        ) -> Any: ...
        def get_contact(self, contact_id: int) -> ContactDetail: ...
        def provenance(self, customer_id: int) -> tuple[FieldProvenance, ...]: ...
        @staticmethod
        def _ensure_agent(db: Conn, me: Agent, now: int) -> None: ...
        @staticmethod
        def _log(
            db: Conn, now: int, entity: ChangeEntity, entity_id: int, action: str, actor: str
        ) -> None: ...
        @staticmethod
        def _add_event(
            db: Conn,
            customer_id: int,
            at: int,
            kind: EventKind,
            channel: str,
            summary: str,
            payload: dict[str, Any],
            contact_id: int | None = None,
        ) -> int: ...

    def _audit_setup(
        self, origin: str, token: str | None, read_audit: bool, audit_store: PgStore | None
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

    def _audit_read(self, customer_id: int, what: str) -> None:
        """Record a read of a customer's data, when read audit is on."""
        if self._read_audit:
            self._record_read(customer_id, READ_ACTION, {"what": what})

    def _record_read(self, customer_id: int, action: str, detail: dict[str, Any]) -> None:
        """An audit entry for a read, in its own transaction: through `audit_store` when this
        store is read-only (a server's supervisors); a read-only store records nothing."""
        store = self._audit_store or (None if self.store.read_only else self.store)
        if store is None:
            return
        with store.write() as db:
            audit.record(
                db,
                self.actor(),
                records.to_ts(self.clock()),
                action,
                "customer",
                customer_id,
                customer_id=customer_id,
                detail=detail,
            )

    # -- the audit trail ------------------------------------------------------------

    def audit_log(
        self,
        *,
        customer_id: int | None = None,
        agent: str | None = None,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> AuditPage:
        self._admin("read the audit trail")
        with self.store.read() as db:
            return audit.page(
                db, customer_id=customer_id, agent=agent, since=since, cursor=cursor, limit=limit
            )

    def verify_audit(self) -> AuditCheck:
        self._admin("verify the audit trail")
        with self.store.read() as db:
            return audit.verify(db)

    # -- personal data ----------------------------------------------------------------

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
            contact_ids = [
                int(r[0])
                for r in db.execute(
                    "SELECT id FROM contacts WHERE customer_id = %s ORDER BY created_at, id",
                    (customer_id,),
                )
            ]
            cursor = None
            while True:
                found = audit.page(db, customer_id=customer_id, cursor=cursor, limit=1000)
                entries.extend(found.entries)
                cursor = found.next_cursor
                if cursor is None:
                    break
            held = gdpr.hold(db, customer_id)
        contacts = [self.get_contact(cid) for cid in contact_ids]
        try:
            provenance = self.provenance(customer_id)
        except Unavailable:  # a store without identity resolution keeps no provenance
            provenance = ()
        summary, data = personal_data.export_bundle(
            customer, provenance, events, contacts, entries, held[1] if held else None
        )
        self._record_read(customer_id, "export", {})
        return PersonalDataExport(customer_id, self.clock(), summary, data)

    def erase_customer(self, customer_id: int) -> ErasureReport:
        me = self._writer()
        self._admin("erase a person's data")
        now_dt = self.clock()
        now = records.to_ts(now_dt)
        with self.store.write() as db:
            counts, contacts = gdpr.erase(db, customer_id, now)
            self._ensure_agent(db, me, now)
            self._add_event(
                db,
                customer_id,
                now,
                EventKind.PROFILE_CHANGE,
                "",
                f"Personal data erased by {me.name}",
                {"erased": True},
            )
            self._log(db, now, ChangeEntity.CUSTOMER, customer_id, "erased", me.name)
            audit.record(
                db,
                self.actor(me),
                now,
                "erase",
                "customer",
                customer_id,
                customer_id=customer_id,
                detail=counts,
            )
        # the old row versions stay in the tables' files until VACUUM reclaims them
        try:
            with psycopg.connect(self.store.url, autocommit=True) as conn:
                cleared = gdpr.vacuum(conn)
        except psycopg.Error:
            cleared = False
        return ErasureReport(customer_id, now_dt, counts, tuple(contacts), cleared)

    def set_legal_hold(self, customer_id: int, held: bool) -> LegalHold:
        me = self._writer()
        self._admin("set a legal hold")
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            self._require_customer(db, customer_id)
            db.execute("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
            was = gdpr.set_hold(db, customer_id, held, me.name, now)
            if was != held:
                self._log(
                    db,
                    now,
                    ChangeEntity.CUSTOMER,
                    customer_id,
                    f"hold:{'on' if held else 'off'}",
                    me.name,
                )
                audit.record(
                    db,
                    self.actor(me),
                    now,
                    "legal-hold",
                    "customer",
                    customer_id,
                    customer_id=customer_id,
                    changes={"legal_hold": [was, held]},
                )
        return self.legal_hold(customer_id)

    def legal_hold(self, customer_id: int) -> LegalHold:
        self._admin("read legal holds")
        with self.store.read() as db:
            self._require_customer(db, customer_id)
            found = gdpr.hold(db, customer_id)
        if found is None:
            return LegalHold(customer_id, False)
        return LegalHold(customer_id, True, records.from_ts(found[0]), found[1])

    # -- inspection ---------------------------------------------------------------------

    def store_info(self) -> StoreInfo:
        with self.store.read() as db:
            return admin.info(db, self.store.location)

    def check_store(self) -> tuple[str, ...]:
        with self.store.read() as db:
            return tuple(admin.check(db))
