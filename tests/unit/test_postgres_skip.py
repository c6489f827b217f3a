"""Without a PostgreSQL, the PostgreSQL tests skip and say why (never silently)."""

from __future__ import annotations

import pytest

from tests import postgres_server


def test_no_postgres_installed_is_a_named_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(postgres_server.ENV_URL, raising=False)
    monkeypatch.setattr(postgres_server, "find_bin", lambda: None)
    server, cluster, why = postgres_server.start_server()
    assert server is None and cluster is None
    assert why.startswith("PostgreSQL tests SKIPPED: no PostgreSQL installed")
    assert "make services" in postgres_server.missing_reason()


def test_a_given_server_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres_server.ENV_URL, "postgresql://vista@db.example/vista")
    server, cluster, why = postgres_server.start_server()
    assert server is not None and cluster is None and why == ""
    assert server.url("other") == "postgresql://vista@db.example/other"
    assert postgres_server.missing_reason() == ""
