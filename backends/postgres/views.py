"""A customer's reads in the PostgreSQL store: profile, key facts, timeline, and the customer
view that opens all three at once.

Each statement is a round trip to another process, so a read of one customer sends its
statements together (psycopg's pipeline mode): the profile, facts and timeline page of a
view go in one round trip, its read-audit entry (the chain's lock and the linked entry)
and the commit in a second. A read-audit entry commits without waiting for the
write-ahead log's flush (`PgStore.asynchronous_commits`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import tuple_row

from backends import records
from backends.base import Backend, InvalidInput, NotFound
from backends.models import Customer, CustomerFacts, CustomerView, EventKind, TimelinePage
from backends.postgres import facts, rows
from backends.postgres.store import PgStore
from backends.records import customer as customer_model

Conn = psycopg.Connection[Any]

_PROFILE = "SELECT * FROM customers WHERE id = %s"
_RECORDS = "SELECT * FROM source_records WHERE customer_id = %s ORDER BY source, source_id"
_IDENTITIES = (
    "SELECT i.kind, i.value, i.raw, r.source FROM identities i "
    "JOIN source_records r ON r.id = i.record_id WHERE r.customer_id = %s "
    "ORDER BY i.kind, i.value, r.source"
)


def check_limit(limit: int, high: int = 500) -> int:
    """`limit` when it is a page size this store serves, else InvalidInput."""
    if not 1 <= limit <= high:
        raise InvalidInput(f"limit must be between 1 and {high} (got {limit})")
    return limit


class _Queued:
    """A customer read sent but not read back yet: `found` reads the profile row (and so
    every result sent before it), `build` makes the model from it."""

    def __init__(self, profile: Any, build: Callable[[Any], Any]) -> None:
        self.profile = profile
        self.make = build
        self._row: Any = None

    def found(self, customer_id: int) -> Any:
        """The profile's row. Raises NotFound: no such customer."""
        if self._row is None:
            self._row = self.profile.fetchone()
            if self._row is None:
                raise NotFound(f"no customer with id {customer_id}")
        return self._row

    def build(self, customer_id: int) -> Any:
        return self.make(self.found(customer_id))


class ViewQueries(Backend):
    """Mixin for PostgresBackend: a customer's profile, facts and timeline, each one round
    trip, and `customer_view` (all three) in one transaction and two round trips."""

    store: PgStore
    READS_WAIT = True  # every statement is a round trip to the database server

    if TYPE_CHECKING:  # backends/governance.py

        def _audit_read(self, customer_id: int, what: str) -> None: ...

        _read_audit: bool
        _audit_store: Any

    def get_customer(self, customer_id: int) -> Customer:
        rows.check_id(customer_id, "customer id")
        return self._read_audited(customer_id, lambda db: _queue_customer(db, customer_id))  # type: ignore[no-any-return]

    def _customer(self, customer_id: int) -> Customer:
        """`get_customer` without the read audit (the backend's own reads)."""
        rows.check_id(customer_id, "customer id")
        with self.store.pipelined() as db:
            queued = _queue_customer(db, customer_id)
        return queued.build(customer_id)  # type: ignore[no-any-return]

    def customer_facts(self, customer_id: int) -> CustomerFacts:
        rows.check_id(customer_id, "customer id")
        with self.store.pipelined() as db:
            exists = _Queued(db.execute(_EXISTS, (customer_id,)), facts.queue(db, customer_id))
        return exists.build(customer_id)  # type: ignore[no-any-return]

    def timeline(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        cursor: str | None = None,
        limit: int = 50,
    ) -> TimelinePage:
        check_limit(limit)
        rows.check_id(customer_id, "customer id")
        with self.store.pipelined() as db:
            exists = None if cursor is not None else db.execute(_EXISTS, (customer_id,))
            found = _queue_timeline(db, customer_id, kinds, channels, cursor, limit)
        if exists is not None:
            _Queued(exists, _ignore).found(customer_id)
        return _timeline_page(found.fetchall(), limit)

    def customer_view(
        self,
        customer_id: int,
        *,
        kinds: tuple[EventKind, ...] = (),
        channels: tuple[str, ...] = (),
        limit: int = 50,
    ) -> CustomerView:
        """See Backend.customer_view: one transaction, two round trips (one without read
        audit)."""
        check_limit(limit)
        rows.check_id(customer_id, "customer id")

        def queue(db: Conn) -> _Queued:
            profile = _queue_customer(db, customer_id)
            read_facts = facts.queue(db, customer_id)
            events = _queue_timeline(db, customer_id, kinds, channels, None, limit)
            return _Queued(
                profile.profile,
                lambda row: CustomerView(
                    profile.make(row), read_facts(None), _timeline_page(events.fetchall(), limit)
                ),
            )

        return self._read_audited(customer_id, queue)  # type: ignore[no-any-return]

    def _read_audited(self, customer_id: int, queue: Callable[[Conn], _Queued]) -> Any:
        """A read of one customer (`queue` sends its statements) and its read-audit entry,
        when read audit is on, in one transaction: the reads in one round trip, then the
        entry (its lock, the entry linked to the chain's head) with the commit in the
        next, so the chain's lock is held only while the database runs them. The entry is
        kept only for a customer that exists; one for another store (a read-only caller's,
        into the primary) is written after the read, in a transaction of its own."""
        trail = self._audit_store or (None if self.store.read_only else self.store)
        here = self._read_audit and trail is self.store
        with self.store.pipelined() as db:
            queued = queue(db)
            if here:
                queued.found(customer_id)  # the reads: no entry for a missing customer
                with self.store.asynchronous_commits():
                    self._audit_read(customer_id, "profile")
        queued.found(customer_id)
        if self._read_audit and not here and trail is not None:
            with trail.pipelined(), trail.asynchronous_commits():  # two round trips there too
                self._audit_read(customer_id, "profile")
        return queued.build(customer_id)


_EXISTS = "SELECT 1 FROM customers WHERE id = %s"


def _ignore(_row: Any) -> None:
    return None


def _queue_customer(db: Conn, customer_id: int) -> _Queued:
    """A customer's profile, source records and identities, sent."""
    profile = db.execute(_PROFILE, (customer_id,))
    found_records = db.execute(_RECORDS, (customer_id,))
    idents = db.execute(_IDENTITIES, (customer_id,))
    return _Queued(
        profile, lambda row: customer_model(row, idents.fetchall(), found_records.fetchall())
    )


def _queue_timeline(
    db: Conn,
    customer_id: int,
    kinds: tuple[EventKind, ...],
    channels: tuple[str, ...],
    cursor: str | None,
    limit: int,
) -> Any:
    """The statement of a timeline page, sent (one row more than `limit`: is there more?)."""
    where = ["customer_id = %s"]
    params: list[Any] = [customer_id]
    if kinds:
        where.append("kind = ANY(%s)")
        params.append([EventKind(k).value for k in kinds])
    if channels:
        where.append("channel = ANY(%s)")
        params.append(list(channels))
    if cursor is not None:
        at, eid = rows.decode_cursor(cursor, 2)
        where.append("(at, id) < (%s, %s)")
        params.extend((at, eid))
    return db.cursor(row_factory=tuple_row).execute(  # plain tuples: 200 rows read faster
        f"SELECT {rows.EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} "
        "ORDER BY at DESC, id DESC LIMIT %s",
        (*params, limit + 1),
    )


def _timeline_page(found: list[Any], limit: int) -> TimelinePage:
    more = len(found) > limit
    found = found[:limit]
    next_cursor = records.encode_cursor(found[-1][2], found[-1][0]) if more else None
    return TimelinePage(tuple(map(rows.event, found)), next_cursor)
