"""`vista agents` (who may act, their skills and capacity), `vista presence`, `vista routing`
(the rules file, offering waiting contacts) and `vista intents` (train, report, classify,
correct)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backends.base import InvalidInput
from backends.models import Agent, AgentState, Presence, Role
from console.cli.kit import STATE, IdArg, JsonOpt, VersionOpt, enum_values, handles_errors, mutating
from console.cli.output import emit_json, emit_jsonl, stderr, stdout, table
from console.format import when
from console.safe_text import clean

agents_app = typer.Typer(
    help="Agents: list (also bare `vista agents`), add, edit, disable (admins), board.",
    invoke_without_command=True,
)
routing_app = typer.Typer(
    help="Routing: the rules file, and offering waiting contacts.", no_args_is_help=True
)
intents_app = typer.Typer(
    help="Intents: train the model, its report, classify a text, correct a contact.",
    no_args_is_help=True,
)

IntentsOpt = Annotated[
    str | None, typer.Option("--intents", help="Comma-separated intents handled ('' = any).")
]
LanguagesOpt = Annotated[
    str | None, typer.Option("--languages", help="Comma-separated languages: it,en ('' = any).")
]
ChannelsOpt = Annotated[
    str | None, typer.Option("--channels", help="Comma-separated channels ('' = any).")
]
CapacityOpt = Annotated[
    list[str] | None,
    typer.Option("--capacity", help="CHANNEL=N, the agent's own limit; repeat per channel."),
]


def _list(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _capacity(values: list[str] | None) -> dict[str, int] | None:
    if not values:
        return None
    out: dict[str, int] = {}
    for item in values:
        channel, sep, number = item.partition("=")
        if not sep or not number.strip().isdigit():
            raise InvalidInput(f"--capacity {clean(item)!r}: write CHANNEL=N, e.g. chat=3")
        out[channel.strip().lower()] = int(number)
    return out


def _agent_row(a: Agent) -> list[str]:
    caps = ", ".join(f"{c.channel.value}={c.limit}" for c in a.capacity)
    return [
        a.name,
        a.display_name,
        a.role.value,
        ", ".join(a.intents) or "any",
        ", ".join(a.languages) or "any",
        ", ".join(c.value for c in a.channels) or "any",
        caps or "default",
        "disabled" if a.disabled else a.presence.value,
    ]


def _show_agent(a: Agent, json_: bool) -> None:
    if json_:
        emit_json(a)
    else:
        table(
            None,
            ["agent", "name", "role", "intents", "languages", "channels", "capacity", "state"],
            [_agent_row(a)],
        )


def _state_row(s: AgentState) -> list[str]:
    load = ", ".join(
        f"{ch} {s.held.get(ch, 0)}/{cap}" for ch, cap in s.capacity.items() if s.held.get(ch)
    )
    return [
        s.agent.name,
        s.presence.value,
        load or "-",
        ", ".join(s.agent.intents) or "any",
        ", ".join(s.agent.languages) or "any",
        when(s.idle_since) if s.idle_since else "-",
    ]


def register(app: typer.Typer) -> None:
    """Add `agents`, `presence`, `routing` and `intents` to the `vista` command."""
    app.add_typer(agents_app, name="agents")
    app.add_typer(routing_app, name="routing")
    app.add_typer(intents_app, name="intents")

    @agents_app.callback()
    def agents_bare(ctx: typer.Context, json_: JsonOpt = False) -> None:
        """Every operator, supervisor and admin (names for `contacts assign`)."""
        if ctx.invoked_subcommand is None:
            agents_list(json_)

    @agents_app.command("list")
    @handles_errors
    def agents_list(json_: JsonOpt = False) -> None:
        """Every agent: role, skills (intents, languages, channels), capacity, presence."""
        found = STATE.backend().agents()
        if json_:
            emit_jsonl(found)
            return
        if not found:
            stderr.print("no agents yet (`vista agents add NAME` adds one)", markup=False)
            return
        table(
            None,
            ["agent", "name", "role", "intents", "languages", "channels", "capacity", "state"],
            [_agent_row(a) for a in found],
        )

    @agents_app.command("add")
    @mutating
    @handles_errors
    def agents_add(
        name: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ - @).")],
        display_name: Annotated[str, typer.Option("--display-name", help="Name people see.")] = "",
        role: Annotated[str, typer.Option(help="operator, supervisor or admin.")] = "operator",
        intents: IntentsOpt = None,
        languages: LanguagesOpt = None,
        channels: ChannelsOpt = None,
        capacity: CapacityOpt = None,
        json_: JsonOpt = False,
    ) -> None:
        """Register an agent (admins; the owner of a store without an admin may too)."""
        made = STATE.backend(write=True).add_agent(
            name,
            display_name,
            enum_values([role], Role, "role")[0],
            intents=_list(intents) or (),
            languages=_list(languages) or (),
            channels=_list(channels) or (),  # type: ignore[arg-type]
            capacity=_capacity(capacity),
        )
        _show_agent(made, json_)

    @agents_app.command("edit")
    @mutating
    @handles_errors
    def agents_edit(
        name: Annotated[str, typer.Argument(help="The agent's login name.")],
        display_name: Annotated[
            str | None, typer.Option("--display-name", help="Name people see.")
        ] = None,
        role: Annotated[str | None, typer.Option(help="operator, supervisor or admin.")] = None,
        intents: IntentsOpt = None,
        languages: LanguagesOpt = None,
        channels: ChannelsOpt = None,
        capacity: CapacityOpt = None,
        json_: JsonOpt = False,
    ) -> None:
        """Change an agent; each option given replaces that value (moves between skills)."""
        made = STATE.backend(write=True).edit_agent(
            name,
            display_name=display_name,
            role=None if role is None else enum_values([role], Role, "role")[0],
            intents=_list(intents),
            languages=_list(languages),
            channels=_list(channels),  # type: ignore[arg-type]
            capacity=_capacity(capacity),
        )
        _show_agent(made, json_)

    @agents_app.command("disable")
    @mutating
    @handles_errors
    def agents_disable(
        name: Annotated[str, typer.Argument(help="The agent's login name.")],
        enable: Annotated[bool, typer.Option("--enable", help="Enable them again.")] = False,
        json_: JsonOpt = False,
    ) -> None:
        """Disable an agent: they can no longer act and get no contacts (history is kept)."""
        _show_agent(STATE.backend(write=True).disable_agent(name, disabled=not enable), json_)

    @agents_app.command("board")
    @handles_errors
    def agents_board(json_: JsonOpt = False) -> None:
        """Every operator now: presence, contacts held of capacity per channel, skills."""
        found = STATE.backend().agent_states()
        if json_:
            emit_jsonl(found)
            return
        table(
            None,
            ["agent", "presence", "held/capacity", "intents", "languages", "idle since"],
            [_state_row(s) for s in found],
        )

    @app.command("presence")
    @mutating
    @handles_errors
    def presence(
        state: Annotated[str, typer.Argument(help="online, away or offline.")],
        of: Annotated[str | None, typer.Option("--of", help="Another agent's (admins).")] = None,
        json_: JsonOpt = False,
    ) -> None:
        """Set my presence: only online operators are offered new contacts."""
        value = enum_values([state], Presence, "presence")[0]
        got = STATE.backend(write=True).set_presence(value, of)
        if json_:
            emit_json(got)
        else:
            stdout.print(f"{got.agent.name} is {got.presence.value}", markup=False)

    @routing_app.command("rules")
    @handles_errors
    def routing_rules(
        set_: Annotated[
            Path | None, typer.Option("--set", help="Store this TOML file as the rules.")
        ] = None,
        reset: Annotated[bool, typer.Option("--reset", help="Back to the defaults.")] = False,
    ) -> None:
        """Print the routing rules in effect, or replace them (admins)."""
        if set_ is not None or reset:
            if STATE.read_only:
                raise InvalidInput("vista is running --read-only: this command changes data")
            text = "" if reset else _read(set_)
            stdout.print(STATE.backend(write=True).set_routing_rules(text), markup=False)
            return
        stdout.print(STATE.backend().routing_rules(), markup=False, end="")

    @routing_app.command("run")
    @mutating
    @handles_errors
    def routing_run(
        limit: Annotated[
            int, typer.Option(help="Look at most at this many waiting contacts.")
        ] = 100,
        json_: JsonOpt = False,
    ) -> None:
        """Offer waiting unassigned contacts to available operators now."""
        given = STATE.backend(write=True).route_waiting(limit)
        if json_:
            emit_jsonl(given)
            return
        for c in given:
            stdout.print(
                f"contact {c.id} ({c.channel.value}, {c.intent}) -> {c.assignee}", markup=False
            )
        stdout.print(f"{len(given)} assigned", markup=False)

    @intents_app.command("train")
    @mutating
    @handles_errors
    def intents_train(json_: JsonOpt = False) -> None:
        """Train the intent model from labelled contacts; cross-validated accuracy per intent."""
        report = STATE.backend(write=True).train_intents()
        _print_report(report, json_)

    @intents_app.command("report")
    @handles_errors
    def intents_report(json_: JsonOpt = False) -> None:
        """The report of the intent model in use (none: keyword rules classify)."""
        report = STATE.backend().intent_report()
        if report is None:
            if json_:
                emit_json(None)
            else:
                stdout.print("no trained model: the routing rules' keywords classify", markup=False)
            return
        _print_report(report, json_)

    @intents_app.command("classify")
    @handles_errors
    def intents_classify(
        text: Annotated[str, typer.Argument(help="A customer's words.")], json_: JsonOpt = False
    ) -> None:
        """The intent and language Vista gives these words (nothing is stored)."""
        got = STATE.backend().classify(text)
        if json_:
            emit_json(got)
        else:
            stdout.print(
                f"{got.intent} ({got.source}, {got.confidence:.2f}) language "
                f"{got.language or 'unknown'}",
                markup=False,
            )

    @intents_app.command("set")
    @mutating
    @handles_errors
    def intents_set(
        contact_id: IdArg,
        intent: Annotated[str, typer.Argument(help="The right intent.")],
        if_version: VersionOpt = None,
        json_: JsonOpt = False,
    ) -> None:
        """Correct a contact's intent (it becomes training data)."""
        got = STATE.backend(write=True).set_intent(contact_id, intent, expected_version=if_version)
        if json_:
            emit_json(got)
        else:
            stdout.print(f"contact {got.id}: intent {got.intent}", markup=False)


def _read(path: Path | None) -> str:
    assert path is not None
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(f"cannot read {path}: {e}") from e


def _print_report(report: object, json_: bool) -> None:
    from backends.models import IntentReport

    assert isinstance(report, IntentReport)
    if json_:
        emit_json(report)
        return
    stdout.print(
        f"{report.samples} labelled contacts, {report.folds}-fold cross-validation, "
        f"accuracy {report.accuracy:.1%} (trained {when(report.trained_at)})",
        markup=False,
    )
    table(
        None,
        ["intent", "samples", "accuracy"],
        [
            [s.intent, str(s.samples), "too few" if s.accuracy is None else f"{s.accuracy:.1%}"]
            for s in report.intents
        ],
    )
