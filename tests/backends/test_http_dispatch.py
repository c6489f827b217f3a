"""`vista serve` sends the replies it accepts: a background dispatcher over the served store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.smtp_server import SmtpServer, free_port

VISTA = [str(Path(sys.executable).with_name("vista"))]


def _token(store: Path) -> str:
    made = subprocess.run(
        [
            *VISTA,
            "--backend",
            f"sqlite:///{store}",
            "--agent",
            "admin",
            "tokens",
            "create",
            "--name",
            "ops",
        ]
        + ["--role", "operator", "--agent", "giulia"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_a_reply_posted_to_the_api_is_queued_then_sent_by_the_server(
    demo_template: Path, tmp_path: Path
) -> None:
    store = tmp_path / "team.db"
    shutil.copy(demo_template, store)
    token = _token(store)
    headers = {"Authorization": f"Bearer {token}"}
    with SmtpServer() as relay:
        (tmp_path / "channels.toml").write_text(
            "[dispatch]\npoll_seconds = 0.1\n"
            '[connectors.mail]\ntype = "smtp"\nhost = "127.0.0.1"\n'
            f'port = {relay.port}\nsecurity = "none"\nfrom = "Care <care@shop.example>"\n',
            "utf-8",
        )
        port = free_port()
        proc = subprocess.Popen(
            [*VISTA, "serve", "--backend", f"sqlite:///{store}", "--port", str(port)]
            + ["--log-level", "warning"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "VISTA_CHANNELS": ""},
        )
        api = f"http://127.0.0.1:{port}/api/v1"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(api + "/me", headers=headers, timeout=0.5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and proc.poll() is None, "no server"
                    time.sleep(0.1)
            queue = httpx.get(
                api + "/queue",
                params={"channels": "email", "unassigned": "true", "limit": "1"},
                headers=headers,
            ).json()
            cid = queue["contacts"][0]["id"]
            posted = httpx.post(
                f"{api}/contacts/{cid}/replies",
                json={"body": "Buongiorno dal server, è partito."},
                headers=headers,
            )
            assert posted.status_code == 200, posted.text
            assert posted.json()["delivery"] == "queued"
            refused = httpx.post(
                f"{api}/contacts/{cid}/replies",
                json={"body": "Gentile {first_name}, eccomi"},
                headers=headers,
            )
            assert refused.status_code in (400, 422) and "first_name" in refused.text
            relay.inbox.wait_for(1)
            assert "è partito" in relay.inbox.messages[0].get_content()
            deadline = time.monotonic() + 10
            while True:
                detail = httpx.get(f"{api}/contacts/{cid}", headers=headers).json()
                mine = next(m for m in detail["messages"] if m["id"] == posted.json()["id"])
                if mine["delivery"] == "sent" or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert mine["delivery"] == "sent" and mine["external_id"].endswith("@shop.example>")
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=15)
        assert "dispatching replies through mail" in err
        assert len(relay.inbox.messages) == 1
