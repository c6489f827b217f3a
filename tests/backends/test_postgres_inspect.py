"""`vista db info` and `vista db check` on a PostgreSQL store: schema version, sizes and row
estimates per table; the audit chain, rows pointing nowhere and id sequences checked."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from backends import copy_store
from backends.postgres.store import SCHEMA_VERSION
from console.cli.app import app
from tests.postgres_server import PostgresServer


def _vista(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, list(args))
    return done.exit_code, done.stdout, done.stderr


def test_db_info_and_check_on_a_postgres_store(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    url = postgres_server.create(postgres_server.new_name())
    copy_store(str(demo_db), url)
    code, out, err = _vista("--backend", url, "db", "info", "--json")
    assert code == 0, err
    found = json.loads(out)
    assert found["schema_version"] == found["code_schema_version"] == SCHEMA_VERSION
    assert found["tables"]["customers"] > 0 and found["table_bytes"]["customers"] > 0
    assert "audit" in found["tables"] and found["size_bytes"] > 0
    assert found["journal_mode"].startswith("PostgreSQL")
    code, out, err = _vista("--backend", url, "db", "info")
    assert code == 0 and "rows (estimate)" in out and "customers" in out, err
    assert "older schema" not in out
    code, out, err = _vista("--backend", url, "db", "check")
    assert code == 0 and out.strip().endswith(": ok") and "older" not in out, (out, err)

    # what a check finds: a broken chain, an orphan contact, a sequence behind its table
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("SET session_replication_role = replica")  # past the append-only triggers
        pg.execute("UPDATE audit SET agent = 'mallory' WHERE seq = 1")
        pg.execute("UPDATE contacts SET customer_id = 99999999 WHERE id = 1")
        pg.execute("SELECT setval(pg_get_serial_sequence('events', 'id'), 1)")
    code, out, err = _vista("--backend", url, "db", "check", "--json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert any(p.startswith("audit trail: entry 1:") for p in problems), problems
    assert any("contacts point to a missing customers row" in p for p in problems), problems
    assert any("events_id_seq" in p and "collide" in p for p in problems), problems


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_db_info_and_check_report_an_older_schema_without_upgrading_it(
    postgres_server: PostgresServer, version: int
) -> None:
    """Every older schema (one before agents could be disabled, one before the audit trail)
    is reported with its version and how to upgrade it, not a database error; the
    database stays as it was."""
    from backends.postgres import store as pg_store

    url = postgres_server.create(postgres_server.new_name())
    old = pg_store.MIGRATIONS[:version]
    saved = pg_store.MIGRATIONS, pg_store.SCHEMA_VERSION
    pg_store.MIGRATIONS, pg_store.SCHEMA_VERSION = old, len(old)
    try:
        pg_store.PgStore(url).close()
    finally:
        pg_store.MIGRATIONS, pg_store.SCHEMA_VERSION = saved
    upgrade = f"older schema ({version}, this Vista: {SCHEMA_VERSION}): open it once without"
    code, out, err = _vista("--backend", url, "db", "info")
    assert code == 0, err
    assert f"schema {version} " in out and upgrade in out and "audit" not in out
    code, out, err = _vista("--backend", url, "db", "info", "--json")
    assert code == 0 and json.loads(out)["schema_version"] == version, err
    code, out, err = _vista("--backend", url, "db", "check")
    assert code == 0, (out, err)
    assert out.splitlines()[0].endswith(": ok") and upgrade in out
    code, out, err = _vista("--backend", url, "db", "check", "--json")
    found = json.loads(out)
    assert code == 0 and found["ok"], err
    assert (found["schema_version"], found["code_schema_version"]) == (version, SCHEMA_VERSION)
    with psycopg.connect(url) as pg:
        assert pg.execute("SELECT max(version) FROM schema_version").fetchone() == (version,)
