"""`vista mailbox poll`: an IMAP mailbox as the e-mail channel (see backends/providers/imap.py).

The mailbox comes from VISTA_IMAP_HOST, VISTA_IMAP_USER, VISTA_IMAP_PASSWORD (and
optionally VISTA_IMAP_PORT, VISTA_IMAP_MAILBOX, VISTA_IMAP_SECURITY): the password
never travels on the command line. Messages are delivered through the contract
(a local store or a server). Bounces and auto-replies are delivery updates: recorded on the
message they name where the backend keeps the outbox (a local store), and printed.
"""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from backends.base import Capability
from backends.channels.receipts import record
from backends.providers.delivery import DeliveryUpdate
from backends.providers.imap import ImapSettings, MailboxPoller, PollReport
from backends.providers.mail import parse_mail, route_mail
from backends.providers.settings import ChannelSettings
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, stdout
from console.safe_text import clean

mailbox_app = typer.Typer(help="An IMAP mailbox as the e-mail channel.", no_args_is_help=True)


def mailbox_poll(
    once: Annotated[bool, typer.Option("--once", help="Poll once and exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=5.0, help="Seconds between polls when running on.")
    ] = 60.0,
    json_: JsonOpt = False,
) -> None:
    """Deliver the mailbox's unseen messages as e-mail contacts, marking each seen once stored;
    keep polling unless --once."""
    settings = ImapSettings.from_env()
    limit = ChannelSettings.from_env().email_max_bytes
    backend = STATE.backend(write=True)
    outbox = backend.outbox() if Capability.OUTBOX in backend.capabilities else None
    updates: list[tuple[DeliveryUpdate, bool]] = []  # (update, recorded on its message)

    def updated(update: DeliveryUpdate) -> None:
        updates.append((update, outbox is not None and record(outbox, update)))

    def handle(raw: bytes) -> None:
        route_mail(parse_mail(raw, limit), backend, updated)

    def report(done: PollReport) -> None:
        if json_:
            emit_json(
                {
                    "handled": done.handled,
                    "refused": done.refused,
                    "left": done.left,
                    "updates": [
                        {
                            "provider": u.provider,
                            "provider_message_id": u.provider_message_id,
                            "state": u.state.value,
                            "reason": u.reason,
                            "recorded": recorded,
                        }
                        for u, recorded in updates
                    ],
                }
            )
        else:
            for u, recorded in updates:
                stdout.print(
                    f"delivery update: {clean(u.provider_message_id)} {u.state.value} "
                    f"{clean(u.reason)}".rstrip()
                    + ("" if recorded else " (no sent message of this store has that id)"),
                    markup=False,
                    highlight=False,
                )
            stdout.print(
                f"{done.handled} delivered, {done.refused} refused (flagged), {done.left} left",
                markup=False,
                highlight=False,
            )
        updates.clear()

    poller = MailboxPoller(settings, handle)
    if once:
        report(poller.poll_once())
        return
    stop = threading.Event()
    try:
        poller.run(interval, stop, on_report=report)
    except KeyboardInterrupt:
        stop.set()


def register(app: typer.Typer) -> None:
    """Add the `mailbox` group."""
    mailbox_app.command("poll")(mutating(handles_errors(mailbox_poll)))
    app.add_typer(mailbox_app, name="mailbox")
