"""Screen pop, telephony and the knowledge base for SQLite: the contract's CALLS and
KNOWLEDGE methods, the shared flow (backends/desk.py) over backends.sqlite.lookup, calls
and kb.

A mixin of `SQLiteBackend`. Lookup and calls parse phone numbers, so their modules load on
first use (backends.sqlite.deferred).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, cast

from backends.desk import CallRows, DeskFlow, LookupRows
from backends.models import CustomerFacts
from backends.sqlite import deferred, kb

if TYPE_CHECKING:
    from backends.sqlite.store import Store


class DeskOps(DeskFlow):
    """Lookup, calls, naming a caller, and knowledge-base articles over the SQLite store."""

    store: Store
    _kb = kb

    if TYPE_CHECKING:

        def customer_facts(self, customer_id: int) -> CustomerFacts: ...  # SQLiteBackend's

    def _lookup_rows(self) -> LookupRows:
        return cast("LookupRows", deferred.lookup())

    def _call_rows(self) -> CallRows:
        return cast("CallRows", deferred.calls())

    def _card_facts(self, db: sqlite3.Connection, customer_id: int) -> CustomerFacts:
        return self.customer_facts(customer_id)
