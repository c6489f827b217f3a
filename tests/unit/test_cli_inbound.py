"""`vista contacts inbound`: a script delivers a customer's message as an integration would
over HTTP; a redelivery changes nothing; bad input is one clear line and stores nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.unit.test_cli import vista


def _counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(  # type: ignore[return-value]
                "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM contacts), "
                "(SELECT count(*) FROM customers)"
            ).fetchone()
        )


def test_a_message_from_a_known_email_joins_that_customer(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    shown = json.loads(vista("--backend", url, "customers", "show", "4", "--json").stdout)
    email = shown["customer"]["emails"][0].upper()  # as a mail client may write it
    before = _counts(demo_db)
    out = vista(
        "--backend",
        url,
        "--agent",
        "demo",
        "contacts",
        "inbound",
        "email",
        email,
        "-",
        "--subject",
        "Where is my order?",
        "--external-id",
        "mail-77",
        "--json",
        stdin="Hello,\nmy parcel has not arrived.\n",
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["customer_id"] == 4 and not got["created_customer"] and not got["duplicate"]
    assert got["message"]["body"].startswith("Hello,\nmy parcel")
    contact = json.loads(
        vista("--backend", url, "contacts", "show", str(got["contact"]["id"]), "--json").stdout
    )
    assert contact["messages"][-1]["id"] == got["message"]["id"]
    again = vista(
        "--backend",
        url,
        "contacts",
        "inbound",
        "email",
        email,
        "Hello again",
        "--external-id",
        "mail-77",
    )
    assert again.returncode == 0 and "already delivered: nothing changed" in again.stdout
    assert _counts(demo_db)[0] == before[0] + 1


def test_a_new_sender_becomes_a_customer_and_hostile_names_are_cleaned(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    out = vista(
        "--backend",
        url,
        "contacts",
        "inbound",
        "sms",
        "+39 333 765 4321",
        "ciao",
        "--name",
        "Mal\u202eory \x1b[31mX",
        "--at",
        "2026-11-20T09:30:00Z",
    )
    assert out.returncode == 0, out.stderr
    assert "new customer, new contact" in out.stdout
    assert "\u202e" not in out.stdout and "\x1b" not in out.stdout


def test_bad_input_is_one_line_and_stores_nothing(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    before = _counts(demo_db)
    for args, says in (
        (("fax", "a@b.it", "hi"), "unknown channel 'fax'"),
        (("sms", "not a phone", "hi"), "neither an e-mail address nor a phone number"),
        (("email", "a@b.it", "   "), "the inbound message is empty"),
        (("email", "a@b.it", "hi", "--at", "yesterday-ish"), "cannot read the time"),
    ):
        out = vista("--backend", url, "contacts", "inbound", *args)
        assert out.returncode == 1 and says in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1
    out = vista("--backend", url, "--read-only", "contacts", "inbound", "email", "a@b.it", "hi")
    assert out.returncode != 0 and "read-only" in out.stderr
    assert _counts(demo_db) == before
