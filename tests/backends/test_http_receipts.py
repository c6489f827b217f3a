"""`vista serve` end to end on WhatsApp: its dispatcher sends a reply to the Cloud API (a
loopback stand-in), and the signed status webhooks it then receives mark the message
delivered, then read, in the served store."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx

from backends.models import Delivery
from backends.providers import whatsapp
from backends.sqlite.backend import SQLiteBackend
from tests.backends.test_http_dispatch import VISTA, _token
from tests.provider_api import GRAPH_VERSION, PHONE_NUMBER_ID, WHATSAPP_TOKEN, ProviderApi
from tests.smtp_server import free_port

APP_SECRET = "wa-app-secret-for-serve"
PHONE = "+393331234567"


def _until(check: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _whatsapp_contact(store: Path) -> int:
    """A WhatsApp contact whose customer wrote from PHONE ten minutes ago (window open)."""
    now = int(time.time())
    with closing(sqlite3.connect(store)) as db, db:
        cid = db.execute(
            "SELECT id FROM contacts WHERE channel = 'whatsapp' AND assignee IS NULL "
            "AND status <> 'resolved' ORDER BY id LIMIT 1"
        ).fetchone()[0]
        db.execute(
            "INSERT INTO messages(contact_id, direction, channel, author, body, at, external_id) "
            "VALUES (?, 'inbound', 'whatsapp', ?, 'È partito?', ?, 'wamid.in-serve')",
            (cid, PHONE, now - 600),
        )
        db.execute("UPDATE contacts SET last_inbound_at = ? WHERE id = ?", (now - 600, cid))
    return int(cid)


def test_serve_sends_on_whatsapp_and_its_status_webhooks_mark_delivered_then_read(
    demo_template: Path, tmp_path: Path
) -> None:
    store = tmp_path / "team.db"
    shutil.copy(demo_template, store)
    headers = {"Authorization": f"Bearer {_token(store)}"}
    cid = _whatsapp_contact(store)
    with ProviderApi() as graph:
        channels = tmp_path / "channels.toml"
        channels.write_text(
            "[dispatch]\npoll_seconds = 0.1\n"
            f'[connectors.wa]\ntype = "whatsapp"\nphone_number_id = "{PHONE_NUMBER_ID}"\n'
            f'token_env = "TEST_WA_TOKEN"\napi_url = "{graph.url}/{GRAPH_VERSION}"\n',
            "utf-8",
        )
        port = free_port()
        env = {
            **os.environ,
            "VISTA_CHANNELS": str(channels),
            "TEST_WA_TOKEN": WHATSAPP_TOKEN,
            "VISTA_WHATSAPP_APP_SECRET": APP_SECRET,
        }
        proc = subprocess.Popen(
            [*VISTA, "serve", "--backend", f"sqlite:///{store}", "--port", str(port)]
            + ["--log-level", "warning"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        api = f"http://127.0.0.1:{port}/api/v1"

        def up() -> bool:
            try:
                httpx.get(api + "/me", headers=headers, timeout=0.5)
            except httpx.TransportError:
                assert proc.poll() is None, "the server stopped"
                return False
            return True

        def mine() -> dict[str, object]:
            detail = httpx.get(f"{api}/contacts/{cid}", headers=headers).json()
            return dict(next(m for m in detail["messages"] if m["id"] == posted["id"]))

        def status(state: str) -> httpx.Response:
            body = (
                '{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{'
                '"field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [{'
                f'"id": "{wamid}", "status": "{state}", "timestamp": "{int(time.time())}", '
                f'"recipient_id": "{PHONE[1:]}"}}]}}}}]}}]}}'
            ).encode()
            return httpx.post(
                f"{api}/channels/whatsapp/webhook",
                content=body,
                headers={
                    "content-type": "application/json",
                    "x-hub-signature-256": whatsapp.signature(APP_SECRET, body),
                },
            )

        try:
            _until(up, "the server did not start")
            answer = httpx.post(
                f"{api}/contacts/{cid}/replies",
                json={"body": "Sì, è partito stamattina."},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            posted = answer.json()
            _until(lambda: mine()["delivery"] == "sent", "the reply was not sent")
            (sent,) = graph.sends
            assert sent.json()["to"] == PHONE[1:]
            assert sent.json()["text"]["body"] == "Sì, è partito stamattina."
            wamid = str(mine()["external_id"])
            assert wamid.startswith("wamid.")

            assert status("delivered").status_code == 200
            assert mine()["delivery"] == "delivered"
            assert status("read").status_code == 200
            assert mine()["delivery"] == "read"
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=15)
        assert "dispatching replies through wa" in err
    backend = SQLiteBackend(store, agent="giulia")
    try:
        assert backend.get_contact(cid).messages[-1].delivery is Delivery.READ
    finally:
        backend.close()
