"""The rest of the contract from the shell: the whole timeline page by page, one event,
customer notes and profile corrections, queue counts, the change feed, agents, templates."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backends.sqlite.backend import SQLiteBackend
from console.cli.feed import follow
from tests.conftest import NOW
from tests.unit.test_cli import vista


def _lines(out: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in out.splitlines()]


def _busiest(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT customer_id, count(*) n FROM events GROUP BY customer_id "
            "ORDER BY n DESC LIMIT 1"
        ).fetchone()


def test_the_timeline_pages_follow_the_cursor_to_the_end(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    cid, total = _busiest(demo_db)
    assert total > 7
    whole = vista(
        "--backend", url, "customers", "timeline", str(cid), "--limit", "100000", "--json"
    )
    assert whole.returncode == 0 and "more:" not in whole.stderr
    everything = _lines(whole.stdout)
    assert len(everything) == total
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    paged, cursor, page = [], None, str(total // 3 + 1)  # three pages, the last one short
    while True:  # as a script pages: --limit N, then the cursor it was given
        args = ["--cursor", cursor] if cursor else []
        out = vista(
            "--backend", url, "customers", "timeline", str(cid), "--limit", page, "--json", *args
        )
        assert out.returncode == 0, out.stderr
        paged += _lines(out.stdout)
        if "more: --cursor " not in out.stderr:
            break
        cursor = out.stderr.split("more: --cursor ")[1].split()[0]
    assert [e["id"] for e in paged] == [e["id"] for e in everything]
    assert len(paged) > 2 * int(page)
    orders = _lines(
        vista(
            "--backend",
            url,
            "customers",
            "timeline",
            str(cid),
            "--kind",
            "order",
            "--limit",
            "500",
            "--json",
        ).stdout
    )
    assert orders and {e["kind"] for e in orders} == {"order"}
    bad = vista("--backend", url, "customers", "timeline", str(cid), "--kind", "telepathy")
    assert bad.returncode == 1 and "unknown event kind" in bad.stderr


def test_one_event_shows_its_whole_payload(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    cid, _n = _busiest(demo_db)
    order = _lines(
        vista(
            "--backend",
            url,
            "customers",
            "timeline",
            str(cid),
            "--kind",
            "order",
            "--limit",
            "1",
            "--json",
        ).stdout
    )[0]
    shown = json.loads(
        vista("--backend", url, "customers", "event", str(order["id"]), "--json").stdout
    )
    assert shown == order and shown["payload"]["items"]
    table = vista("--backend", url, "customers", "event", str(order["id"]))
    assert "payload: items" in table.stdout and order["payload"]["number"] in table.stdout
    missing = vista("--backend", url, "customers", "event", "99999999")
    assert missing.returncode == 1 and "no timeline event" in missing.stderr


def test_a_customer_note_and_a_profile_correction(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    note = vista(
        "--backend",
        url,
        "--agent",
        "giulia",
        "customers",
        "note",
        "4",
        "-",
        "--json",
        stdin="Prefers a call after 17:00\n",
    )
    assert note.returncode == 0, note.stderr
    added = json.loads(note.stdout)
    newest = _lines(
        vista("--backend", url, "customers", "timeline", "4", "--limit", "1", "--json").stdout
    )[0]
    assert newest["id"] == added["id"] and "17:00" in newest["summary"] + json.dumps(newest)
    before = json.loads(
        vista("--backend", url, "customers", "show", "4", "--json", "--timeline", "0").stdout
    )["customer"]
    edited = vista(
        "--backend",
        url,
        "--agent",
        "giulia",
        "customers",
        "edit",
        "4",
        "language",
        "de",
        "--if-version",
        str(before["version"]),
        "--json",
    )
    assert edited.returncode == 0, edited.stderr
    after = json.loads(edited.stdout)
    assert after["language"] == "de" and after["version"] > before["version"]
    stale = vista(
        "--backend",
        url,
        "--agent",
        "giulia",
        "customers",
        "edit",
        "4",
        "tier",
        "gold",
        "--if-version",
        str(before["version"]),
    )
    assert stale.returncode == 1 and "changed meanwhile" in stale.stderr
    for args, says in (
        (("birth_date", "1990-13-01"), "YYYY-MM-DD"),
        (("emails", "x@y.z"), "cannot be edited"),
    ):
        bad = vista("--backend", url, "customers", "edit", "4", *args)
        assert bad.returncode == 1 and says in bad.stderr
    refused = vista("--backend", url, "--read-only", "customers", "note", "4", "hi")
    assert refused.returncode != 0 and "read-only" in refused.stderr


def test_queue_count_counts_what_queue_list_lists(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    for filters in (
        (),
        ("--channel", "chat"),
        ("--assignee", "none", "--sla", "at_risk"),
        ("--status", "resolved", "--priority", "urgent"),
    ):
        listed = _lines(
            vista("--backend", url, "queue", "list", "--limit", "100000", "--json", *filters).stdout
        )
        counted = json.loads(vista("--backend", url, "queue", "count", "--json", *filters).stdout)[
            "count"
        ]
        assert counted == len(listed), filters
    assert vista("--backend", url, "queue", "count").stdout.strip().isdigit()


def test_the_change_feed_once_and_followed(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{demo_db}"
    first = json.loads(vista("--backend", url, "changes", "--limit", "3", "--json").stdout)
    assert len(first["changes"]) == 3 and first["cursor"] == first["changes"][-1]["seq"]
    nxt = json.loads(
        vista(
            "--backend", url, "changes", "--since", str(first["cursor"]), "--limit", "2", "--json"
        ).stdout
    )
    assert nxt["changes"][0]["seq"] > first["cursor"]
    backend = SQLiteBackend(demo_db, agent="giulia", clock=lambda: NOW)
    try:
        end = backend.changes(-1).cursor
        backend.add_customer_note(4, "seen by a follower")
        follow(backend, end, 100, json_=True, polls=1)
        seen = _lines(capsys.readouterr().out)
        assert [(c["entity"], c["entity_id"], c["actor"]) for c in seen] == [
            ("customer", 4, "giulia")
        ]
    finally:
        backend.close()


def test_agents_and_templates(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    agents = _lines(vista("--backend", url, "agents", "--json").stdout)
    assert {"name", "display_name", "role"} <= set(agents[0])
    assert "supervisor" in {a["role"] for a in agents}
    templates = _lines(vista("--backend", url, "templates", "--json").stdout)
    assert templates and all(
        set(t["variables"]) <= set(t["body"].replace("{", " ").replace("}", " ").split())
        for t in templates
    )
    chat = _lines(vista("--backend", url, "templates", "--channel", "whatsapp", "--json").stdout)
    assert chat and all(t["channel"] in (None, "whatsapp") for t in chat)
    assert len(chat) < len(templates) or all(t["channel"] is None for t in templates)


def test_enum_options_ignore_case_and_name_the_bad_value(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    mixed = vista(
        "--backend", url, "queue", "count", "--channel", " WhatsApp ", "--status", "OPEN", "--json"
    )
    lower = vista(
        "--backend", url, "queue", "count", "--channel", "whatsapp", "--status", "open", "--json"
    )
    assert mixed.returncode == 0 and mixed.stdout == lower.stdout
    for args, message in (
        (["queue", "list", "--channel", "Pigeon"], "unknown channel 'Pigeon'; use one of: email"),
        (["queue", "list", "--status", "bogus"], "unknown status 'bogus'; use one of: new"),
        (
            ["customers", "timeline", "1", "--kind", "nonsense"],
            "unknown event kind 'nonsense'; use one of: order",
        ),
        (["templates", "--channel", "fax"], "unknown channel 'fax'; use one of: email"),
    ):
        bad = vista("--backend", url, *args)
        assert bad.returncode == 1 and message in bad.stderr, bad.stderr
        assert "is not a valid" not in bad.stderr
