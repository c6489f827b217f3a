"""Dispatcher throughput: queued e-mail replies handed to an SMTP relay on loopback, target
>= 200 messages/s.

    .venv/bin/python bench/dispatch_bench.py [--messages 2000] [--batch 100]

Builds a small demo store in a temporary directory, queues --messages replies through
the SQLite backend (each stored with its outbox row in one transaction), starts an
aiosmtpd relay on 127.0.0.1 in its own process, as a relay is (a test extra: pip
install -e '.[test]'; in the dispatcher's process it would compete for the GIL) and times
`Dispatcher.drain()`: claiming, building the MIME message, the SMTP conversation
over a kept connection, and recording each message as sent (one commit per message,
so a crash never loses one). Prints messages/s for queueing and for dispatching.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller

from backends.channels.config import DispatchSettings, SmtpSettings
from backends.channels.dispatcher import Dispatcher
from backends.channels.smtp import SmtpConnector
from backends.models import Channel, QueueQuery
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.outbox import SQLiteOutbox
from console.demo import generate

TARGET_PER_SECOND = 200.0


class _Count:
    """An aiosmtpd handler that accepts and counts."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 2.0.0 accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _queue(backend: SQLiteBackend, messages: int) -> float:
    """Queue `messages` replies on the store's e-mail contacts; replies/s."""
    contacts = [
        c.id
        for c in backend.queue(
            QueueQuery(unassigned=True, channels=(Channel.EMAIL,)), limit=500
        ).contacts
    ]
    if not contacts:
        raise SystemExit("the demo store has no unassigned e-mail contacts")
    start = time.perf_counter()
    for n in range(messages):
        backend.reply(contacts[n % len(contacts)], f"Risposta numero {n}: il suo ordine è partito.")
    return messages / (time.perf_counter() - start)


def measure(
    messages: int = 2000, batch: int = 100, connections: int = 4, customers: int = 300
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vista.db"
        generate(path, customers, seed=7)
        backend = SQLiteBackend(path, agent="bench")
        queued_per_s = _queue(backend, messages)
        port = _free_port()
        relay = subprocess.Popen(
            [sys.executable, __file__, "--relay", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert relay.stdout is not None and relay.stdin is not None
        relay.stdout.readline()  # "ready"
        try:
            settings = SmtpSettings(
                name="bench",
                channels=frozenset({Channel.EMAIL}),
                host="127.0.0.1",
                port=port,
                security="none",
                sender="Care <care@shop.example>",
            )
            dispatcher = Dispatcher(
                SQLiteOutbox(backend.store),
                lambda: [SmtpConnector(settings)],
                DispatchSettings(batch=batch, connections=connections),
            )
            start, cpu = time.perf_counter(), time.process_time()
            report = dispatcher.drain()
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            dispatcher.close()
        finally:
            got, _ = relay.communicate("", timeout=30)  # EOF: the relay says how many it got
            backend.close()
        if report.sent != messages or int(got) != messages:
            raise SystemExit(f"sent {report.sent}, relay got {got.strip()}, wanted {messages}")
        return {
            "messages": float(messages),
            "queue_per_s": queued_per_s,
            "dispatch_per_s": messages / seconds,
            "dispatch_seconds": seconds,
            "dispatch_cpu_ms_per_message": cpu * 1000 / messages,
        }


def relay(port: int) -> None:
    """The relay process: accept until standard input closes, then print the count."""
    handler = _Count()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(handler.count, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--connections", type=int, default=4, help="SMTP sessions at once")
    parser.add_argument("--relay", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay:
        relay(args.relay)
        return
    result = measure(args.messages, args.batch, args.connections)
    ok = result["dispatch_per_s"] >= TARGET_PER_SECOND
    print(
        f"queued {int(result['messages'])} replies at {result['queue_per_s']:.0f}/s; "
        f"dispatched them to SMTP on loopback in {result['dispatch_seconds']:.2f} s: "
        f"{result['dispatch_per_s']:.0f} messages/s, "
        f"{result['dispatch_cpu_ms_per_message']:.2f} ms of the dispatcher's CPU each "
        f"(target >= {TARGET_PER_SECOND:.0f}: {'ok' if ok else 'MISSED'})"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
