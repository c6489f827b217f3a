"""`vista migrate`: a SQLite store copied whole into PostgreSQL, checked, and re-runnable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from backends import copy_store, open_backend
from backends.base import Backend, Conflict, InvalidInput
from backends.models import QueueQuery
from console.cli.app import app
from tests.postgres_server import PostgresServer
from tests.race import at_once


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
    for table in ("customers", "source_records", "identity_links", "events",
                  "contacts", "messages", "changes", "customer_search"):  # fmt: skip
        assert copied[table]["source"] == copied[table]["target"] == _count(demo_db, table) > 0
    # SQLite reads each imported record's own external id from source_records; PostgreSQL
    # keeps it among the identities
    own = _count(demo_db, "record_features")
    assert copied["identities"]["target"] == _count(demo_db, "identities") + own
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


def test_migrate_leaves_the_tables_vacuumed_and_analysed_and_says_so(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    """The first users do not meet autovacuum's first pass over the loaded tables, and the
    planner knows the row counts from the first query."""
    url = postgres_server.create(postgres_server.new_name())
    done = CliRunner().invoke(app, ["migrate", "--from", f"sqlite:///{demo_db}", "--to", url])
    assert done.exit_code == 0, done.output
    assert "VACUUM (ANALYZE)…" in done.stderr and "copied contacts:" in done.stderr
    with psycopg.connect(url) as conn:
        unvacuumed = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname IN "
            "('customers', 'contacts', 'events', 'messages') "
            "AND (last_vacuum IS NULL OR last_analyze IS NULL)"
        ).fetchall()
        estimate = conn.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'contacts'"
        ).fetchone()
    assert unvacuumed == []
    assert estimate is not None and estimate[0] == _count(demo_db, "contacts")


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
        outcomes = at_once(
            [
                lambda: one("giulia").claim(contact.id).assignee,
                lambda: two("marco").claim(contact.id).assignee,
            ],
            expected=(Conflict,),
        )
        winners = [v for v in outcomes if isinstance(v, str)]
        assert len(winners) == 1
        assert sum(isinstance(v, Conflict) for v in outcomes) == 1
        assert two("marco").get_contact(contact.id).contact.assignee == winners[0]
    finally:
        one.close()
        two.close()


ZOO_RULES = """
away_after_minutes = 10
[intents]
zebra_question = ["zebra", "zebre"]
"""


def test_migrate_carries_the_desk_and_again_its_changes(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    """Agents' skills, capacity and presence, the routing rules, the intent model, calls
    and the knowledge base with its use move across, checked, and a second run brings
    what changed since."""
    from backends.knowledge import parse_article
    from backends.models import CallState, Channel, Presence

    with open_backend(str(demo_db), agent="admin") as lite:
        lite.set_routing_rules(ZOO_RULES)
        lite.edit_agent("giulia", intents=("zebra_question",), capacity={"chat": 4})
        lite.set_presence(Presence.ONLINE, agent="giulia")
        lite.train_intents()
        call = lite.record_call("CA-mig", CallState.RINGING, lite.get_customer(2).phones[0])
        article = lite.kb_articles("en")[0]
        lite.kb_use(article.id, call.contact_id, "answer")
    url = postgres_server.create(postgres_server.new_name())
    report = copy_store(str(demo_db), url)
    assert report.problems == []
    copied = {t.table: t for t in report.tables}
    for table in ("settings", "intent_models", "calls", "kb_articles", "kb_terms", "kb_uses"):
        assert copied[table].source == copied[table].target == _count(demo_db, table) > 0
        assert copied[table].sampled > 0 and copied[table].mismatched == []
    question = "I sent the parcel back, when do I get the money?"
    with (
        open_backend(str(demo_db), agent="admin") as lite,
        open_backend(url, agent="admin") as pg,
    ):
        assert pg.agent_states() == lite.agent_states()
        assert pg.routing_rules() == lite.routing_rules()
        assert pg.intent_report() == lite.intent_report() is not None
        text = "I cannot log in to my account, password reset"
        assert pg.classify(text) == lite.classify(text)
        assert pg.calls(call.contact_id) == lite.calls(call.contact_id)
        assert pg.kb_articles() == lite.kb_articles()
        assert pg.kb_usage() == lite.kb_usage()
        hits = pg.kb_search(question, lang="en", intent="refund_status", limit=3)
        assert [h.slug for h in hits][:1] == [
            h.slug for h in lite.kb_search(question, lang="en", intent="refund_status", limit=3)
        ][:1]
    with open_backend(str(demo_db), agent="admin") as lite:
        lite.edit_agent("giulia", capacity={"chat": 5})
        lite.kb_import(
            (
                parse_article(
                    "gift.en", "---\ntitle: Gift cards\nlanguage: en\n---\nNever expire.\n"
                ),
            )
        )
        lite.record_call("CA-mig", CallState.ANSWERED, lite.get_customer(2).phones[0])
    assert copy_store(str(demo_db), url).problems == []
    with open_backend(url, agent="admin") as pg:
        giulia = next(s for s in pg.agent_states() if s.agent.name == "giulia")
        assert giulia.agent.limits == {"chat": 5}
        assert pg.kb_search("expire", lang="en")[0].slug == "gift"
        assert pg.calls(call.contact_id)[0].state is CallState.ANSWERED
        # routing on the copy goes where it would have gone on the original (a write in
        # PostgreSQL: after the last copy, since the audit trails must not grow apart)
        zebra = pg.deliver_inbound(Channel.CHAT, "+39 333 100 0001", "Where is my zebra?")
        assert zebra.contact.assignee == "giulia"


def _sqlite_admin(db: Path) -> Backend:
    return open_backend(str(db), agent="admin")


def test_migrate_carries_the_audit_trail_erasures_and_legal_holds(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    with _sqlite_admin(demo_db) as lite:
        lite.set_legal_hold(4, True)
        lite.add_customer_note(5, "before the move")
        lite.erase_customer(6)
        trail = lite.audit_log(limit=1000).entries
        assert lite.verify_audit().ok
    url = postgres_server.create(postgres_server.new_name())
    done = CliRunner().invoke(
        app, ["migrate", "--from", f"sqlite:///{demo_db}", "--to", url, "--json"]
    )
    assert done.exit_code == 0, done.output
    copied = {t["table"]: t for t in json.loads(done.stdout)["tables"]}
    for table in ("audit", "audit_values", "erasures", "erased_records", "legal_holds"):
        assert copied[table]["source"] == copied[table]["target"] == _count(demo_db, table) > 0
    with open_backend(url, agent="admin") as pg:
        assert pg.audit_log(limit=1000).entries == trail  # the same entries, hashes and values
        assert pg.verify_audit().ok
        assert pg.legal_hold(4).held and pg.legal_hold(4).by == "admin"
        with pytest.raises(Conflict, match="legal hold"):
            pg.erase_customer(4)
        with pytest.raises(Conflict, match="erased already"):
            pg.erase_customer(6)
        assert all(e.erased and not e.changes for e in pg.audit_log(customer_id=6).entries)
        # the chain goes on in PostgreSQL from where SQLite left it
        pg.add_customer_note(5, "after the move")
        newest = pg.audit_log(limit=1).entries[0]
        assert newest.seq == trail[0].seq + 1 and pg.verify_audit().ok


def test_migrate_again_erases_in_postgres_who_was_erased_in_sqlite_since(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    url = postgres_server.create(postgres_server.new_name())
    with _sqlite_admin(demo_db) as lite:
        lite.edit_profile(7, "last_name", "Quarzovich")  # values in the trail
        email = lite.get_customer(7).emails[0]
    assert copy_store(str(demo_db), url).problems == []
    with _sqlite_admin(demo_db) as lite:
        lite.erase_customer(7)
        lite.set_legal_hold(8, True)
    report = copy_store(str(demo_db), url)
    assert report.problems == []
    with open_backend(url, agent="admin") as pg:
        assert pg.verify_audit().ok
        profile = pg.get_customer(7)
        assert not profile.sources and not profile.identities and not profile.emails
        assert pg.search_customers("Quarzovich") == () and pg.search_customers(email) == ()
        assert all(not e.changes for e in pg.audit_log(customer_id=7).entries)
        assert pg.audit_log(customer_id=7, limit=1).entries[0].action == "erase"
        assert pg.legal_hold(8).held
    with psycopg.connect(url) as conn:
        left = conn.execute("SELECT count(*) FROM source_records WHERE customer_id = 7").fetchone()
        assert left == (0,)


def test_migrate_refuses_when_both_trails_grew_apart_and_copies_nothing(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    url = postgres_server.create(postgres_server.new_name())
    assert copy_store(str(demo_db), url).problems == []
    with open_backend(url, agent="admin") as pg:
        pg.add_customer_note(2, "written in PostgreSQL")
    with _sqlite_admin(demo_db) as lite:
        lite.add_customer_note(2, "written in SQLite")
        lite.edit_profile(3, "first_name", "Changed")
    with pytest.raises(Conflict, match="audit trails .* differ from entry"):
        copy_store(str(demo_db), url)
    with open_backend(url, agent="admin") as pg:
        assert pg.get_customer(3).first_name != "Changed"  # nothing of the second run
        assert pg.verify_audit().ok


def test_migrate_says_where_a_copied_chain_breaks(
    postgres_server: PostgresServer, demo_db: Path
) -> None:
    """A trail changed behind the store's back in SQLite is copied as it is, and the copy's
    check names the entry where the chain breaks (exit 1 in the CLI)."""
    with _sqlite_admin(demo_db) as lite:
        for text in ("one", "two"):
            lite.add_customer_note(5, text)
        seq = lite.audit_log(limit=2).entries[1].seq
    with sqlite3.connect(demo_db) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET agent = 'mallory' WHERE seq = ?", (seq,))
    url = postgres_server.create(postgres_server.new_name())
    done = CliRunner().invoke(app, ["migrate", "--from", f"sqlite:///{demo_db}", "--to", url])
    assert done.exit_code == 1
    report = copy_store(str(demo_db), url)
    assert report.problems == [f"audit: the chain breaks at entry {seq}: " + (
        "its content does not match its hash (changed after it was written)"
    )]  # fmt: skip


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
