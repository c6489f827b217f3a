"""`vista standins`: the demo's providers on loopback, and `vista serve` sending to them.

`make run` starts it in the background next to the console: an SMTP sink for e-mail, a
stand-in of the WhatsApp Cloud API, a channels file pointing the connectors at them, and
`vista serve` on the demo store, whose dispatcher sends the replies written in the console
and whose webhook takes the stand-in's signed status callbacks. The console sees the states
change through its change feed. Everything stops with the console (`--parent`).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from backends import local_path
from backends.base import Unavailable
from backends.providers.settings import WHATSAPP_APP_SECRET
from console.cli.kit import STATE, handles_errors
from console.cli.output import stderr

#: The environment variable that carries the stand-in's access token to the connector.
TOKEN_ENV = "VISTA_DEMO_WHATSAPP_TOKEN"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _vista() -> list[str]:
    """How to run `vista` again: the script beside this Python, else through it."""
    script = Path(sys.executable).with_name("vista")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from console.entry import main; main()"]


def _say(text: str) -> None:
    stderr.print(text, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add `standins` to the `vista` command."""

    @app.command("standins")
    @handles_errors
    def standins(
        db: Annotated[
            Path | None,
            typer.Option(help="The demo store (default: the global --backend's file)."),
        ] = None,
        smtp_port: Annotated[
            int, typer.Option(help="The SMTP sink's port.", min=1, max=65535)
        ] = 8725,
        whatsapp_port: Annotated[
            int, typer.Option(help="The WhatsApp Cloud API stand-in's port.", min=1, max=65535)
        ] = 8726,
        api_port: Annotated[
            int,
            typer.Option(
                help="`vista serve`'s port (its webhooks take the statuses).", min=1, max=65535
            ),
        ] = 8727,
        channels: Annotated[
            Path | None,
            typer.Option(
                "--channels",
                metavar="FILE",
                help="Where to write the channels file (default: channels.toml next to the store).",
            ),
        ] = None,
        parent: Annotated[
            int | None,
            typer.Option(
                help="Stop when the process with this id has ended (the console's shell)."
            ),
        ] = None,
    ) -> None:
        """Loopback stand-ins of an SMTP relay and the WhatsApp Cloud API, and `vista serve`
        on the store sending replies to them, so a reply shows queued, sent, delivered and
        read without a provider account. Runs until interrupted (or `--parent` ends)."""
        from console.demo.standins import GraphStandIn, SmtpSink, channels_toml

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's own chatter
        store = db if db is not None else local_path(STATE.url, "the stand-ins serve")
        if not store.exists():
            raise Unavailable(f"no store at {store}: `vista demo --db {store}` makes one")
        channels_file = channels or store.parent / "channels.toml"
        token, app_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        webhook = f"http://127.0.0.1:{api_port}/api/v1/channels/whatsapp/webhook"
        try:
            sink = SmtpSink(smtp_port)
            sink.start()
        except (OSError, RuntimeError) as e:
            raise Unavailable(f"the SMTP sink cannot listen on 127.0.0.1:{smtp_port}: {e}") from e
        try:
            graph = GraphStandIn(whatsapp_port, token, webhook, app_secret)
        except OSError as e:
            sink.stop()
            raise Unavailable(
                f"the WhatsApp stand-in cannot listen on 127.0.0.1:{whatsapp_port}: {e.strerror}"
            ) from e
        graph.start()
        channels_file.write_text(channels_toml(sink.port, graph.url, TOKEN_ENV), "utf-8")
        env = {**os.environ, TOKEN_ENV: token, WHATSAPP_APP_SECRET: app_secret}
        command = [*_vista(), "serve", "--backend", f"sqlite:///{store}"]
        command += ["--port", str(api_port), "--channels", str(channels_file)]
        server = subprocess.Popen([*command, "--log-level", "warning"], env=env)
        _say(
            f"stand-ins: SMTP sink on 127.0.0.1:{sink.port}, WhatsApp Cloud API on {graph.url}; "
            f"`vista serve` on 127.0.0.1:{api_port} dispatches {store} ({channels_file})"
        )
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                if server.poll() is not None:
                    _say(f"stand-ins: `vista serve` exited with {server.returncode}")
                    break
                if parent is not None and not _alive(parent):
                    break
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
            graph.stop()
            sink.stop()
