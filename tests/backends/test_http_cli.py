"""End to end from the shell: `vista tokens`, `vista serve`, and the CLI with --backend http://."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

VISTA = [str(Path(sys.executable).with_name("vista"))]


def _vista(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VISTA, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
    )


@pytest.fixture
def store(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "team.db"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def server(store: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            *VISTA,
            "serve",
            "--backend",
            f"sqlite:///{store}",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url + "/api/v1/me", timeout=0.5)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError(
                    f"vista serve did not start: {proc.communicate()[1]}"
                ) from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


def test_tokens_create_prints_only_the_token(store: Path) -> None:
    made = _vista(
        "--backend",
        f"sqlite:///{store}",
        "--agent",
        "admin",
        "tokens",
        "create",
        "--name",
        "desk-1",
        "--role",
        "operator",
        "--agent",
        "giulia",
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.count("\n") == 1 and made.stdout.startswith("vista_")
    listed = _vista(
        "--backend", f"sqlite:///{store}", "--agent", "admin", "tokens", "list", "--json"
    )
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["name"], r["role"], r["agent"], r["revoked_at"]) for r in rows] == [
        ("desk-1", "operator", "giulia", None)
    ]
    assert made.stdout.strip() not in listed.stdout
    bad = _vista(
        "--backend",
        f"sqlite:///{store}",
        "--agent",
        "admin",
        "tokens",
        "create",
        "--name",
        "x",
        "--role",
        "god",
    )
    assert bad.returncode == 1 and "unknown role" in bad.stderr and bad.stdout == ""


@pytest.mark.parametrize("who", [[], ["--agent", "giulia"], ["--agent", "anna"]])
def test_only_an_admin_manages_tokens_on_a_local_store(store: Path, who: list[str]) -> None:
    """The local owner (a login the store does not know), an operator and a supervisor may
    not print a token, even an operator's, nor list or revoke one; the demo's admin may."""
    local = ["--backend", f"sqlite:///{store}"]
    refused = ("only an admin", "read-only", "no agent named")
    for role in ("admin", "operator"):
        made = _vista(*local, *who, "tokens", "create", "--name", f"x-{role}", "--role", role)
        assert made.returncode == 1 and made.stdout == "", made.stderr
        assert any(r in made.stderr for r in refused)
    assert _token(store, "desk", "operator", "giulia").startswith("vista_")
    listed = _vista(*local, *who, "tokens", "list")
    assert listed.returncode == 1 and any(r in listed.stderr for r in refused)
    revoked = _vista(*local, *who, "tokens", "revoke", "desk")
    assert revoked.returncode == 1
    listed = _vista(*local, "--agent", "admin", "tokens", "list", "--json")
    assert [json.loads(line)["revoked_at"] for line in listed.stdout.splitlines()] == [None]


def test_a_store_without_an_admin_lets_its_owner_make_the_first_admin_token(
    tmp_path: Path,
) -> None:
    from backends.sqlite.store import Store

    Store(tmp_path / "new.db", create=True).close()  # a new, empty store: no agents at all
    local = ["--backend", f"sqlite:///{tmp_path / 'new.db'}"]
    operator = _vista(*local, "tokens", "create", "--name", "ops", "--role", "operator")
    assert operator.returncode == 1 and "only an admin" in operator.stderr
    first = _vista(*local, "tokens", "create", "--name", "first-admin", "--role", "admin")
    assert first.returncode == 0 and first.stdout.startswith("vista_"), first.stderr
    second = _vista(*local, "tokens", "create", "--name", "admin-2", "--role", "admin")
    # the owner is no longer a store without agents' owner: a login it does not know
    assert second.returncode == 1 and "no agent named" in second.stderr
    by_admin = _vista(
        *local, "--agent", "first-admin", "tokens", "create", "--name", "ops", "--role", "operator"
    )
    assert by_admin.returncode == 0, by_admin.stderr


def _token(store: Path, name: str, role: str, agent: str | None = None) -> str:
    """A new token made by `vista tokens create` on the local store (printed alone)."""
    made = _vista(
        "--backend",
        f"sqlite:///{store}",
        "--agent",
        "admin",
        "tokens",
        "create",
        "--name",
        name,
        "--role",
        role,
        "--agent",
        agent or name,
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_cli_against_a_served_store(store: Path, server: str) -> None:
    operator = _token(store, "ops", "operator", "giulia")
    supervisor = _token(store, "boss", "supervisor", "anna")
    listed = _vista(
        "--backend", server, "--token", operator, "queue", "list", "--json", "--limit", "5"
    )
    assert listed.returncode == 0, listed.stderr
    contacts = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(contacts) == 5 and all("priority" in c for c in contacts)
    local = _vista("--backend", f"sqlite:///{store}", "queue", "list", "--json", "--limit", "5")
    assert local.stdout == listed.stdout  # the same answer from the file and from the server
    unassigned = _vista(
        "--backend",
        server,
        "--token",
        operator,
        "queue",
        "list",
        "--json",
        "--assignee",
        "none",
        "--limit",
        "1",
    )
    cid = json.loads(unassigned.stdout)["id"]
    refused = _vista("--backend", server, "--token", supervisor, "contacts", "claim", str(cid))
    assert refused.returncode == 1 and "read-only" in refused.stderr
    claimed = _vista(
        "--backend", server, "contacts", "claim", str(cid), "--json", env={"VISTA_TOKEN": operator}
    )
    assert claimed.returncode == 0 and json.loads(claimed.stdout)["assignee"] == "giulia"
    assert _vista("--backend", server, "--token", "vista_bad", "queue", "list").returncode == 1
    revoked = _vista(
        "--backend", f"sqlite:///{store}", "--agent", "admin", "tokens", "revoke", "ops"
    )
    assert revoked.returncode == 0
    after = _vista("--backend", server, "--token", operator, "queue", "list")
    assert after.returncode == 1 and "revoked" in after.stderr


def test_vista_import_against_a_server(store: Path, server: str, tmp_path: Path) -> None:
    admin, operator = _token(store, "root", "admin"), _token(store, "ops", "operator")
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "id,first_name,last_name,email\nR1,Ottavia,Zanardelli,oz@example.org\nR2,broken\n", "utf-8"
    )
    refused = _vista(
        "--backend", server, "--token", operator, "import", str(crm), "--source", "crm"
    )
    assert refused.returncode == 1 and "admin token" in refused.stderr
    shown = _vista("--backend", server, "--token", admin, "import", str(crm), "--source", "crm")
    assert shown.returncode == 0, shown.stderr
    assert "crm.csv line 3: expected 4 columns, found 2 (skipped)" in shown.stderr
    assert shown.stdout.startswith("Imported 2 rows from crm.csv as crm customers: 1 new")
    again = _vista(
        "--backend", server, "--token", admin, "import", str(crm), "--source", "crm", "--json"
    )
    report = json.loads(again.stdout)
    assert (report["created"], report["unchanged"], report["skipped"]) == (0, 1, 1)
    found = _vista(
        "--backend", server, "--token", operator, "customers", "search", "Zanardelli", "--json"
    )
    assert found.returncode == 0 and "Ottavia Zanardelli" in found.stdout


def test_scripting_commands_answer_the_same_from_a_server(store: Path, server: str) -> None:
    operator = _token(store, "ops", "operator", "giulia")
    local = ["--backend", f"sqlite:///{store}"]
    remote = ["--backend", server, "--token", operator]
    for args in (
        ("customers", "timeline", "4", "--limit", "30", "--json"),
        ("queue", "count", "--channel", "email", "--json"),
        ("templates", "--json"),
        ("agents", "--json"),
        ("changes", "--limit", "20", "--json"),
    ):
        here, there = _vista(*local, *args), _vista(*remote, *args)
        assert there.returncode == 0, (args, there.stderr)
        assert here.stdout == there.stdout, args
    noted = _vista(*remote, "customers", "note", "4", "left over HTTP", "--json")
    assert noted.returncode == 0, noted.stderr
    event = json.loads(noted.stdout)
    shown = _vista(*remote, "customers", "event", str(event["id"]), "--json")
    assert json.loads(shown.stdout)["id"] == event["id"]


def test_changes_follow_over_http_prints_a_change_as_it_happens(store: Path, server: str) -> None:
    operator = _token(store, "ops", "operator", "giulia")
    follower = subprocess.Popen(
        [*VISTA, "--backend", server, "--token", operator, "changes", "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        time.sleep(1.5)  # it has taken the current end of the feed and is waiting
        made = _vista("--backend", server, "--token", operator, "customers", "note", "4", "hi")
        assert made.returncode == 0, made.stderr
        import select

        ready, _w, _x = select.select([follower.stdout], [], [], 5)  # within seconds, not 25
        assert ready, "the followed change did not arrive within 5 s"
        line = follower.stdout.readline()  # type: ignore[union-attr]
        change = json.loads(line)
        assert (change["entity"], change["entity_id"], change["actor"]) == ("customer", 4, "giulia")
    finally:
        follower.terminate()
        follower.wait(10)


def test_serve_on_a_taken_port_says_so_and_changes_nothing(store: Path) -> None:
    before = store.read_bytes()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = _vista("serve", "--backend", f"sqlite:///{store}", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"vista: error: 127.0.0.1:{port} is in use (another "
        "`vista serve`?): stop that or pick another --port"
    )
    assert "Vista API for" not in done.stderr  # no address announced that is not served
    bad_host = _vista("serve", "--backend", f"sqlite:///{store}", "--host", "nosuch.invalid")
    assert bad_host.returncode == 1 and "no such interface or host name" in bad_host.stderr
    assert store.read_bytes() == before
