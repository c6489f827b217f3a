"""`vista contacts reply`, `vista dispatch` and `vista channels` as a script runs them,
against a real SMTP server on loopback; and a dispatcher killed mid-dispatch."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backends import ENV_AGENT
from backends.base import InvalidInput
from backends.channels import config
from backends.sqlite.backend import SQLiteBackend
from tests.smtp_server import SmtpServer

SECRET = "hunter2-not-for-your-eyes"


def vista(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from console.cli.app import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def write_channels(
    path: Path, port: int, *, login: bool = False, extra: str = "", dispatch: str = ""
) -> Path:
    auth = 'username = "care"\npassword_env = "TEST_SMTP_SECRET"\n' if login else ""
    path.write_text(
        f"[dispatch]\nbackoff_seconds = 1\n{dispatch}\n"
        f'[connectors.mail]\ntype = "smtp"\nchannels = ["email"]\nhost = "127.0.0.1"\n'
        f'port = {port}\nsecurity = "none"\nfrom = "Care <care@shop.example>"\n{auth}{extra}',
        "utf-8",
    )
    return path


def unassigned_email_contacts(demo_db: Path, n: int) -> list[int]:
    with sqlite3.connect(demo_db) as db:
        return [
            r[0]
            for r in db.execute(
                "SELECT c.id FROM contacts c WHERE c.channel = 'email' AND c.assignee IS NULL "
                "AND c.status <> 'resolved' ORDER BY c.id LIMIT ?",
                (n,),
            )
        ]


def _address(demo_db: Path, contact_id: int) -> str:
    with sqlite3.connect(demo_db) as db:
        return str(
            db.execute(
                "SELECT recipient FROM outbox o JOIN messages m ON m.id = o.message_id "
                "WHERE m.contact_id = ? LIMIT 1",
                (contact_id,),
            ).fetchone()[0]
        )


def test_reply_says_queued_until_dispatch_hands_it_to_the_relay(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    (cid,) = unassigned_email_contacts(demo_db, 1)
    with SmtpServer() as server:
        write_channels(demo_db.parent / "channels.toml", server.port)  # found next to the store
        refused = vista("--backend", url, "contacts", "reply", str(cid), "Gentile {first_name}")
        assert refused.returncode == 1
        assert "{first_name}" in refused.stderr and "unfilled" in refused.stderr
        snippet = vista("--backend", url, "contacts", "reply", str(cid), "Scriva {word} qui")
        assert snippet.returncode == 0, snippet.stderr
        assert snippet.stdout.startswith("queued message ")
        message_id = int(snippet.stdout.split()[2])
        shown = json.loads(vista("--backend", url, "contacts", "show", str(cid), "--json").stdout)
        mine = next(m for m in shown["messages"] if m["id"] == message_id)
        assert mine["delivery"] == "queued" and mine["failure"] is None

        sent = vista("--backend", url, "dispatch")
        assert sent.returncode == 0, sent.stderr
        assert f"message {message_id} sent" in sent.stdout
        assert "sent 1, retrying 0, failed 0; 0 waiting" in sent.stderr
        assert server.inbox.messages[0].get_content().strip() == "Scriva {word} qui"
        shown = json.loads(vista("--backend", url, "contacts", "show", str(cid), "--json").stdout)
        mine = next(m for m in shown["messages"] if m["id"] == message_id)
        assert mine["delivery"] == "sent" and mine["external_id"].endswith("@shop.example>")
        table = vista("--backend", url, "contacts", "show", str(cid))
        assert "sent" in table.stdout


def test_a_permanent_refusal_shows_on_the_message(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    (cid,) = unassigned_email_contacts(demo_db, 1)
    with SmtpServer() as server:
        channels = write_channels(demo_db.parent / "elsewhere.toml", server.port)
        vista("--backend", url, "contacts", "reply", str(cid), "Eccomi")
        server.inbox.answers = ["554 5.7.1 rejected as spam"]
        out = vista("--backend", url, "dispatch", "--channels", str(channels))
        assert out.returncode == 0 and "failed: refused: 554 5.7.1 rejected as spam" in out.stdout
    shown = vista("--backend", url, "contacts", "show", str(cid), "--json")
    last = json.loads(shown.stdout)["messages"][-1]
    assert last["delivery"] == "failed" and "554 5.7.1" in last["failure"]


def test_contacts_retry_sends_a_failed_reply_again_and_refuses_the_rest(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    (cid,) = unassigned_email_contacts(demo_db, 1)
    with SmtpServer() as server:
        channels = write_channels(demo_db.parent / "elsewhere.toml", server.port)
        message_id = int(
            vista("--backend", url, "contacts", "reply", str(cid), "Eccomi").stdout.split()[2]
        )
        early = vista("--backend", url, "contacts", "retry", str(message_id))
        assert early.returncode == 1 and "is queued, not failed" in early.stderr
        server.inbox.answers = ["554 5.7.1 rejected as spam"]
        vista("--backend", url, "dispatch", "--channels", str(channels))

        retried = vista("--backend", url, "contacts", "retry", str(message_id))
        assert retried.returncode == 0, retried.stderr
        assert retried.stdout.strip() == f"queued message {message_id} on email again"
        again = vista("--backend", url, "dispatch", "--channels", str(channels))
        assert f"message {message_id} sent" in again.stdout
        assert len(server.inbox.messages) == 1
    twice = vista("--backend", url, "contacts", "retry", str(message_id), "--json")
    assert twice.returncode == 1 and "is sent, not failed" in twice.stderr
    unknown = vista("--backend", url, "contacts", "retry", "99999999")
    assert unknown.returncode == 1 and "message 99999999 not found" in unknown.stderr
    supervisor = vista("--backend", url, "--agent", "anna", "contacts", "retry", str(message_id))
    assert supervisor.returncode == 1 and "read-only" in supervisor.stderr


def test_contacts_retry_json_is_the_message_queued_again(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    (cid,) = unassigned_email_contacts(demo_db, 1)
    with SmtpServer() as server:
        channels = write_channels(demo_db.parent / "elsewhere.toml", server.port)
        vista("--backend", url, "contacts", "reply", str(cid), "Eccomi")
        server.inbox.answers = ["550 5.1.1 no such user"]
        vista("--backend", url, "dispatch", "--channels", str(channels))
    message_id = json.loads(vista("--backend", url, "contacts", "show", str(cid), "--json").stdout)[
        "messages"
    ][-1]["id"]
    out = vista("--backend", url, "contacts", "retry", str(message_id), "--json")
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["id"] == message_id and shown["delivery"] == "queued"
    assert shown["failure"] is None


def test_dispatch_without_connectors_says_what_to_do(demo_db: Path) -> None:
    out = vista("--backend", f"sqlite:///{demo_db}", "dispatch")
    assert out.returncode == 1 and "no connectors configured" in out.stderr
    remote = vista("--backend", "http://127.0.0.1:9", "dispatch")
    assert remote.returncode == 1 and "vista serve" in remote.stderr


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_channels_list_and_test_name_the_secret_never_show_it(
    demo_db: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{demo_db}"
    with SmtpServer(login=("care", SECRET)) as server:
        channels = write_channels(tmp_path / "channels.toml", server.port, login=True)
        env = {"VISTA_CHANNELS": str(channels), "TEST_SMTP_SECRET": SECRET}
        listed = vista("--backend", url, "channels", "list", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
        assert row["password"] == "$TEST_SMTP_SECRET (set)" and row["name"] == "mail"
        ok = vista("--backend", url, "channels", "test", "mail", env=env)
        assert ok.returncode == 0 and "mail: ok" in ok.stdout and "logged in as care" in ok.stdout
        wrong = vista(
            "--backend", url, "channels", "test", "mail", env={**env, "TEST_SMTP_SECRET": "nope"}
        )
        assert wrong.returncode == 1 and "authentication refused" in wrong.stderr
        unset = vista(
            "--backend", url, "channels", "test", "mail", env={**env, "TEST_SMTP_SECRET": ""}
        )
        assert unset.returncode == 1 and "TEST_SMTP_SECRET is not set" in unset.stderr
        unknown = vista("--backend", url, "channels", "test", "fax", env=env)
        assert unknown.returncode == 1 and "no connector named 'fax'" in unknown.stderr
        for out in (listed, ok, wrong, unset, unknown):
            assert SECRET not in out.stdout + out.stderr
    with sqlite3.connect(demo_db) as db:  # nor in the store
        dump = "\n".join(db.iterdump())
    assert SECRET not in dump


def test_a_password_written_into_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "channels.toml"
    write_channels(path, 25, extra='password = "plain"\n')
    with pytest.raises(InvalidInput, match="does not belong in the file"):
        config.load(path)
    write_channels(path, 25, extra='pasword_env = "X"\n')
    with pytest.raises(InvalidInput, match="unknown key 'pasword_env'"):
        config.load(path)
    write_channels(path, 25, extra="timeout = -1\n")
    with pytest.raises(InvalidInput, match="timeout must be a number"):
        config.load(path)
    path.write_text("[connectors.mail\n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        config.load(path)


def test_the_channels_file_comes_from_the_option_then_the_environment_then_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "vista.db"
    monkeypatch.delenv(config.ENV_CHANNELS, raising=False)
    assert config.locate(None, store) is None
    (tmp_path / "channels.toml").write_text("")
    assert config.locate(None, store) == tmp_path / "channels.toml"
    monkeypatch.setenv(config.ENV_CHANNELS, str(tmp_path / "env.toml"))
    assert config.locate(None, store) == tmp_path / "env.toml"
    assert config.locate(tmp_path / "flag.toml", store) == tmp_path / "flag.toml"


def test_a_dispatcher_killed_mid_dispatch_loses_nothing_and_sends_nothing_twice(
    demo_db: Path,
) -> None:
    url = f"sqlite:///{demo_db}"
    contacts = unassigned_email_contacts(demo_db, 4)
    # three replies to each of four customers, queued as `vista contacts reply` queues them
    # (what the dispatcher does with them is the test; twelve processes only took 10 s)
    writer = SQLiteBackend(demo_db, agent=os.environ[ENV_AGENT])
    try:
        ids = [writer.reply(cid, f"Risposta {n} a {cid}").id for n in range(3) for cid in contacts]
    finally:
        writer.close()
    with SmtpServer() as server:
        server.inbox.delay = 0.25  # every MAIL FROM waits: the kill lands mid-conversation
        channels = write_channels(
            demo_db.parent / "channels.toml",
            server.port,
            dispatch="lease_seconds = 1\nbatch = 12\nconnections = 2",
        )
        follower = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from console.cli.app import main; main()",
                "--backend",
                url,
                "dispatch",
                "--follow",
                "--channels",
                str(channels),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            server.inbox.wait_for(3)
            # kill while both sessions wait in MAIL FROM and every accepted message is
            # recorded: the claimed messages in flight were not taken by the relay. (Killed in
            # the instant between the relay's 250 and that record, a message goes out again
            # with the same Message-ID, which mail systems drop as a duplicate.)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with sqlite3.connect(demo_db) as db:
                    recorded = db.execute(
                        "SELECT count(*) FROM outbox WHERE status = 'sent'"
                    ).fetchone()[0]
                with server.inbox.lock:
                    quiet = server.inbox.waiting == 2 and recorded == len(server.inbox.messages)
                if quiet:
                    break
                time.sleep(0.01)
        finally:
            os.kill(follower.pid, signal.SIGKILL)
            follower.wait(timeout=10)
        with sqlite3.connect(demo_db) as db:
            claimed = db.execute("SELECT count(*) FROM outbox WHERE status = 'sending'").fetchone()
        assert claimed[0] >= 1  # it died holding claimed messages
        got_before = len(server.inbox.messages)
        assert got_before < len(ids)
        time.sleep(1.2)  # the dead dispatcher's lease runs out
        server.inbox.delay = 0
        again = vista("--backend", url, "dispatch")
        assert again.returncode == 0, again.stderr
        server.inbox.wait_for(len(ids))
        message_ids = server.inbox.message_ids()
        assert len(message_ids) == len(ids) == len(set(message_ids))
        # and each customer got their replies in the order they were written
        for cid in contacts:
            bodies = [
                m.get_content().strip()
                for m, to in zip(server.inbox.messages, server.inbox.recipients, strict=True)
                if to == [f"{_address(demo_db, cid)}"]
            ]
            assert bodies == [f"Risposta {n} a {cid}" for n in range(3)]
    with sqlite3.connect(demo_db) as db:
        states = dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
        outbound = db.execute(
            "SELECT count(*) FROM messages WHERE direction = 'outbound' AND delivery = 'sent'"
        ).fetchone()[0]
    assert states == {"sent": len(ids)} and outbound == len(ids)
