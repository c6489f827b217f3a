"""The scripting CLI: documented JSON, one-line errors, exit codes, read-only guard."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from backends.sqlite.store import SCHEMA_VERSION

README = Path(__file__).resolve().parents[2] / "README.md"


def vista(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a script would."""
    return subprocess.run(
        [sys.executable, "-c", "from console.cli.app import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def test_customers_search_json_lines(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    shown = json.loads(
        vista("--backend", url, "customers", "show", "4", "--json", "--timeline", "3").stdout
    )
    surname = shown["customer"]["last_name"]
    out = vista("--backend", url, "customers", "search", surname, "--json")
    assert out.returncode == 0, out.stderr
    hits = [json.loads(line) for line in out.stdout.splitlines()]
    assert hits and set(hits[0]) == {"id", "name", "email", "phone", "city", "segment", "matched"}
    assert 4 in [h["id"] for h in hits] or len(hits) == 20
    assert set(shown) == {"customer", "facts", "timeline", "conflicts"}
    assert 0 < len(shown["timeline"]) <= 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown["timeline"][0]["at"])
    assert shown["customer"]["sources"][0]["source"] in ("crm", "webshop", "helpdesk")


def test_queue_list_json_and_filters(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    out = vista("--backend", url, "queue", "list", "--json", "--channel", "chat", "--limit", "5")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert 0 < len(rows) <= 5 and all(r["channel"] == "chat" for r in rows)
    assert {
        "id",
        "customer_name",
        "subject",
        "priority",
        "status",
        "sla_due_at",
        "assignee",
        "version",
    } <= set(rows[0])
    detail = json.loads(
        vista("--backend", url, "contacts", "show", str(rows[0]["id"]), "--json").stdout
    )
    assert detail["contact"]["id"] == rows[0]["id"] and detail["messages"]


def test_people_get_a_table(demo_db: Path) -> None:
    out = vista("--backend", f"sqlite:///{demo_db}", "queue", "list", "--limit", "3")
    assert out.returncode == 0 and "subject" in out.stdout and "priority" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["customers", "show", "999999"], "no customer with id 999999"),
        (["contacts", "show", "999999"], "no contact with id 999999"),
        (["queue", "list", "--status", "bogus"], "unknown status"),
        (["customers", "search", "zzzzqqq"], "no customer matches"),
    ],
)
def test_errors_are_one_line_exit_1(demo_db: Path, args: list[str], message: str) -> None:
    out = vista("--backend", f"sqlite:///{demo_db}", *args)
    assert out.returncode == 1
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_usage_errors_exit_2(demo_db: Path) -> None:
    assert (
        vista("--backend", f"sqlite:///{demo_db}", "queue", "list", "--limit", "x").returncode == 2
    )
    assert vista("no-such-command").returncode == 2


def test_bad_database_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    out = vista("--backend", f"sqlite:///{missing}", "queue", "list")
    assert out.returncode == 1 and str(missing) in out.stderr and not missing.exists()

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database at all" * 100)
    out = vista("--backend", f"sqlite:///{corrupt}", "queue", "list")
    assert out.returncode == 1 and "corrupt" in out.stderr
    assert corrupt.read_bytes() == b"this is not a database at all" * 100

    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 999")
        conn.execute("CREATE TABLE x(y)")
    out = vista("--backend", f"sqlite:///{newer}", "queue", "list")
    assert out.returncode == 1 and "newer" in out.stderr and "999" in out.stderr

    out = vista("--backend", "ftp://example", "queue", "list")
    assert out.returncode == 1 and "unknown backend URL" in out.stderr


def test_locked_database_is_reported(demo_db: Path) -> None:
    holder = sqlite3.connect(demo_db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "import backends.sqlite.store as s; s.BUSY_TIMEOUT_MS = 200\n"
                    "from console.cli.app import main; main()"
                ),
                "--backend",
                f"sqlite:///{demo_db}",
                "--agent",
                "giulia",
                "contacts",
                "note",
                "1",
                "x",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert out.returncode == 1 and "locked" in out.stderr


def test_writes_and_the_read_only_guard(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    rows = [
        json.loads(line)
        for line in vista(
            "--backend",
            url,
            "queue",
            "list",
            "--json",
            "--assignee",
            "none",
            "--channel",
            "email",
            "--limit",
            "1",
        ).stdout.splitlines()
    ]
    cid = str(rows[0]["id"])
    refused = vista("--backend", url, "--agent", "giulia", "--read-only", "contacts", "claim", cid)
    assert refused.returncode == 1 and "read-only" in refused.stderr
    by_supervisor = vista("--backend", url, "--agent", "anna", "contacts", "claim", cid)
    assert by_supervisor.returncode == 1 and "read-only" in by_supervisor.stderr
    claimed = vista("--backend", url, "--agent", "giulia", "contacts", "claim", cid, "--json")
    assert claimed.returncode == 0 and json.loads(claimed.stdout)["assignee"] == "giulia"
    taken = vista("--backend", url, "--agent", "marco", "contacts", "claim", cid)
    assert taken.returncode == 1 and "taken by giulia" in taken.stderr
    sent = vista(
        "--backend",
        url,
        "--agent",
        "giulia",
        "contacts",
        "reply",
        cid,
        "-",
        "--json",
        stdin="Grazie, ci penso io.",
    )
    assert sent.returncode == 0 and json.loads(sent.stdout)["body"] == "Grazie, ci penso io."


def test_demo_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    first = vista("demo", "--customers", "20", "--db", str(db), "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["customers"] == 20
    again = vista("demo", "--customers", "20", "--db", str(db))
    assert again.returncode == 1 and "already exists" in again.stderr


def _commands(app, prefix: str = "") -> list[str]:
    """Every command path of a Typer app."""
    import typer.main

    group = typer.main.get_command(app)
    found: list[str] = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found.append(path)

    walk(group, prefix)
    return found


def test_every_command_is_documented_in_the_readme() -> None:
    from console.cli.app import app

    readme = README.read_text("utf-8")
    missing = [c for c in _commands(app) if f"vista {c}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_default_backend_comes_from_settings_after_flag_and_env(
    demo_db: Path, tmp_path: Path
) -> None:
    import os

    config = tmp_path / "config"
    (config / "vista").mkdir(parents=True)
    (config / "vista" / "settings.json").write_text(
        json.dumps({"default_backend": f"sqlite:///{demo_db}"}), "utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "VISTA_BACKEND"}
    env["XDG_CONFIG_HOME"] = str(config)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    run = [sys.executable, "-c", "from console.cli.app import main; main()"]
    out = subprocess.run(
        [*run, "queue", "list", "--json", "--limit", "1"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and json.loads(out.stdout)["id"], out.stderr
    missing = tmp_path / "missing.db"
    env["VISTA_BACKEND"] = f"sqlite:///{missing}"
    out = subprocess.run(
        [*run, "queue", "list"], env=env, check=False, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1 and str(missing) in out.stderr
    assert not (tmp_path / "data").exists()  # the settings' store was used, no default file made


def test_db_info_looks_inside_an_older_schema_without_upgrading_it(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys, backends.sqlite.store as s\n"
                "s.MIGRATIONS = s.MIGRATIONS[:2]; s.SCHEMA_VERSION = 2\n"
                "s.Store(sys.argv[1], create=True).close()"
            ),
            str(old),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    out = vista("db", "info", "--db", str(old))
    assert out.returncode == 0, out.stderr
    assert "schema 2" in out.stdout and "older schema" in out.stdout and "customers" in out.stdout
    checked = vista("db", "check", "--db", str(old))
    assert checked.returncode == 0 and checked.stdout.startswith(f"{old}: ok\n")
    assert f"older schema (2, this Vista: {SCHEMA_VERSION}): open it once" in checked.stdout
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2  # not upgraded
