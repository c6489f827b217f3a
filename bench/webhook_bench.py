"""The webhook section of `make bench`: a customer's WhatsApp message, posted to `vista serve`
as the Cloud API posts it (signed with the app secret), until its new contact is in the
queue of another operator's console, a `changes()` consumer over HTTP.

The consumer reacts as the console does to a change: it re-reads its queue page, and reads
the changed contacts (`get_contact`) until the webhook's one is there, a queue contact of
the sender's name (the page itself is sorted by priority and SLA: a new contact of normal
priority is rarely on the first 50 rows of thousands). Two ways of reading the feed:

- long-poll: `changes(cursor, wait=...)`, answered as soon as the write lands; the time
  of the pipeline itself (webhook, store, change feed, queue page);
- the console's held reads: `wait_changes(cursor, timeout=1 s)` in a loop, as the
  workspace follows a server's feed (console.screens.workspace.LIVE_WAIT), the webhook
  arriving at a random moment of the second, as customers' messages do;
- a once-a-second tick: `changes(cursor)` every second (how the console reads the
  embedded store's feed, `poll_interval`), the webhook at a random moment of the second.

The server runs in its own process on a copy of the benchmark store (the messages create
customers and contacts; the cached store stays as it was). The ratio divides the
long-poll p50 by the p50 of the change-feed figure of the same run (the http section's
`change feed poll + queue page`, or the same measure taken here when that section did not
run).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from backends.providers import whatsapp

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
#: The console's poll of the embedded store's feed (console/host.py's default poll_interval).
CONSOLE_TICK = 1.0
#: How long each of the console's held reads of a server's feed waits (workspace.LIVE_WAIT).
CONSOLE_WAIT = 1.0
CHANGE_FEED_ROW = "http: change feed poll + queue page"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _copy(db: Path, into: Path) -> Path:
    """A consistent copy of the store (SQLite's online backup: the WAL included)."""
    target = into / "webhook.db"
    source = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest, pages=65536)
    finally:
        dest.close()
        source.close()
    return target


def _vista(db: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from console.cli.app import main; main()"]
        + ["--backend", f"sqlite:///{db}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout.strip()


def _serve(db: Path, port: int, app_secret: str) -> subprocess.Popen[str]:
    env = {**os.environ, "VISTA_WHATSAPP_APP_SECRET": app_secret}
    env.pop("VISTA_CHANNELS", None)  # no dispatcher: inbound only
    proc = subprocess.Popen(
        [sys.executable, "-c", "from console.cli.app import main; main()", "serve"]
        + ["--backend", f"sqlite:///{db}", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=0.5)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"vista serve did not start: {proc.communicate()[1]}") from None
            time.sleep(0.2)


def _notification(n: int, name: str) -> bytes:
    """A Cloud API text-message webhook body from a new customer (wa_id unique per run)."""
    wa_id = f"39347{os.getpid() % 1000:03d}{n:04d}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.bench{time.time_ns()}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "Il mio ordine non è ancora arrivato."},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


class Console:
    """Another operator's console over HTTP: reads the change feed, and on a contact
    change re-reads its queue page, until the contact of `expect` shows."""

    def __init__(self, backend: Any, long_poll: bool, wait: float = 5.0) -> None:
        self.backend = backend
        self.long_poll = long_poll
        self.wait = wait
        self.cursor = backend.changes(-1).cursor
        self.wanted: str | None = None
        self.seen_at = 0.0
        self.found = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def expect(self, name: str) -> None:
        self.found.clear()
        self.wanted = name

    def _run(self) -> None:
        from backends.models import QUEUE_STATUSES as QUEUED
        from backends.models import ChangeEntity, QueueQuery

        try:
            while not self.stop.is_set():
                tick = time.monotonic()
                if self.long_poll:
                    batch = self.backend.wait_changes(self.cursor, timeout=self.wait)
                else:
                    batch = self.backend.changes(self.cursor)
                self.cursor = batch.cursor
                wanted = self.wanted
                changed = {c.entity_id for c in batch.changes if c.entity is ChangeEntity.CONTACT}
                if changed:
                    self.backend.queue(QueueQuery(), limit=50)  # the console's page, re-read
                for contact_id in sorted(changed, reverse=True) if wanted else ():
                    contact = self.backend.get_contact(contact_id).contact
                    if contact.customer_name.startswith(wanted) and contact.status in QUEUED:
                        self.seen_at = time.perf_counter()
                        self.wanted = None
                        self.found.set()
                        break
                if not self.long_poll:
                    self.stop.wait(max(0.0, CONSOLE_TICK - (time.monotonic() - tick)))
        except BaseException as e:  # noqa: BLE001 - reported by the caller
            self.error = e
            self.found.set()


def _measure(
    url: str,
    token: str,
    app_secret: str,
    runs: int,
    long_poll: bool,
    first: int,
    answered: list[float] | None = None,
    wait: float = 5.0,
) -> list[float]:
    """Milliseconds from each webhook POST to its contact in the consumer's queue page
    (and, into `answered`, until the POST was answered)."""
    from backends.http.client import HTTPBackend

    backend = HTTPBackend(url, token=token, retries=0)
    console = Console(backend, long_poll, wait)
    console.thread.start()
    rng = random.Random(first)
    samples: list[float] = []
    try:
        with httpx.Client(base_url=url, timeout=10) as poster:
            for i in range(runs):
                name = f"Benchwh{first + i:05d} Rossi"
                body = _notification(first + i, name)
                headers = {
                    "content-type": "application/json",
                    "x-hub-signature-256": whatsapp.signature(app_secret, body),
                }
                if not long_poll or wait == CONSOLE_WAIT:
                    time.sleep(rng.uniform(0, CONSOLE_TICK))  # any moment of the console's second
                console.expect(f"Benchwh{first + i:05d}")
                started = time.perf_counter()
                answer = poster.post(WEBHOOK, content=body, headers=headers)
                answer.raise_for_status()
                if answered is not None:
                    answered.append((time.perf_counter() - started) * 1000)
                if not console.found.wait(15):
                    raise RuntimeError(f"the contact of webhook {i} never reached the queue")
                if console.error is not None:
                    raise RuntimeError(f"the consumer failed: {console.error}")
                samples.append((console.seen_at - started) * 1000)
    finally:
        console.stop.set()
        console.thread.join(10)
        backend.close()
    return samples


def run(db: Path, runs: int, results: list[Any]) -> None:
    """Add the webhook figures to `results` (bench.run's Result list)."""
    from bench.console_bench import collect

    try:
        _run(db, runs, results)
    finally:
        collect(results)


def _run(db: Path, runs: int, results: list[Any]) -> None:
    from backends.http.client import HTTPBackend
    from bench.run import add, record, timed

    workdir = Path(tempfile.mkdtemp(prefix="vista-webhook-bench-"))
    server = None
    try:
        store = _copy(db, workdir)
        token = _vista(
            store,
            "--agent",
            "admin",
            "tokens",
            "create",
            "--name",
            "webhook-bench",
            "--role",
            "operator",
            "--agent",
            "marco",
        )
        app_secret = secrets.token_hex(16)
        port = _free_port()
        server = _serve(store, port, app_secret)
        url = f"http://127.0.0.1:{port}"
        existing = next((r for r in results if r.metric == CHANGE_FEED_ROW), None)
        if existing is None:  # the http section did not run: the same measure, here
            backend = HTTPBackend(url, token=token, retries=0)
            cursor = backend.changes(-1).cursor
            existing = record(
                "webhook: change feed poll + queue page (as the http section's)",
                timed(lambda i: (backend.changes(cursor), backend.queue(limit=50)), runs * 3),
                note="the change-feed figure the ratio below divides by",
            )
            backend.close()
        _measure(url, token, app_secret, 3, True, 9000)  # warm the server and the copy
        answered: list[float] = []
        pipeline = record(
            "webhook: WhatsApp POST -> contact in another console's queue (long-poll)",
            _measure(url, token, app_secret, runs, True, 0, answered),
            limit_p95=1000,
            note="signed Cloud API POST to `vista serve`, new customer and contact; the "
            "consumer long-polls changes() over HTTP, re-reads its queue page and the contact",
        )
        record(
            "webhook: the POST answered (message stored, new customer and contact)",
            answered,
            note="of the row above: the rest is the change feed and the queue page",
        )
        ticks = max(20, runs // 2)
        record(
            "webhook: WhatsApp POST -> contact in another console's queue (console, held reads)",
            _measure(url, token, app_secret, ticks, True, 7000, wait=CONSOLE_WAIT),
            limit_p95=1000,
            note=f"as the console follows a server's feed: wait_changes() held up to "
            f"{CONSOLE_WAIT:g} s each, the POST at a random moment of that second",
        )
        record(
            "webhook: WhatsApp POST -> contact in another console's queue (1 s poll)",
            _measure(url, token, app_secret, ticks, False, 5000),
            limit_p95=1000,
            note=f"as the console reads a local store's feed: changes() every {CONSOLE_TICK:g} s, the "
            "POST at a random moment of that second (the tick alone is up to 1 s)",
        )
        assert pipeline.p50 is not None and existing.p50 is not None
        add(
            "webhook: long-poll p50 / change feed poll p50",
            pipeline.p50 / existing.p50,
            "x",
            note=f"same run; the change-feed figure is {existing.metric!r}",
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)
