"""The PostgreSQL backend's audit trail, personal data and inspection: the shared
`GovernanceOps` (backends/governance.py) over this store's SQL (backends/postgres/audit.py,
gdpr.py), and `vista db info/check` (backends/postgres/admin.py)."""

from __future__ import annotations

from collections.abc import Mapping

import psycopg

from backends.governance import GovernanceOps
from backends.models import StoreInfo
from backends.postgres import admin, audit, gdpr
from backends.postgres.store import PgStore


class PgGovernance(GovernanceOps):
    """A mixin of `PostgresBackend`."""

    _trail = audit
    _personal = gdpr
    store: PgStore

    def _after_erasure(self, counts: Mapping[str, int]) -> bool:
        """VACUUM the tables an erasure touched (outside a transaction, so on a connection
        of its own): the old row versions' space is reclaimed."""
        try:
            with self.store.maintenance() as conn:
                return gdpr.vacuum(conn, counts)
        except psycopg.Error:
            return False

    def store_info(self) -> StoreInfo:
        with self.store.read() as db:
            return admin.info(db, self.store.location)

    def check_store(self) -> tuple[str, ...]:
        with self.store.read() as db:
            return tuple(admin.check(db))
