"""The demo generator: deterministic, messy in the ways real sources are, never half-written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backends.base import InvalidInput
from backends.demo import generate
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
        phones = [r[0] for r in conn.execute(
            "SELECT json_extract(fields, '$.phone') FROM source_records "
            "WHERE json_extract(fields, '$.phone') IS NOT NULL")]
        multi_source = conn.execute(
            "SELECT count(*) FROM (SELECT customer_id FROM source_records GROUP BY customer_id "
            "HAVING count(DISTINCT source) >= 2)").fetchone()[0]
        open_contacts = conn.execute(
            "SELECT count(*), count(assignee), sum(sla_due_at < ?) FROM contacts "
            "WHERE status <> 'resolved'", (int(NOW.timestamp()),)).fetchone()
        abandoned = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'checkout_step'").fetchone()[0]
        kinds = {r[0] for r in conn.execute("SELECT DISTINCT kind FROM events")}
        order = json.loads(conn.execute(
            "SELECT payload FROM events WHERE kind = 'order' LIMIT 1").fetchone()[0])
    assert any(p.startswith("+39 ") for p in phones) and any(p.startswith("0039") for p in phones)
    assert any(p.isdigit() for p in phones)
    assert multi_source > 100
    total, assigned, breached = open_contacts
    assert total > 10 and 0 < assigned < total and 0 < breached < total
    assert abandoned > 0
    assert {"order", "payment", "web_session", "product_view", "email", "chat", "whatsapp",
            "call", "survey"} <= kinds
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
