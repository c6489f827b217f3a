"""The identity and import part of the Backend contract on PostgreSQL:
`backends.identity_ops.IdentityOps` over this store's identity modules, with what
PostgreSQL does its own way. An import runs in batches of its own transactions
(backends/postgres/identity/importer.py), serialised per key against other imports."""

from __future__ import annotations

from typing import Any

from backends import identity_ops
from backends.postgres.rows import check_id


class PgIdentity(identity_ops.StoreIdentity):
    """PostgreSQL's identity statements: ids checked against the 64-bit range, values
    refreshed before the audit trail reads a merged profile."""

    REFRESH_BEFORE_AUDIT = True

    def check_id(self, value: int, what: str) -> int:
        return check_id(value, what)

    def refresh_values(self, db: Any, customer_ids: tuple[int, ...], now: int) -> None:
        from backends.postgres import values

        values.refresh(db, customer_ids, now)


class PgIdentityOps(identity_ops.IdentityOps):
    """The identity part of `PostgresBackend`."""

    _identity = PgIdentity("backends.postgres")
