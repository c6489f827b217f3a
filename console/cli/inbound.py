"""`vista contacts inbound`: deliver a customer's message from a script, as an integration
does with `POST /api/v1/inbound` (the same contract method, local or remote)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from console.cli.kit import (
    STATE,
    JsonOpt,
    TimeOpt,
    channel_option,
    handles_errors,
    mutating,
    parse_time,
)
from console.cli.output import emit_json, stdout
from console.safe_text import clean


def contacts_inbound(
    channel: Annotated[str, typer.Argument(help="email, chat, phone, whatsapp, sms or web.")],
    sender: Annotated[str, typer.Argument(help="The customer's e-mail address or phone number.")],
    text: Annotated[str, typer.Argument(help="The message; '-' reads it from standard input.")],
    at: TimeOpt = None,
    external_id: Annotated[
        str | None,
        typer.Option(help="The channel's id of the message: delivering it again changes nothing."),
    ] = None,
    name: Annotated[str, typer.Option(help="The sender's name, for a customer created now.")] = "",
    subject: Annotated[str, typer.Option(help="Subject or topic (a new contact's subject).")] = "",
    json_: JsonOpt = False,
) -> None:
    """Deliver a message a customer sent: find (or create) the customer, add it to the
    timeline and open or update their contact on that channel."""
    body = sys.stdin.read() if text == "-" else text
    chosen = channel_option(channel)
    assert chosen is not None
    sent = parse_time(at, datetime.now(UTC).replace(microsecond=0)) if at else None
    result = STATE.backend(write=True).deliver_inbound(
        chosen, sender, body, at=sent, external_id=external_id, name=name, subject=subject
    )
    if json_:
        emit_json(result)
        return
    c = result.contact
    if result.duplicate:
        what = "already delivered: nothing changed"
    else:
        made = [
            w
            for w, yes in (
                ("new customer", result.created_customer),
                ("new contact", result.created_contact),
            )
            if yes
        ]
        what = ", ".join(made) or "added to the open contact"
    stdout.print(
        f"message {result.message.id} -> contact {c.id} ({c.status.value}) of "
        f"{clean(c.customer_name)} (customer {result.customer_id}): {what}",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add `inbound` to the `contacts` group."""
    from console.cli.app import contacts_app

    contacts_app.command("inbound")(mutating(handles_errors(contacts_inbound)))
