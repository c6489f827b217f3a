"""`vista standins`, as `make run` starts it: replies written on the demo store go through
the real outbox and dispatcher (in the `vista serve` it starts) to an SMTP sink and a WhatsApp
Cloud API stand-in on loopback, whose signed status webhooks then mark the WhatsApp reply
delivered and read; everything stops with it, or when its parent process ends."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from backends.models import Channel, Delivery, QueueQuery
from backends.sqlite.backend import SQLiteBackend
from console.demo.standins import channels_toml
from tests.backends.test_http_dispatch import VISTA
from tests.smtp_server import free_port


def _until(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _gone(proc: subprocess.Popen[str]) -> bool:
    return proc.poll() is not None


def _serve_pids(port: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", f"serve .*--port {port}"], check=False, capture_output=True, text=True
    )
    return [int(p) for p in found.stdout.split()]


@pytest.fixture
def store(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo" / "vista-demo.db"
    path.parent.mkdir()
    shutil.copy(demo_template, path)
    return path


def _start(store: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    api = free_port()
    ports = ["--smtp-port", str(free_port()), "--whatsapp-port", str(free_port())]
    proc = subprocess.Popen(
        [*VISTA, "standins", "--db", str(store), *ports, "--api-port", str(api), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, api


@pytest.fixture
def standins(store: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    proc, api = _start(store)
    yield proc, api
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for pid in _serve_pids(api):
        subprocess.run(["kill", str(pid)], check=False)


def _whatsapp_contact(store: Path) -> int:
    """A WhatsApp contact whose customer wrote ten minutes ago (the window is open)."""
    now = int(time.time())
    with closing(sqlite3.connect(store)) as db, db:
        cid = db.execute(
            "SELECT id FROM contacts WHERE channel = 'whatsapp' AND assignee IS NULL "
            "AND status <> 'resolved' ORDER BY id LIMIT 1"
        ).fetchone()[0]
        db.execute("UPDATE contacts SET last_inbound_at = ? WHERE id = ?", (now - 600, cid))
    return int(cid)


def test_replies_on_the_demo_store_reach_the_stand_ins_and_come_back_read(
    store: Path, standins: tuple[subprocess.Popen[str], int]
) -> None:
    proc, api = standins
    _until(lambda: (store.parent / "channels.toml").exists(), "the channels file is written")
    backend = SQLiteBackend(store, agent="demo")
    try:
        email_contact = (
            backend.queue(QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=1)
            .contacts[0]
            .id
        )
        wa_contact = _whatsapp_contact(store)
        mail = backend.reply(email_contact, "La taglia M va bene.")
        chat = backend.reply(wa_contact, "Il suo ordine arriva oggi.")
        assert mail.delivery is Delivery.QUEUED and chat.delivery is Delivery.QUEUED

        def delivery(contact_id: int, message_id: int) -> Delivery | None:
            messages = backend.get_contact(contact_id).messages
            return next(m.delivery for m in messages if m.id == message_id)

        seen: list[Delivery | None] = []

        def read() -> bool:
            state = delivery(wa_contact, chat.id)
            if not seen or seen[-1] is not state:
                seen.append(state)
            return state is Delivery.READ

        _until(read, f"the WhatsApp reply is read (seen {seen})")
        assert seen[-2:] == [Delivery.DELIVERED, Delivery.READ]
        assert delivery(email_contact, mail.id) is Delivery.SENT
    finally:
        backend.close()
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    _until(lambda: _gone(proc), "the stand-ins stop")
    _until(lambda: not _serve_pids(api), "the `vista serve` it started stops too")


def test_the_stand_ins_stop_when_their_parent_has_ended(store: Path) -> None:
    parent = subprocess.Popen(["sleep", "60"])
    proc, api = _start(store, "--parent", str(parent.pid))
    try:
        _until(lambda: bool(_serve_pids(api)), "`vista serve` starts")
        assert proc.poll() is None
        parent.kill()
        parent.wait()
        _until(lambda: _gone(proc), "the stand-ins stop with their parent")
        _until(lambda: not _serve_pids(api), "and so does `vista serve`")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_channels_file_points_the_connectors_at_the_stand_ins(tmp_path: Path) -> None:
    from backends.channels import config

    path = tmp_path / "channels.toml"
    path.write_text(channels_toml(2525, "http://127.0.0.1:2526/v21.0", "DEMO_TOKEN"), "utf-8")
    loaded = config.load(path)
    mail, chat = loaded.connector("mail"), loaded.connector("whatsapp")
    assert isinstance(mail, config.SmtpSettings) and (mail.host, mail.port) == ("127.0.0.1", 2525)
    assert isinstance(chat, config.WhatsAppSettings)
    assert chat.api_url == "http://127.0.0.1:2526/v21.0" and chat.token.env == "DEMO_TOKEN"


def test_the_whatsapp_stand_in_answers_ids_no_earlier_run_gave() -> None:
    """A demo store keeps the wamids of earlier runs: a new run must not give them again,
    or its status webhooks would land on an old message."""
    import httpx

    from console.demo.standins import PHONE_NUMBER_ID, GraphStandIn

    ids = []
    for _run in range(2):
        graph = GraphStandIn(0, "tok", "http://127.0.0.1:9/none", "secret", delays=())
        graph.start()
        try:
            answer = httpx.post(
                f"{graph.url}/{PHONE_NUMBER_ID}/messages",
                json={"messaging_product": "whatsapp", "to": "+393331234567", "type": "text"},
                headers={"authorization": "Bearer tok"},
            )
            ids.append(answer.json()["messages"][0]["id"])
            refused = httpx.post(
                f"{graph.url}/{PHONE_NUMBER_ID}/messages",
                json={"to": "+393331234567"},
                headers={"authorization": "Bearer wrong"},
            )
            assert refused.status_code == 401
        finally:
            graph.stop()
    assert ids[0] != ids[1] and all(i.startswith("wamid.") for i in ids)
