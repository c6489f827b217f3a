"""The queue pages operators poll read their rows in queue order from an index on
PostgreSQL, however the contacts are spread: a plan that sorts every matching contact per
page (what the planner chose for the Unassigned queue at a million contacts) makes 200
operators wait on each other."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from backends import open_backend
from backends.models import QueueQuery
from backends.postgres.backend import PostgresBackend
from tests.postgres_server import PostgresServer

#: Contacts like a busy centre's: mostly resolved (and assigned), the unassigned ones new,
#: the open ones held by a few operators.
SPREAD = """
INSERT INTO customers (id, first_name, last_name, created_at, updated_at)
SELECT n, 'Name' || n, 'Surname' || (n % 997), 0, 0 FROM generate_series(1, {n}) n;
INSERT INTO contacts (customer_id, channel, subject, priority, status, created_at, updated_at,
                      sla_due_at, assignee, resolved_at)
SELECT n, (ARRAY['email','chat','whatsapp','phone'])[1 + n % 4], 'subject ' || n, n % 4,
       CASE WHEN n % 100 < {waiting} THEN 'new'
            WHEN n % 100 < {waiting} + 3 THEN 'open' ELSE 'resolved' END,
       n, n, CASE WHEN n % 3 = 0 THEN NULL ELSE 1000000 + n END,
       CASE WHEN n % 100 < {waiting} THEN NULL ELSE 'agent' || (n % 7) END,
       CASE WHEN n % 100 < {waiting} + 3 THEN NULL ELSE n + 10 END
FROM generate_series(1, {n}) n;
ANALYZE;
"""


def _nodes(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"]] + [n for p in plan.get("Plans", ()) for n in _nodes(p)]


@pytest.fixture(scope="module")
def spread(postgres_server: PostgresServer) -> str:
    url = postgres_server.create(postgres_server.new_name())
    open_backend(url).close()  # migrated
    with psycopg.connect(url) as conn:
        for statement in SPREAD.format(n=60_000, waiting=5).split(";"):
            if statement.strip():
                conn.execute(statement)  # type: ignore[call-overload]
    return url


@pytest.mark.parametrize(
    "query",
    [
        QueueQuery(unassigned=True),
        QueueQuery(),
    ],
    ids=["unassigned", "all open"],
)
def test_a_queue_page_reads_its_rows_in_order_without_sorting_them_all(
    spread: str, query: QueueQuery
) -> None:
    with open_backend(spread, agent="giulia") as backend:
        assert isinstance(backend, PostgresBackend)
        page = backend.queue(query, limit=50).contacts
        assert len(page) == 50  # there is work waiting, and the page has it in queue order
        sql, params = backend.queue_sql(query, None, 51)
    with psycopg.connect(spread) as conn:
        explained = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()
    assert explained is not None
    nodes = _nodes(explained[0][0]["Plan"])
    assert "Sort" not in nodes and "Incremental Sort" not in nodes, nodes


def test_a_queue_page_is_never_prepared(spread: str) -> None:
    """A prepared statement may run a generic plan, which does not know the page's LIMIT."""
    with open_backend(spread, agent="giulia") as backend:
        assert isinstance(backend, PostgresBackend)
        for _ in range(8):  # past psycopg's threshold for preparing a statement
            backend.queue(QueueQuery(unassigned=True), limit=50)
        with backend.store.read() as db:  # the pool's one connection, where they ran
            prepared = [
                r[0]
                for r in db.execute("SELECT statement FROM pg_prepared_statements")
                if "ORDER BY c.prio_sort" in r[0]
            ]
    assert prepared == []
