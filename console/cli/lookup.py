"""`vista lookup` (screen pop: who a phone, e-mail or order number is) and `vista calls`
(telephony events, for scripts and a PBX without a webhook)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

import typer

from backends.base import InvalidInput
from backends.models import CallState, Lookup, utcnow
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, stdout, table
from console.format import money, when
from console.safe_text import clean

calls_app = typer.Typer(help="Telephony events: record a call, list a contact's calls.")


@handles_errors
def lookup(
    value: Annotated[
        str,
        typer.Argument(help="A phone in any format, an e-mail, an order number or a name."),
    ],
    limit: Annotated[int, typer.Option(help="At most this many candidates.", min=1, max=50)] = 5,
    json_: JsonOpt = False,
) -> None:
    """Screen pop: the customer a phone number, e-mail or order number names (or the
    candidates, best first) with tier, segment, flags, open contacts, last order and an
    unfinished checkout. Exit 1 when nobody matches."""
    found = STATE.backend().lookup(value, limit)
    if json_:
        emit_json(found)
    else:
        _print(found)
    if not found.matches:
        raise typer.Exit(1)


def _print(found: Lookup) -> None:
    if not found.matches:
        stdout.print(
            f"nobody matches {clean(found.query)} (read as {found.kind.value})",
            markup=False,
            highlight=False,
        )
        return
    head = "Customer" if found.customer else f"{len(found.matches)} candidates, best first"
    for card in found.matches:
        facts = card.facts
        rows = [
            ("name", clean(card.name) or "(no name)"),
            ("matched", card.matched),
            ("tier", card.tier or "-"),
            ("segment", card.segment or "-"),
            ("flags", ", ".join(clean(f) for f in card.flags) or "-"),
            ("lifetime value", money(card.lifetime_value, card.currency)),
            ("phone", card.phone),
            ("e-mail", clean(card.email)),
        ]
        if facts is not None and facts.last_order_number:
            rows.append(
                (
                    "last order",
                    (
                        f"{clean(facts.last_order_number)} {clean(facts.last_order_status or '')} "
                        f"{when(facts.last_order_at) if facts.last_order_at else ''}"
                    ),
                )
            )
        if facts is not None and facts.checkout_abandoned_at:
            cart = ", ".join(clean(p) for p in facts.checkout_cart)
            rows.append(
                (
                    "unfinished checkout",
                    (
                        f"{when(facts.checkout_abandoned_at)} at "
                        f"{clean(facts.checkout_abandoned_step or '?')}: {cart}"
                    ),
                )
            )
        for contact in card.open_contacts:
            rows.append(
                (
                    f"open contact {contact.id}",
                    (
                        f"{contact.channel.value} {contact.status.value} "
                        f"{clean(contact.subject, max_length=80)} "
                        f"({contact.assignee or 'unassigned'})"
                    ),
                )
            )
        table(f"{head}: {card.id}", ("field", "value"), rows)


def _state(text: str) -> CallState:
    try:
        return CallState(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown call state {text!r}: ringing, answered or ended") from None


@calls_app.command("record")
@handles_errors
@mutating
def calls_record(
    state: Annotated[str, typer.Argument(help="ringing, answered or ended.")],
    caller: Annotated[str, typer.Argument(help="The caller's number, any format.")],
    call_id: Annotated[str, typer.Option("--call-id", help="The telephony's call id.")],
    agent: Annotated[str, typer.Option(help="The agent the call is offered to.")] = "",
    dialled: Annotated[str, typer.Option(help="The number called.")] = "",
    queue: Annotated[str, typer.Option(help="The telephony queue.")] = "",
    extension: Annotated[str, typer.Option(help="The extension it rings on.")] = "",
    recording: Annotated[str, typer.Option(help="A link to the recording.")] = "",
    at: Annotated[
        datetime | None, typer.Option(help="When it happened (default: now), ISO time.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Record a telephony event: a ringing call opens or continues the caller's phone
    contact (and pops it on the console of the agent it is offered to)."""
    call = STATE.backend(write=True).record_call(
        call_id,
        _state(state),
        caller,
        dialled=dialled,
        queue=queue,
        agent=agent,
        extension=extension,
        recording=recording,
        at=at,
    )
    if json_:
        emit_json(call)
        return
    marker = " (new caller)" if call.new_caller else ""
    stdout.print(
        f"call {clean(call.call_id)} {call.state.value}: contact {call.contact_id}, "
        f"customer {call.customer_id}{marker}",
        markup=False,
        highlight=False,
    )


@calls_app.command("list")
@handles_errors
def calls_list(
    contact_id: Annotated[int, typer.Argument(metavar="CONTACT", help="Contact id.")],
    json_: JsonOpt = False,
) -> None:
    """A contact's calls, newest first."""
    found = STATE.backend().calls(contact_id)
    if json_:
        emit_json(found)
        return
    table(
        f"Calls of contact {contact_id}",
        ("call", "state", "caller", "agent", "started", "handle s", "recording"),
        [
            (
                clean(c.call_id),
                c.state.value,
                c.caller,
                clean(c.agent),
                when(c.started_at),
                "" if c.handle_seconds is None else c.handle_seconds,
                clean(c.recording),
            )
            for c in found
        ],
    )


@calls_app.command("demo")
@handles_errors
@mutating
def calls_demo(
    operator: Annotated[str, typer.Option(help="The agent the calls ring for.")] = "demo",
    delay: Annotated[float, typer.Option(help="Seconds before each call rings.", min=0)] = 5.0,
) -> None:
    """The demo's telephony (what `make run` plays beside the console): three finished
    calls, then a valued customer's call ringing for OPERATOR, then a new caller."""
    from console.demo import knowledge  # here: the demo package loads the generator

    backend = STATE.backend(write=True)
    knowledge.past_calls(backend, utcnow())
    stamp = int(time.time())
    for n, caller in enumerate((knowledge.valued_caller(backend), knowledge.NEW_CALLER), 1):
        time.sleep(delay)
        call = knowledge.ring(backend, operator, caller, f"demo-{stamp}-{n}")
        stdout.print(
            f"ringing for {operator}: {call.caller} (contact {call.contact_id})"
            + (" - new caller" if call.new_caller else ""),
            markup=False,
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("lookup")(lookup)
    app.add_typer(calls_app, name="calls")
