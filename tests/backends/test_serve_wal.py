"""A real `vista serve` under concurrent writers keeps its write-ahead log bounded, empties
it when the writes stop, and stops cleanly on SIGTERM (exit 0, log checkpointed)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from backends.models import Role
from backends.sqlite.backend import SQLiteBackend

WAL_BOUND = 32 * 1024 * 1024  # bytes: what the log may reach while four clients write
WRITES_EACH = 150


def _serve(db: Path) -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from console.cli.app import main; main()",
            "--backend",
            f"sqlite:///{db}",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url + "/api/v1/me", timeout=0.5)
            return proc, url
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError(f"vista serve did not start: {proc.communicate()[1]}")
            time.sleep(0.1)


def _wal_size(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_wal_stays_bounded_and_sigterm_checkpoints_it(demo_db: Path) -> None:
    with SQLiteBackend(demo_db, agent="admin", role=Role.ADMIN) as admin:
        token = admin.create_token("writer", Role.OPERATOR, "giulia").token
    proc, url = _serve(demo_db)
    writes, peak, errors = [0], [0], []
    done = threading.Event()

    def write(n: int) -> None:
        auth = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
            for i in range(WRITES_EACH):
                answer = http.post(
                    "/api/v1/inbound",
                    json={
                        "channel": "email",
                        "sender": f"writer{n}.{i}@posta-vista.it",
                        "text": "Buongiorno " * 40,
                        "name": f"Scrive{n} Molto{i}",
                    },
                )
                if answer.status_code != 200:
                    errors.append(answer.text)
                    return
                writes[0] += 1

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _wal_size(demo_db))
            time.sleep(0.02)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    watcher = threading.Thread(target=watch)
    try:
        for t in [*writers, watcher]:
            t.start()
        for t in writers:
            t.join()
        done.set()
        watcher.join()
        assert not errors and writes[0] == 4 * WRITES_EACH
        assert 0 < peak[0] < WAL_BOUND
        deadline = time.monotonic() + 5  # writes stopped: the server empties the log
        while _wal_size(demo_db) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _wal_size(demo_db) == 0
        last = httpx.post(  # one more write: SIGTERM must not leave it in the log
            url + "/api/v1/inbound",
            headers={"authorization": f"Bearer {token}"},
            json={"channel": "email", "sender": "ultimo@posta-vista.it", "text": "Ciao"},
        )
        assert last.status_code == 200 and _wal_size(demo_db) > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(20)
    assert code == 0, proc.stderr.read() if proc.stderr else ""
    assert _wal_size(demo_db) == 0  # checkpointed on the way out
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
