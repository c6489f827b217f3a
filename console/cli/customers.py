"""More of `vista customers`: the whole timeline page by page, one event with its payload,
a note on the timeline, and correcting a profile field (what the console's profile and
timeline panes do, for scripts)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from backends.consent import CONSENT_CHANNELS
from backends.models import EventKind
from console.cli.kit import STATE, JsonOpt, enum_values, handles_errors, mutating
from console.cli.output import emit_json, emit_jsonl, fail, stderr, stdout, table
from console.format import when
from console.safe_text import clean

CustomerArg = Annotated[int, typer.Argument(metavar="ID", help="Customer id.")]


def _kinds(values: list[str] | None) -> tuple[EventKind, ...]:
    return enum_values(values, EventKind, "event kind")


def customers_timeline(
    customer_id: CustomerArg,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this event kind (repeatable): order, ticket, chat, email, page_view..."
        ),
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option(help="Only this channel (repeatable).")
    ] = None,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after the page that printed this cursor.")
    ] = None,
    limit: Annotated[
        int, typer.Option(help="At most this many events.", min=1, max=1_000_000)
    ] = 50,
    json_: JsonOpt = False,
) -> None:
    """A customer's unified timeline, newest first, page by page (JSON Lines with --json).
    The cursor to continue from is printed on stderr when there is more."""
    backend = STATE.backend()
    kinds = _kinds(kind)
    channels = tuple(c.strip().lower() for c in channel or ())
    shown = 0
    rows = []
    while shown < limit:
        page = backend.timeline(
            customer_id,
            kinds=kinds,
            channels=channels,
            cursor=cursor,
            limit=min(500, limit - shown),
        )
        shown += len(page.events)
        if json_:
            emit_jsonl(page.events)
        else:
            rows += [
                (e.id, when(e.at), e.kind.value, e.channel, e.source, e.summary)
                for e in page.events
            ]
        cursor = page.next_cursor
        if cursor is None:
            break
    if not json_:
        table(
            f"Timeline of customer {customer_id} (newest first)",
            ("event", "time", "kind", "channel", "source", "summary"),
            rows,
        )
    if cursor is not None:
        stderr.print(f"more: --cursor {cursor}", markup=False, highlight=False)


def customers_event(
    event_id: Annotated[int, typer.Argument(metavar="EVENT", help="Timeline event id.")],
    json_: JsonOpt = False,
) -> None:
    """One timeline event with its whole payload (order lines, page, message...)."""
    event = STATE.backend().get_event(event_id)
    if json_:
        emit_json(event)
        return
    rows = [
        ("customer", event.customer_id),
        ("time", when(event.at)),
        ("kind", event.kind.value),
        ("channel", event.channel),
        ("source", event.source),
        ("summary", event.summary),
        ("contact", event.contact_id or ""),
    ]
    rows += [
        (
            f"payload: {clean(k)}",
            clean(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False), max_length=500),
        )
        for k, v in event.payload.items()
    ]
    table(f"Event {event.id}", ("field", "value"), rows)


def customers_note(
    customer_id: CustomerArg,
    text: Annotated[str, typer.Argument(help="The note; '-' reads it from standard input.")],
    json_: JsonOpt = False,
) -> None:
    """Add a note to a customer's timeline (seen by every operator, never sent)."""
    import sys

    body = sys.stdin.read() if text == "-" else text
    event = STATE.backend(write=True).add_customer_note(customer_id, body)
    if json_:
        emit_json(event)
        return
    stdout.print(f"added note {event.id} to customer {customer_id}", markup=False)


def customers_edit(
    customer_id: CustomerArg,
    field: Annotated[
        str, typer.Argument(help="first_name, last_name, language, segment, tier or birth_date.")
    ],
    value: Annotated[str, typer.Argument(help="The corrected value ('' clears it).")],
    if_version: Annotated[
        int | None,
        typer.Option("--if-version", help="Fail if the customer changed since this version."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Correct one profile field. The correction wins over every source from now on,
    its provenance names you, and it goes on the timeline."""
    customer = STATE.backend(write=True).edit_profile(
        customer_id, field, value, expected_version=if_version
    )
    if json_:
        emit_json(customer)
        return
    stdout.print(
        f"customer {customer.id}: {clean(field)} set (version {customer.version})",
        markup=False,
        highlight=False,
    )


def customers_consent(
    customer_id: CustomerArg,
    set_: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--set",
            metavar="CHANNEL on|off",
            help="Record a consent given (on) or withdrawn (off): email, sms, whatsapp, phone.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """A customer's consent per channel, with where each came from and when. With --set,
    record a consent the customer gave or withdrew (it goes on the timeline)."""
    if set_ is not None:
        if STATE.read_only:
            fail("vista is running --read-only: --set changes data")
        channel, word = set_
        state = word.strip().lower()
        if state not in ("on", "off"):
            fail(f"--set {clean(channel)} {clean(word)}: say on or off", 2)
        customer = STATE.backend(write=True).set_consent(customer_id, channel, state == "on")
    else:
        customer = STATE.backend().get_customer(customer_id)
    if json_:
        emit_json({"customer_id": customer.id, "consents": list(customer.consent_log)})
        return
    given = {c.channel: c for c in customer.consent_log}
    table(
        f"Consents of customer {customer.id}",
        ("channel", "consent", "source", "since"),
        (
            (
                channel.value,
                ("yes" if given[channel.value].granted else "no")
                if channel.value in given
                else "not given",
                given[channel.value].source if channel.value in given else "",
                when(given[channel.value].at) if channel.value in given else "",
            )
            for channel in CONSENT_CHANNELS
        ),
    )


def register(app: typer.Typer) -> None:
    """Add `timeline`, `event`, `note`, `edit` and `consent` to the `customers` group."""
    from console.cli.app import customers_app

    customers_app.command("timeline")(handles_errors(customers_timeline))
    customers_app.command("event")(handles_errors(customers_event))
    customers_app.command("note")(mutating(handles_errors(customers_note)))
    customers_app.command("edit")(mutating(handles_errors(customers_edit)))
    customers_app.command("consent")(handles_errors(customers_consent))
