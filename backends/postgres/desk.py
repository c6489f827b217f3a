"""Screen pop, telephony and the knowledge base for PostgreSQL: the contract's CALLS and
KNOWLEDGE methods, the shared flow (backends/desk.py) over backends.postgres.calls and kb.

A mixin of `PostgresBackend`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backends.desk import CallRows, DeskFlow, LookupRows
from backends.models import CustomerFacts
from backends.postgres import calls, facts, kb

if TYPE_CHECKING:
    from backends.postgres.store import PgStore


class DeskOps(DeskFlow):
    """Lookup, calls, naming a caller, and knowledge-base articles over the PostgreSQL store."""

    store: PgStore
    _kb = kb

    def _lookup_rows(self) -> LookupRows:
        return calls

    def _call_rows(self) -> CallRows:
        return calls

    def _card_facts(self, db: Any, customer_id: int) -> CustomerFacts:
        return facts.customer_facts(db, customer_id)
