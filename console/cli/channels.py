"""`vista channels` (the connectors of channels.toml) and `vista dispatch` (send the outbox)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backends import local_path
from backends.base import Backend, Capability, InvalidInput
from backends.channels import config as channels_config
from backends.channels.config import (
    ChannelsConfig,
    ConnectorSettings,
    SmsSettings,
    WhatsAppSettings,
)
from backends.channels.connector import SendError
from backends.channels.receipts import receipt_hook
from backends.models import Role
from backends.providers.delivery import DeliveryHook, DeliveryUpdate, ignore_update
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, emit_jsonl, fail, stderr, stdout, table

if TYPE_CHECKING:
    from backends.channels.connector import Outbound
    from console.server.hub import Hub

channels_app = typer.Typer(
    help="The connectors that carry replies out (channels.toml).", no_args_is_help=True
)

ChannelsOpt = Annotated[
    Path | None,
    typer.Option(
        "--channels",
        metavar="FILE",
        help="The connectors file (default: $VISTA_CHANNELS, else channels.toml next to "
        "the store).",
    ),
]


def load_channels(explicit: Path | None, store: Path | None) -> ChannelsConfig:
    """The channels configuration the options and the environment point at."""
    return channels_config.load(channels_config.locate(explicit, store))


def _store() -> Path:
    return local_path(STATE.url, "dispatching works on", "`vista serve`, which dispatches")


def store_if_local(url: str | None) -> Path | None:
    """The local store a URL names (a channels.toml beside it counts), None for a server."""
    if url and "://" in url and not url.startswith("sqlite://"):
        return None
    return local_path(url)


def start_background(
    backend: Backend, path: Path | None, explicit: Path | None
) -> Callable[[], None] | None:
    """A dispatcher thread over the outbox of the store `vista serve` serves (`path`: where
    a channels.toml beside the store is looked for); returns what stops it (None when no
    connector is configured, or the backend keeps no outbox: replies then stay queued)."""
    from backends.channels.dispatcher import Dispatcher  # here: loads smtplib, ssl

    config = load_channels(explicit, path)
    if not config.connectors:
        stderr.print("no connectors configured: replies stay queued", markup=False)
        return None
    if Capability.OUTBOX not in backend.capabilities:
        stderr.print(f"{backend.location} keeps no outbox: nothing to dispatch", markup=False)
        return None
    dispatcher = Dispatcher.from_config(backend.outbox(), config)
    stop = threading.Event()
    thread = threading.Thread(
        target=dispatcher.run, args=(stop,), name="vista-dispatch", daemon=True
    )
    thread.start()
    names = ", ".join(c.name for c in config.connectors)
    stderr.print(f"dispatching replies through {names} ({config.path})", markup=False)

    def halt() -> None:
        stop.set()
        thread.join(timeout=15)
        backend.close()

    return halt


def _describe(c: ConnectorSettings) -> dict[str, object]:
    """One connector as `channels list` shows it: where a secret comes from, never the secret."""
    row: dict[str, object] = {
        "name": c.name,
        "type": c.kind,
        "channels": sorted(ch.value for ch in c.channels),
    }
    if isinstance(c, WhatsAppSettings):
        return row | {
            "server": c.api_url,
            "security": "https" if c.api_url.startswith("https://") else "none",
            "username": c.phone_number_id,
            "password": c.token.describe(),
            "from": c.phone_number_id,
        }
    if isinstance(c, SmsSettings):
        return row | {
            "server": c.api_url,
            "security": "https" if c.api_url.startswith("https://") else "none",
            "username": c.account_sid,
            "password": c.token.describe(),
            "from": c.sender or c.messaging_service_sid,
        }
    return row | {
        "server": f"{c.host}:{c.port}",
        "security": c.security,
        "username": c.username,
        "password": c.password.describe() if c.password else "none",
        "from": c.sender,
    }


def receipt_recorder(hub: Hub) -> DeliveryHook:
    """`vista serve`'s `on_delivery_update`: each provider's status (and each e-mail
    bounce) on the message it names, in the served store's outbox (delivered, read,
    failed with the reason). A read-only server, or a store without an outbox, logs it."""

    def hook(update: DeliveryUpdate) -> None:
        backend = hub.backend("dispatcher", read_only=False, role=Role.ADMIN)
        if Capability.OUTBOX not in backend.capabilities:
            ignore_update(update)
            return
        receipt_hook(backend.outbox())(update)
        hub.changed.notify()

    return hook


def register(app: typer.Typer) -> None:
    """Add `channels` and `dispatch` to the `vista` command."""
    app.add_typer(channels_app, name="channels")

    @app.command("dispatch")
    @mutating
    @handles_errors
    def dispatch(
        channels: ChannelsOpt = None,
        follow: Annotated[
            bool,
            typer.Option(
                "--follow", help="Keep dispatching until interrupted (default: one pass)."
            ),
        ] = False,
        json_: JsonOpt = False,
    ) -> None:
        """Send the queued replies of a local store through the configured connectors.

        One pass sends what is due now (a failed attempt waits for its retry time);
        --follow keeps going. `vista serve` does this in the background.
        """
        # here: smtplib, ssl and the outbox load only for the commands that send
        from backends.channels.dispatcher import Dispatcher

        path = _store()
        config = load_channels(channels, path)
        if not config.connectors:
            raise InvalidInput(
                "no connectors configured: write a channels.toml (see the README) next to "
                f"{path}, or pass --channels FILE"
            )

        def said(message: Outbound, outcome: str, detail: str) -> None:
            if json_:
                emit_json({"message_id": message.message_id, "outcome": outcome, "detail": detail})
            else:
                stdout.print(
                    f"message {message.message_id} {outcome}: {detail}",
                    markup=False,
                    highlight=False,
                )

        outbox = STATE.backend(write=True).outbox()
        dispatcher = Dispatcher.from_config(outbox, config, on_result=said)
        try:
            if follow:
                stop = threading.Event()
                signal.signal(signal.SIGTERM, lambda *_: stop.set())
                try:
                    dispatcher.run(stop)
                except KeyboardInterrupt:
                    stop.set()
            else:
                report = dispatcher.drain()
                counts = outbox.counts()
                if not json_:
                    stderr.print(
                        f"sent {report.sent}, retrying {report.retried}, failed {report.failed}; "
                        f"{counts.queued + counts.sending} waiting in the outbox",
                        markup=False,
                        highlight=False,
                    )
        finally:
            dispatcher.close()

    @channels_app.command("list")
    @handles_errors
    def channels_list(channels: ChannelsOpt = None, json_: JsonOpt = False) -> None:
        """The configured connectors (where a password comes from, never the password)."""
        store = store_if_local(STATE.url)
        config = load_channels(channels, store)
        rows = [_describe(c) for c in config.connectors]
        if json_:
            emit_jsonl(rows)
            return
        if config.path is None:
            stderr.print("no channels file: replies stay queued", markup=False)
        table(
            str(config.path) if config.path else None,
            ("name", "type", "channels", "server", "security", "username", "password", "from"),
            (
                (
                    str(r["name"]),
                    str(r["type"]),
                    ", ".join(r["channels"]),  # type: ignore[arg-type]
                    str(r["server"]),
                    str(r["security"]),
                    str(r["username"] or ""),
                    str(r["password"]),
                    str(r["from"]),
                )
                for r in rows
            ),
        )

    @channels_app.command("test")
    @handles_errors
    def channels_test(
        name: Annotated[str, typer.Argument(help="The connector's name in channels.toml.")],
        channels: ChannelsOpt = None,
    ) -> None:
        """Connect and log in with one connector, without sending anything."""
        from backends.channels.dispatcher import build_connector  # here: loads smtplib, ssl

        store = store_if_local(STATE.url)
        connector = build_connector(load_channels(channels, store).connector(name))
        try:
            answer = connector.check()
        except SendError as e:
            fail(f"{name}: {e.reason}")
        stdout.print(f"{name}: ok, {answer}", markup=False, highlight=False)
