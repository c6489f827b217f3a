"""Type-ahead from the first keystroke: one-character prefixes, and the migration that adds them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from backends.sqlite.store import SCHEMA_VERSION


def vista(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from console.cli.app import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_store_of_schema_5_is_upgraded_and_finds_one_character_prefixes(tmp_path: Path) -> None:
    old = tmp_path / "v5.db"
    made = subprocess.run(  # an empty store as schema 5 made it (today's code writes newer rows)
        [
            sys.executable,
            "-c",
            (
                "import sys, backends.sqlite.store as s\n"
                "s.MIGRATIONS = s.MIGRATIONS[:5]; s.SCHEMA_VERSION = 5\n"
                "from backends.sqlite.backend import SQLiteBackend\n"
                "SQLiteBackend(sys.argv[1], create=True).close()"
            ),
            str(old),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    firsts = ["Mario", "Giulia", "Marco", "Anna", "Luca", "Sara"]
    lasts = ["Rossi", "Bianchi", "Esposito", "Ricci", "Marino", "Greco", "Bruno", "Gallo"]
    with sqlite3.connect(old) as conn:  # customers and their search rows as schema 5 kept them
        for i in range(60):
            first, last = firsts[i % len(firsts)], lasts[i % len(lasts)]
            email = f"{first}.{last}{i}@example.it".lower()
            cid = conn.execute(
                "INSERT INTO customers(first_name, last_name, emails, created_at, updated_at) "
                "VALUES (?, ?, ?, 0, 0)",
                (first, last, json.dumps([email])),
            ).lastrowid
            conn.execute(
                "INSERT INTO customer_search(rowid, name, emails, phones, orders) "
                "VALUES (?, ?, ?, '', '')",
                (cid, f"{first} {last}", email),
            )
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
        before = conn.execute("SELECT count(*) FROM customer_search").fetchone()[0]
        first = conn.execute("SELECT first_name FROM customers ORDER BY id LIMIT 1").fetchone()[0]
    out = vista("--backend", f"sqlite:///{old}", "customers", "search", first[0], "--json")
    assert out.returncode == 0, out.stderr
    hits = [json.loads(line) for line in out.stdout.splitlines()]
    assert hits and all(
        any(w.lower().startswith(first[0].lower()) for w in (h["name"] + " " + h["email"]).split())
        for h in hits
    )
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM customer_search").fetchone()[0] == before
        sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'customer_search'"
        ).fetchone()[0]
    assert "'1 2 3 4 5 6'" in sql
    assert vista("db", "check", "--db", str(old)).returncode == 0


def test_first_keystroke_lists_names_then_phones_starting_with_it(demo_template: Path) -> None:
    from backends.sqlite.backend import SQLiteBackend

    backend = SQLiteBackend(demo_template, agent="giulia", read_only=True)
    try:
        by_letter = backend.search_customers("m", limit=10)
        assert len(by_letter) == 10 and len({h.id for h in by_letter}) == 10
        assert all(any(w.lower().startswith("m") for w in h.name.split()) for h in by_letter)
        assert {h.matched for h in by_letter} == {"name"}
        by_digit = backend.search_customers("3", limit=5)
        assert by_digit and all(h.matched == "phone" for h in by_digit)
        for h in by_digit:
            phones = backend.get_customer(h.id).phones
            assert any(
                p.lstrip("+")[2:].startswith("3") or p.lstrip("+").startswith("3") for p in phones
            )
        # a second keystroke ranks again, names first
        two = backend.search_customers("ma", limit=5)
        assert two and all(any(w.lower().startswith("ma") for w in h.name.split()) for h in two)
    finally:
        backend.close()
