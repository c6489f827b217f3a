"""The demo generator: deterministic, messy in the ways real sources are, never half-written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backends import record_fields
from backends.base import InvalidInput
from console.demo import generate
from tests.conftest import NOW


def _dump(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT c.id, c.first_name, c.last_name, c.emails, "
            "(SELECT count(*) FROM events e WHERE e.customer_id = c.id), "
            "(SELECT group_concat(source_id) FROM source_records r WHERE r.customer_id = c.id) "
            "FROM customers c ORDER BY c.id"
        ).fetchall()


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"
    generate(a, 60, seed=1, now=NOW)
    generate(b, 60, seed=1, now=NOW)
    generate(c, 60, seed=2, now=NOW)
    assert _dump(a) == _dump(b)
    assert _dump(a) != _dump(c)


def test_demo_has_the_usual_mess(demo_template: Path) -> None:
    with sqlite3.connect(demo_template) as conn:
        phones = [
            f["phone"]
            for f in (
                record_fields.loads(fields, keys, sid)
                for fields, keys, sid in conn.execute(
                    "SELECT r.fields, s.keys, r.source_id FROM source_records r "
                    "LEFT JOIN record_shapes s ON s.id = r.shape"
                )
            )
            if f.get("phone") is not None
        ]
        multi_source = conn.execute(
            "SELECT count(*) FROM (SELECT customer_id FROM source_records GROUP BY customer_id "
            "HAVING count(DISTINCT source) >= 2)"
        ).fetchone()[0]
        open_contacts = conn.execute(
            "SELECT count(*), count(assignee), sum(sla_due_at < ?) FROM contacts "
            "WHERE status <> 'resolved'",
            (int(NOW.timestamp()),),
        ).fetchone()
        abandoned = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'checkout_step'"
        ).fetchone()[0]
        kinds = {r[0] for r in conn.execute("SELECT DISTINCT kind FROM events")}
        order = json.loads(
            conn.execute("SELECT payload FROM events WHERE kind = 'order' LIMIT 1").fetchone()[0]
        )
    assert any(p.startswith("+39 ") for p in phones) and any(p.startswith("0039") for p in phones)
    assert any(p.isdigit() for p in phones)
    assert multi_source > 100
    total, assigned, breached = open_contacts
    assert total > 10 and 0 < assigned < total and 0 < breached < total
    assert abandoned > 0
    assert {
        "order",
        "payment",
        "web_session",
        "product_view",
        "email",
        "chat",
        "whatsapp",
        "call",
        "survey",
    } <= kinds
    assert order["items"] and order["shipping"]["carrier"]


def test_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    path.write_text("precious")
    with pytest.raises(InvalidInput, match="already exists"):
        generate(path, 5, now=NOW)
    assert path.read_text() == "precious"


def test_an_interrupted_run_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.db"

    def boom(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(path, 50, now=NOW, progress=boom, batch_size=10)
    assert list(tmp_path.iterdir()) == []


# -- the bulk build: same data whichever way it is made, same schema as a migrated store ------


def _all_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (the search index through its content table); the store's
    own id (store_meta) is left out: each store has its own."""
    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'customer_search_%' AND name <> 'store_meta' ORDER BY name"
            )
        ]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def test_people_made_in_a_second_process_give_the_same_database(tmp_path: Path) -> None:
    inline, background = tmp_path / "inline.db", tmp_path / "background.db"
    generate(inline, 1200, seed=5, now=NOW, batch_size=200, parallel=False)
    generate(background, 1200, seed=5, now=NOW, batch_size=200, parallel=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["background.db", "inline.db"]
    assert _all_rows(inline) == _all_rows(background)
    with sqlite3.connect(background) as conn:
        # some people's records resolved to another person's customer or a spare id: their
        # events were re-pointed, and every event sits with the customer of its record
        elsewhere = conn.execute(
            "SELECT count(*) FROM source_records "
            "WHERE customer_id <> CAST(substr(source_id, -8) AS INTEGER)"
        ).fetchone()[0]
        misplaced = conn.execute(
            "SELECT count(*) FROM events e JOIN source_records r ON r.id = e.record_id "
            "WHERE r.customer_id <> e.customer_id"
        ).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    assert elsewhere > 0 and misplaced == 0 and events > 10_000


def test_bulk_built_schema_is_the_migrated_schema(demo_template: Path, tmp_path: Path) -> None:
    from backends.sqlite.admin import check
    from backends.sqlite.store import Store

    def per_table_order(conn: sqlite3.Connection) -> dict[tuple[str, str], list[str]]:
        """Each table's indexes and triggers in creation order (the planner's order)."""
        out: dict[tuple[str, str], list[str]] = {}
        for kind, name, table in conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "ORDER BY rowid"
        ):
            out.setdefault((table, kind), []).append(name)
        return out

    fresh = Store(tmp_path / "fresh.db", create=True)
    expected = fresh.conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    expected_order = per_table_order(fresh.conn)
    fresh.close()
    with sqlite3.connect(demo_template) as conn:
        built = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
        ).fetchall()
        assert per_table_order(conn) == expected_order
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 10
    assert [tuple(r) for r in built] == [tuple(r) for r in expected]
    assert check(demo_template) == []  # `vista db check`: integrity and foreign keys


def test_derived_tables_are_what_the_triggers_would_keep(
    demo_template: Path, tmp_path: Path
) -> None:
    """The KPI rollup and survey scores, rebuilt set-wise by the bulk load, equal what the
    store's triggers give when the same events and contacts arrive one by one."""
    from backends.sqlite.store import Store

    replay = Store(tmp_path / "replay.db", create=True)
    db = replay.conn
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("ATTACH DATABASE ? AS demo", (str(demo_template),))
    columns = ", ".join(r[1] for r in db.execute("PRAGMA demo.table_info(contacts)"))
    with replay.write() as w:
        w.execute("INSERT INTO events SELECT * FROM demo.events ORDER BY id")
        w.execute(
            f"INSERT INTO contacts({columns}) SELECT {columns} FROM demo.contacts ORDER BY id"
        )
    for table in ("kpi_hourly", "kpi_agent_hourly", "survey_scores"):
        ours = db.execute(f"SELECT * FROM demo.{table} ORDER BY 1, 2, 3").fetchall()
        theirs = db.execute(f"SELECT * FROM main.{table} ORDER BY 1, 2, 3").fetchall()
        assert ours and [tuple(r) for r in ours] == [tuple(r) for r in theirs], table
    replay.close()


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in args and "console.demo.producer" in args:
            found.append(args)
    return found


def test_an_interrupted_parallel_run_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.db"

    def boom(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(path, 3000, now=NOW, progress=boom, batch_size=200, parallel=True)
    assert list(tmp_path.iterdir()) == []
    if Path("/proc/self").exists():
        assert _processes_mentioning(str(tmp_path)) == []  # the people's process is gone


def test_inbound_messages_come_from_the_customers_own_numbers_and_addresses(
    demo_template: Path,
) -> None:
    with sqlite3.connect(demo_template) as conn:
        rows = conn.execute(
            "SELECT m.author, c.emails, c.phones FROM messages m "
            "JOIN contacts k ON k.id = m.contact_id JOIN customers c ON c.id = k.customer_id "
            "WHERE m.direction = 'inbound'"
        ).fetchall()
    assert rows
    strangers = [
        a for a, emails, phones in rows if a not in json.loads(emails) + json.loads(phones)
    ]
    assert strangers == []


def test_a_contact_about_an_order_names_one_placed_shortly_before_it(demo_template: Path) -> None:
    with sqlite3.connect(demo_template) as conn:
        rows = conn.execute(
            "SELECT k.created_at, o.at FROM contacts k JOIN orders o "
            "ON k.subject LIKE '%' || o.number || '%' AND o.customer_id = k.customer_id"
        ).fetchall()
    assert rows  # some subjects do name an order
    assert all(placed <= created <= placed + 90 * 86_400 for created, placed in rows)


def test_churned_customers_have_spent_something(demo_template: Path) -> None:
    with sqlite3.connect(demo_template) as conn:
        churned = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE lifetime_value <= 0) FROM customers "
            "WHERE churn_risk = 1"
        ).fetchone()
    assert churned[0] > 0 and churned[1] == 0
