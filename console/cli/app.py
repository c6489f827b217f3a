"""The `vista` command: the console when called bare, a scripting CLI otherwise.

Every command calls the Backend contract and prints a rich table for people
or, with `--json`, JSON (one document) or JSON Lines (lists). Exit codes: 0
ok, 1 not found / invalid input / unavailable, 2 usage.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from backends import ENV_AGENT, ENV_BACKEND, ENV_TOKEN
from backends.models import Channel, ContactStatus, Priority, QueueQuery
from console.cli import output
from console.cli.kit import (
    STATE,
    IdArg,
    JsonOpt,
    VersionOpt,
    enum_values,
    handles_errors,
    mutating,
)
from console.cli.output import emit_json, emit_jsonl, fail, table
from console.format import duration, money, when
from console.safe_text import clean

app = typer.Typer(
    name="vista",
    help="Vista: the single customer view for contact-centre operators.\n\n"
    "Run without a command to open the console.",
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
customers_app = typer.Typer(help="Find customers and show their single view.", no_args_is_help=True)
queue_app = typer.Typer(help="The contact queue.", no_args_is_help=True)
contacts_app = typer.Typer(help="One contact: show it, or act on it.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
app.add_typer(queue_app, name="queue")
app.add_typer(contacts_app, name="contacts")


@app.callback()
def main_callback(
    ctx: typer.Context,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            envvar=ENV_BACKEND,
            help="sqlite:///path/to/file.db or http://host:port "
            "(default: vista.db in your data directory).",
        ),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            envvar=ENV_AGENT,
            help="Act as this agent (local store; default: your login).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar=ENV_TOKEN, help="API token for an http:// backend."),
    ] = None,
    read_only: Annotated[
        bool,
        typer.Option("--read-only", help="Open everything read-only: no command may change data."),
    ] = False,
) -> None:
    STATE.url, STATE.agent, STATE.token, STATE.read_only = backend, agent, token, read_only
    if ctx.invoked_subcommand is None:
        _open_console()


def _open_console() -> None:
    from console.launch import open_console

    open_console(STATE.url, STATE.agent, STATE.token, STATE.read_only)


# --------------------------------------------------------------------------- demo


@app.command()
@handles_errors
def demo(
    customers: Annotated[int, typer.Option(help="How many people to generate.", min=1)] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 42,
    db: Annotated[
        Path | None, typer.Option(help="Database file to create (default: the --backend file).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace the file if it exists.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Generate a believable multi-source demo database."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from backends import local_path
    from console.demo import generate

    if db is None:
        db = local_path(STATE.url, "vista demo writes", "--db PATH")
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=output.stderr,
        transient=True,
        disable=json_,
    ) as bar:
        task = bar.add_task("customers", total=customers)
        summary = generate(
            db,
            customers,
            seed=seed,
            force=force,
            progress=lambda done: bar.update(task, completed=done),
        )
    if json_:
        emit_json(
            {
                "path": str(summary.path),
                "customers": summary.customers,
                "source_records": summary.source_records,
                "events": summary.events,
                "contacts": summary.contacts,
                "open_contacts": summary.open_contacts,
                "messages": summary.messages,
                "seconds": round(summary.seconds, 2),
            }
        )
    else:
        output.stdout.print(
            f"Wrote {summary.path}: {summary.customers:,} customers, "
            f"{summary.source_records:,} source records, {summary.events:,} timeline events, "
            f"{summary.contacts:,} contacts ({summary.open_contacts:,} open) in "
            f"{summary.seconds:.1f} s",
            highlight=False,
            markup=False,
        )


# --------------------------------------------------------------------------- customers


@customers_app.command("search")
@handles_errors
def customers_search(
    text: Annotated[str, typer.Argument(help="Name, e-mail, phone (any format) or order number.")],
    limit: Annotated[int, typer.Option(help="At most this many results.", min=1, max=500)] = 20,
    json_: JsonOpt = False,
) -> None:
    """Search customers by name, e-mail, phone or order number."""
    hits = STATE.backend().search_customers(text, limit)
    if json_:
        emit_jsonl(hits)
        return
    if not hits:
        fail(f"no customer matches {clean(text)!r}")
    table(
        None,
        ("id", "name", "e-mail", "phone", "city", "segment", "matched"),
        ((h.id, h.name, h.email, h.phone, h.city, h.segment, h.matched) for h in hits),
    )


@customers_app.command("show")
@handles_errors
def customers_show(
    customer_id: Annotated[int, typer.Argument(metavar="ID", help="Customer id.")],
    timeline: Annotated[
        int, typer.Option(help="Also show this many newest timeline events.", min=0, max=500)
    ] = 20,
    json_: JsonOpt = False,
) -> None:
    """Show one customer's profile, key facts and newest timeline events."""
    backend = STATE.backend()
    if timeline:
        view = backend.customer_view(customer_id, limit=timeline)
        customer, facts, events = view.customer, view.facts, view.timeline.events
    else:
        customer, facts, events = (
            backend.get_customer(customer_id),
            backend.customer_facts(customer_id),
            (),
        )
    if json_:
        emit_json(
            {
                "customer": customer,
                "facts": facts,
                "timeline": list(events),
                "conflicts": list(customer.conflicts()),
            }
        )
        return
    rows: list[tuple[str, Any]] = [
        ("name", customer.display_name),
        ("segment / tier", f"{customer.segment} / {customer.tier}"),
        ("lifetime value", money(customer.lifetime_value, customer.currency)),
        ("language", customer.language),
        ("birth date", customer.birth_date or ""),
        ("consents", ", ".join(k for k, v in customer.consents.items() if v) or "none"),
        (
            "flags",
            ", ".join(
                f
                for f, on in (("churn risk", customer.churn_risk), ("unhappy", customer.unhappy))
                if on
            ),
        ),
        ("tags", ", ".join(customer.tags)),
    ]
    if customer.churn_reasons:
        rows.append(
            ("churn risk", f"{customer.churn_score:.2f}: {', '.join(customer.churn_reasons)}")
        )
    if customer.next_action:
        rows.append(("next action", customer.next_action))
    rows += [
        (f"{i.kind.value} ({i.source})", i.shown)
        for i in customer.identities
        if i.kind.value != "external_id"
    ]
    rows += [("address", a.one_line()) for a in customer.addresses]
    rows += [
        (f"sources disagree: {c.field}", "; ".join(f"{s}={v}" for s, v in c.values.items()))
        for c in customer.conflicts()
    ]
    if facts.last_order_number:
        rows.append(
            (
                "last order",
                (
                    f"{facts.last_order_number} ({facts.last_order_status}) "
                    f"{when(facts.last_order_at)}"
                ),
            )
        )
    rows.append(("orders", facts.orders_count))
    rows.append(("open contacts", facts.open_contacts))
    if facts.last_contact_at:
        rows.append(
            (
                "last contact",
                (
                    f"{when(facts.last_contact_at)} {facts.last_contact_channel} "
                    f"({facts.last_contact_outcome})"
                ),
            )
        )
    if facts.csat_average is not None:
        rows.append(("CSAT average", facts.csat_average))
    if facts.checkout_abandoned_at:
        cart = ", ".join(facts.checkout_cart)
        rows.append(
            (
                "checkout abandoned",
                f"at {facts.checkout_abandoned_step} "
                f"{when(facts.checkout_abandoned_at)}" + (f" (cart: {cart})" if cart else ""),
            )
        )
    if facts.last_visit_at:
        rows.append(("last web visit", f"{when(facts.last_visit_at)} {facts.last_visit or ''}"))
    if facts.last_viewed:
        rows.append(("last viewed", facts.last_viewed))
    table(f"Customer {customer.id}", ("field", "value"), rows)
    if events:
        table(
            "Timeline (newest first)",
            ("time", "kind", "channel", "source", "summary"),
            ((when(e.at), e.kind.value, e.channel, e.source, e.summary) for e in events),
        )


# --------------------------------------------------------------------------- queue


StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status", help="new, open, pending, snoozed, resolved (repeatable; default: open work)."
    ),
]
ChannelOpt = Annotated[
    list[str] | None,
    typer.Option("--channel", help="email, chat, phone, whatsapp, sms, web (repeatable)."),
]
AssigneeOpt = Annotated[
    str | None,
    typer.Option("--assignee", help="Only contacts held by this agent; 'none' for unassigned."),
]
PriorityOpt = Annotated[
    list[str] | None, typer.Option("--priority", help="low, normal, high, urgent (repeatable).")
]
SlaOpt = Annotated[
    str | None, typer.Option("--sla", help="ok, at_risk (includes breached), breached, none.")
]


def _queue_query(
    status: list[str] | None,
    channel: list[str] | None,
    assignee: str | None,
    priority: list[str] | None,
    sla: str | None,
) -> QueueQuery:
    """The queue filters of `queue list` and `queue count`."""
    from backends.models import SlaState

    return QueueQuery(
        statuses=enum_values(status, ContactStatus, "status") or QueueQuery().statuses,
        channels=enum_values(channel, Channel, "channel"),
        assignee=None if assignee in (None, "none") else assignee,
        unassigned=assignee == "none",
        priorities=enum_values(priority, Priority, "priority"),
        sla=enum_values([sla], SlaState, "SLA state")[0] if sla else None,
    )


@queue_app.command("list")
@handles_errors
def queue_list(
    status: StatusOpt = None,
    channel: ChannelOpt = None,
    assignee: AssigneeOpt = None,
    priority: PriorityOpt = None,
    sla: SlaOpt = None,
    limit: Annotated[
        int, typer.Option(help="At most this many contacts.", min=1, max=100_000)
    ] = 50,
    json_: JsonOpt = False,
) -> None:
    """List the queue in working order: priority, then SLA due time, then age."""
    query = _queue_query(status, channel, assignee, priority, sla)
    backend = STATE.backend()
    contacts = []
    cursor = None
    while len(contacts) < limit:
        page = backend.queue(query, cursor=cursor, limit=min(500, limit - len(contacts)))
        contacts.extend(page.contacts)
        if json_:
            emit_jsonl(page.contacts)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    if json_:
        return
    now = datetime.now(UTC)
    table(
        None,
        ("id", "channel", "customer", "subject", "priority", "status", "SLA", "assignee"),
        (
            (
                c.id,
                c.channel.value,
                c.customer_name,
                c.subject,
                c.priority.value,
                c.status.value,
                _sla_text(c.sla_due_at, now),
                c.assignee or "",
            )
            for c in contacts
        ),
    )


@queue_app.command("count")
@handles_errors
def queue_count(
    status: StatusOpt = None,
    channel: ChannelOpt = None,
    assignee: AssigneeOpt = None,
    priority: PriorityOpt = None,
    sla: SlaOpt = None,
    json_: JsonOpt = False,
) -> None:
    """How many contacts match the filters (the same as `queue list`)."""
    count = STATE.backend().queue_count(_queue_query(status, channel, assignee, priority, sla))
    if json_:
        emit_json({"count": count})
    else:
        output.stdout.print(str(count), markup=False, highlight=False)


def _sla_text(due: datetime | None, now: datetime) -> str:
    if due is None:
        return ""
    return duration((due - now).total_seconds())


# --------------------------------------------------------------------------- contacts


@contacts_app.command("show")
@handles_errors
def contacts_show(
    contact_id: Annotated[int, typer.Argument(metavar="ID", help="Contact id.")],
    json_: JsonOpt = False,
) -> None:
    """Show a contact and its messages."""
    detail = STATE.backend().get_contact(contact_id)
    if json_:
        emit_json(detail)
        return
    c = detail.contact
    table(
        f"Contact {c.id}",
        ("field", "value"),
        [
            ("customer", f"{c.customer_name} (id {c.customer_id})"),
            ("channel", c.channel.value),
            ("subject", c.subject),
            ("intent", c.intent),
            ("priority", c.priority.value),
            ("status", c.status.value),
            ("assignee", c.assignee or ""),
            ("created", when(c.created_at)),
            ("first response", when(c.first_response_at)),
            ("SLA due", when(c.sla_due_at)),
            ("resolved", when(c.resolved_at)),
            ("version", c.version),
        ],
    )
    table(
        "Messages",
        ("time", "direction", "author", "text", "delivery"),
        (
            (
                when(m.at),
                m.direction.value,
                m.author,
                clean(m.body, max_length=2000),
                _delivery_text(m.delivery, m.failure),
            )
            for m in detail.messages
        ),
    )


def _delivery_text(delivery: Any, failure: str | None) -> str:
    if delivery is None:
        return ""
    return f"{delivery.value}: {clean(failure, max_length=300)}" if failure else delivery.value


def _print_contact(contact: Any, json_: bool) -> None:
    if json_:
        emit_json(contact)
    else:
        output.stdout.print(
            f"contact {contact.id}: {contact.status.value}, {contact.priority.value}, "
            f"assignee {contact.assignee or '-'} (version {contact.version})",
            markup=False,
            highlight=False,
        )


@contacts_app.command("claim")
@mutating
@handles_errors
def contacts_claim(
    contact_id: IdArg, if_version: VersionOpt = None, json_: JsonOpt = False
) -> None:
    """Assign a contact to yourself (fails if someone else holds it)."""
    _print_contact(STATE.backend(write=True).claim(contact_id, expected_version=if_version), json_)


@contacts_app.command("release")
@mutating
@handles_errors
def contacts_release(
    contact_id: IdArg, if_version: VersionOpt = None, json_: JsonOpt = False
) -> None:
    """Give back a contact you hold."""
    _print_contact(
        STATE.backend(write=True).release(contact_id, expected_version=if_version), json_
    )


@contacts_app.command("assign")
@mutating
@handles_errors
def contacts_assign(
    contact_id: IdArg,
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    if_version: VersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Assign or transfer a contact to another operator."""
    _print_contact(
        STATE.backend(write=True).assign(contact_id, agent, expected_version=if_version), json_
    )


@contacts_app.command("status")
@mutating
@handles_errors
def contacts_status(
    contact_id: IdArg,
    status: Annotated[str, typer.Argument(help="new, open, pending or resolved.")],
    if_version: VersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Set a contact's status (resolve, reopen, pending)."""
    value = enum_values([status], ContactStatus, "status")[0]
    _print_contact(
        STATE.backend(write=True).set_status(contact_id, value, expected_version=if_version), json_
    )


@contacts_app.command("priority")
@mutating
@handles_errors
def contacts_priority(
    contact_id: IdArg,
    priority: Annotated[str, typer.Argument(help="low, normal, high or urgent.")],
    if_version: VersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Set a contact's priority."""
    value = enum_values([priority], Priority, "priority")[0]
    _print_contact(
        STATE.backend(write=True).set_priority(contact_id, value, expected_version=if_version),
        json_,
    )


@contacts_app.command("snooze")
@mutating
@handles_errors
def contacts_snooze(
    contact_id: IdArg,
    minutes: Annotated[int, typer.Argument(help="Snooze for this many minutes.", min=1)],
    if_version: VersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Hide a contact from the queue for a while."""
    until = datetime.now(UTC) + timedelta(minutes=minutes)
    _print_contact(
        STATE.backend(write=True).snooze(contact_id, until, expected_version=if_version), json_
    )


@contacts_app.command("reply")
@mutating
@handles_errors
def contacts_reply(
    contact_id: IdArg,
    text: Annotated[str, typer.Argument(help="The reply; '-' reads it from standard input.")],
    channel: Annotated[
        str | None, typer.Option(help="Reply on another channel of the customer.")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="A retried call with the same key sends once.")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            help="The canned template the text is (an approved one may go out on WhatsApp "
            "after 24 hours); with TEXT '' the server fills the template in."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Queue a reply to the customer (a connector sends it: `vista dispatch`)."""
    import sys

    body = sys.stdin.read() if text == "-" else text
    message = STATE.backend(write=True).reply(
        contact_id, body, channel=channel, idempotency_key=idempotency_key, template=template
    )
    if json_:
        emit_json(message)
    else:
        state = message.delivery.value if message.delivery else "sent"
        output.stdout.print(
            f"{state} message {message.id} on {message.channel.value}", markup=False
        )


@contacts_app.command("retry")
@mutating
@handles_errors
def contacts_retry(
    message_id: Annotated[int, typer.Argument(help="The failed reply's message id.", min=1)],
    json_: JsonOpt = False,
) -> None:
    """Send a failed reply again: back to queued (a connector sends it: `vista dispatch`)."""
    message = STATE.backend(write=True).retry_message(message_id)
    if json_:
        emit_json(message)
    else:
        state = message.delivery.value if message.delivery else "queued"
        output.stdout.print(
            f"{state} message {message.id} on {message.channel.value} again", markup=False
        )


@contacts_app.command("note")
@mutating
@handles_errors
def contacts_note(
    contact_id: IdArg,
    text: Annotated[str, typer.Argument(help="The private note.")],
    json_: JsonOpt = False,
) -> None:
    """Add a private note to a contact (never sent to the customer)."""
    message = STATE.backend(write=True).add_note(contact_id, text)
    if json_:
        emit_json(message)
    else:
        output.stdout.print(f"added note {message.id}", markup=False)


# --------------------------------------------------------------------------- entry point


def _register_plugins() -> None:
    """Command groups that live in their own modules (console/cli/)."""
    import importlib
    import pkgutil

    from console import cli as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name in ("app", "kit", "output"):
            continue
        module = importlib.import_module(f"console.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_plugins()


def main() -> None:
    """Console-script entry point."""
    app()
