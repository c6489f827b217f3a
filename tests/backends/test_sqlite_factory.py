"""What a server holds over one SQLite file: the store as any agent, sharing two stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends import open_factory
from backends.base import InvalidInput, ReadOnly
from backends.models import Role
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.store import Store


def test_the_factory_opens_the_store_as_any_agent_with_a_role(demo_db: Path) -> None:
    backends = open_factory(str(demo_db))
    try:
        giulia = backends("giulia")
        assert backends("giulia") is giulia  # one backend per (agent, role, read-only)
        assert giulia.whoami().role is Role.OPERATOR
        as_admin = backends("giulia", role=Role.ADMIN)  # a verified token's role rules
        assert as_admin.whoami().role is Role.ADMIN and as_admin.tokens() == ()
        reader = backends("giulia", read_only=True)
        assert reader.read_only
        with pytest.raises(ReadOnly):
            reader.add_customer_note(1, "refused by the store opened mode=ro")
        giulia.close()  # a shared store stays open for every other agent
        assert backends("marco").get_customer(1).id == 1
    finally:
        backends.close()


def test_a_backend_on_a_store_it_was_given_leaves_it_open(demo_db: Path) -> None:
    store = Store(demo_db)
    try:
        with SQLiteBackend(store, agent="admin") as admin:
            assert admin.whoami().role is Role.ADMIN
        assert store.conn.execute("SELECT count(*) FROM customers").fetchone()[0] > 0
    finally:
        store.close()


def test_a_server_serves_a_store_not_another_server() -> None:
    with pytest.raises(InvalidInput, match="serves a store"):
        open_factory("http://127.0.0.1:8750")
