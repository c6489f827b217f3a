"""`vista migrate`: a SQLite store copied whole into PostgreSQL, checked, and re-runnable."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends import copy_store, open_backend
from backends.base import Conflict, InvalidInput
from backends.models import QueueQuery
from console.cli.app import app
from tests.postgres_server import PostgresServer


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_migrate_copies_the_demo_store_whole_and_says_so(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    url = postgres_server.create(postgres_server.new_name())
    done = CliRunner().invoke(
        app, ["migrate", "--from", f"sqlite:///{demo_db}", "--to", url, "--json"]
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["problems"] == []
    copied = {t["table"]: t for t in report["tables"]}
    for table in ("customers", "source_records", "identities", "identity_links", "events",
                  "contacts", "messages", "changes", "customer_search"):  # fmt: skip
        assert copied[table]["source"] == copied[table]["target"] == _count(demo_db, table) > 0
    # what a console reads is the same on both stores
    with (
        open_backend(str(demo_db), agent="giulia") as lite,
        open_backend(url, agent="giulia") as pg,
    ):
        assert pg.queue(limit=50) == lite.queue(limit=50)
        assert pg.queue_count(QueueQuery()) == lite.queue_count(QueueQuery())
        first = lite.queue(limit=1).contacts[0].customer_id
        assert pg.customer_view(first) == lite.customer_view(first)
        assert pg.changes(since=-1) == lite.changes(since=-1)


def test_migrate_again_brings_changes_across_and_keeps_rows_written_since(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    url = postgres_server.create(postgres_server.new_name())
    assert copy_store(str(demo_db), url).problems == []
    with sqlite3.connect(demo_db) as conn:
        conn.execute("UPDATE customers SET first_name = 'Renamed' WHERE id = 1")
    with open_backend(url, agent="giulia") as pg:
        note = pg.add_customer_note(2, "written in PostgreSQL after the first copy")
    report = copy_store(str(demo_db), url)
    assert report.problems == []
    with open_backend(url, agent="giulia") as pg:
        assert pg.get_customer(1).first_name == "Renamed"
        assert pg.get_event(note.id).summary.endswith("after the first copy")
        # new ids never collide with copied ones
        assert pg.add_customer_note(3, "after the second copy").id > note.id


def test_migrate_refuses_a_target_that_is_not_postgres(demo_db: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="postgresql://"):
        copy_store(str(demo_db), f"sqlite:///{tmp_path / 'other.db'}")


def test_two_servers_claiming_one_contact_have_one_winner(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    """Two factories (as two `vista serve` processes hold them), racing on one contact."""
    from backends import open_factory

    url = postgres_server.create(postgres_server.new_name())
    copy_store(str(demo_db), url)
    one, two = open_factory(url), open_factory(url)
    try:
        contact = one("giulia").queue(QueueQuery(unassigned=True), limit=1).contacts[0]
        outcomes: dict[str, object] = {}
        start = threading.Barrier(2)

        def claim(name: str, factory: object) -> None:
            start.wait()
            try:
                outcomes[name] = factory(name).claim(contact.id).assignee  # type: ignore[operator]
            except Conflict as e:
                outcomes[name] = e

        threads = [
            threading.Thread(target=claim, args=a) for a in (("giulia", one), ("marco", two))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [v for v in outcomes.values() if isinstance(v, str)]
        assert len(winners) == 1
        assert sum(isinstance(v, Conflict) for v in outcomes.values()) == 1
        assert two("marco").get_contact(contact.id).contact.assignee == winners[0]
    finally:
        one.close()
        two.close()


def _indexes(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            )
        }


def test_the_first_copy_builds_every_index_the_schema_has(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    """The first copy loads empty tables with their indexes dropped and builds them after:
    the store ends with the indexes of a store created empty, and search finds by them."""
    empty = postgres_server.create(postgres_server.new_name())
    open_backend(empty, agent="admin").close()  # migrated, nothing copied
    url = postgres_server.create(postgres_server.new_name())
    assert copy_store(str(demo_db), url).problems == []
    assert _indexes(url) == _indexes(empty) and len(_indexes(url)) > 30
    with open_backend(url, agent="giulia") as pg, open_backend(str(demo_db)) as lite:
        email = lite.get_customer(1).emails[0]
        assert [h.id for h in pg.search_customers(email)] == [
            h.id for h in lite.search_customers(email)
        ]
        assert 1 in [h.id for h in pg.search_customers(email)]
