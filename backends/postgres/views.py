"""Views a console opens in one request, read in one transaction of the PostgreSQL store."""

from __future__ import annotations

from typing import Any

from backends.base import Backend
from backends.models import CustomerView
from backends.postgres.store import PgStore


class ViewQueries(Backend):
    """Mixin for PostgresBackend: `customer_view` (profile, facts, first timeline page) on
    one pooled connection and one commit, where the contract's default takes three."""

    store: PgStore

    def customer_view(self, customer_id: int, **options: Any) -> CustomerView:
        """See Backend.customer_view (`kinds`, `channels`, `limit`)."""
        with self.store.one_transaction():
            return super().customer_view(customer_id, **options)
