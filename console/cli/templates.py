"""`vista templates`: the reply templates, and managing them (admins): add, edit, approve
for WhatsApp with the provider's name, retire."""

from __future__ import annotations

from typing import Annotated

import typer

from backends.models import Template
from backends.templating import offered
from console.cli.kit import STATE, JsonOpt, channel_option, handles_errors, mutating
from console.cli.output import emit_json, emit_jsonl, stderr, stdout, table
from console.safe_text import clean

templates_app = typer.Typer(
    help="The reply templates; admins add, edit, approve and retire them.",
    invoke_without_command=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The template's name.")]
ChannelOpt = Annotated[
    str | None,
    typer.Option(help="The channel it is for: email, sms, whatsapp, chat, phone, web or any."),
]
LanguageOpt = Annotated[str | None, typer.Option(help="Its language: it, en, pt-BR...")]
HtmlOpt = Annotated[str | None, typer.Option(help="An HTML alternative for e-mail.")]


def _state(t: Template) -> str:
    if t.retired:
        return "retired"
    if t.whatsapp_approved:
        return f"approved as {t.provider_name}" if t.provider_name else "approved"
    return "needs approval" if t.channel is not None and t.channel.value == "whatsapp" else ""


def _list(channel: str | None, retired: bool, usable: bool, json_: bool) -> None:
    found = STATE.backend().templates(retired=retired)
    if channel is not None or usable:
        wanted = channel_option(channel)
        found = (
            offered(found, wanted)
            if usable
            else tuple(t for t in found if t.channel in (None, wanted))
        )
    if json_:
        emit_jsonl([{**t.to_json(), "variables": list(t.variables)} for t in found])
        return
    if not found:
        stderr.print("no templates" + (f" for {clean(channel)}" if channel else ""), markup=False)
        return
    table(
        None,
        ("id", "name", "channel", "language", "state", "variables", "text"),
        (
            (
                t.id,
                t.name,
                t.channel.value if t.channel else "any",
                t.language,
                _state(t),
                " ".join(t.variables),
                clean(t.body, max_length=200),
            )
            for t in found
        ),
    )


RetiredOpt = Annotated[bool, typer.Option("--retired", help="Retired templates too.")]
UsableOpt = Annotated[
    bool,
    typer.Option(
        "--usable",
        help="Only those a reply may use (not retired; WhatsApp ones only once approved).",
    ),
]
ListChannelOpt = Annotated[str | None, typer.Option(help="Only templates usable on this channel.")]


@templates_app.callback()
@handles_errors
def templates_default(
    ctx: typer.Context,
    channel: ListChannelOpt = None,
    retired: RetiredOpt = False,
    usable: UsableOpt = False,
    json_: JsonOpt = False,
) -> None:
    """The canned reply templates with their {variables} (as `vista templates list`)."""
    if ctx.invoked_subcommand is None:
        _list(channel, retired, usable, json_)


@templates_app.command("list")
@handles_errors
def templates_list(
    channel: ListChannelOpt = None,
    retired: RetiredOpt = False,
    usable: UsableOpt = False,
    json_: JsonOpt = False,
) -> None:
    """The reply templates: channel, language, WhatsApp approval, {variables}, text."""
    _list(channel, retired, usable, json_)


def _done(template: Template, what: str, json_: bool) -> None:
    if json_:
        emit_json(template)
        return
    stdout.print(f"template {template.name}: {what}", markup=False, highlight=False)


@templates_app.command("add")
@mutating
@handles_errors
def templates_add(
    name: NameArg,
    body: Annotated[str, typer.Argument(help="The text, with {variables} (see the README).")],
    channel: ChannelOpt = None,
    language: LanguageOpt = None,
    html: HtmlOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a template (admins). A WhatsApp one is used only once approved."""
    t = STATE.backend(write=True).add_template(
        name, body, channel=channel, language=language or "", html=html
    )
    _done(t, "added", json_)


@templates_app.command("edit")
@mutating
@handles_errors
def templates_edit(
    name: NameArg,
    body: Annotated[str | None, typer.Option(help="New text.")] = None,
    channel: ChannelOpt = None,
    language: LanguageOpt = None,
    html: HtmlOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a template (admins). New words withdraw its WhatsApp approval."""
    t = STATE.backend(write=True).edit_template(
        name, body=body, channel=channel, language=language, html=html
    )
    _done(t, "changed" + ("" if t.whatsapp_approved or not body else " (approve it again)"), json_)


@templates_app.command("approve")
@mutating
@handles_errors
def templates_approve(
    name: NameArg,
    provider_name: Annotated[
        str,
        typer.Option("--provider-name", help="The name the WhatsApp provider approved it under."),
    ],
    json_: JsonOpt = False,
) -> None:
    """Mark a template approved by the WhatsApp provider (admins)."""
    t = STATE.backend(write=True).approve_template(name, provider_name)
    _done(t, f"approved as {t.provider_name}", json_)


@templates_app.command("retire")
@mutating
@handles_errors
def templates_retire(name: NameArg, json_: JsonOpt = False) -> None:
    """Retire a template (admins): kept for history, never offered or sent again."""
    _done(STATE.backend(write=True).retire_template(name), "retired", json_)


def register(app: typer.Typer) -> None:
    """Add the `templates` group to the `vista` command."""
    app.add_typer(templates_app, name="templates")
