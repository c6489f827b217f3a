"""KPI panes shared by the Supervisor screen and the wallboard: tiles with sparklines,
the live backlog, agent load and the at-risk list. Display only: they hold no backend
and change nothing; their owner feeds them a report with `show()`, read with
`read_kpis` (reads only) and posted as `KpisLoaded` or `KpisFailed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Grid, Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from backends.base import Capability
from backends.models import AgentLoad, AgentState, AtRiskContact, Channel, KpiReport, utcnow
from console.format import DASH, duration, left
from console.kpi_text import KpiLine, customer_label, kpi_lines, spark
from console.safe_text import clean, literal

if TYPE_CHECKING:
    from backends.base import Backend


class KpisLoaded(Message):
    """A KPI report and the at-risk list, read on a worker (`read_kpis`)."""

    def __init__(
        self,
        report: KpiReport,
        at_risk: tuple[AtRiskContact, ...],
        states: tuple[AgentState, ...] = (),
    ) -> None:
        super().__init__()
        self.report, self.at_risk, self.states = report, at_risk, states


class KpisFailed(Message):
    """Reading the KPIs failed (shown; the owner stays usable and tries again)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


def read_kpis(
    backend: Backend,
    window: timedelta,
    now: datetime | None,
    *,
    channel: Channel | None,
    max_open: int,
    within: int,
    limit: int,
) -> KpisLoaded | KpisFailed:
    """The report over the last `window` and the unanswered contacts due within `within`
    minutes or overdue (reads only), as the message to post."""
    try:
        end = now or utcnow()
        report = backend.stats(
            end - window, end, channel=channel, max_open=max_open, at_risk_minutes=within, now=now
        )
        risky = backend.at_risk(
            within, limit=limit, channel=channel, include_breached=True, now=now
        )
        states = backend.agent_states() if Capability.ROUTING in backend.capabilities else ()
    except Exception as e:  # noqa: BLE001 - shown by the owner, which stays usable
        return KpisFailed(e)
    return KpisLoaded(report, risky, states)


#: Tiles on the board, in order (keys of `kpi_text.kpi_lines`).
TILE_KEYS = (
    "arrivals",
    "asa",
    "frt",
    "aht",
    "resolution",
    "sla",
    "unanswered",
    "abandoned",
    "csat",
    "nps",
)
BAR = "█"


class KpiTile(Widget):
    """One KPI: its label, the value in bold, a detail line and a sparkline of the trend.
    Compact (the wallboard): the label, then the value with the sparkline beside it.
    The sparkline shows the newest points that fit the tile's current width."""

    DEFAULT_CSS = """
    KpiTile { height: 6; border: round $panel-lighten-2; padding: 0 1; }
    KpiTile.compact { height: 4; }
    """

    line: reactive[KpiLine | None] = reactive(None)

    def show(self, line: KpiLine) -> None:
        self.line = line

    def render(self) -> Content:
        line = self.line
        if line is None:
            return Content.styled("…", "$text-muted")
        width = max(1, self.content_size.width)
        if self.has_class("compact"):
            room = max(0, width - len(line.value) - 2)
            trend = spark(line.trend[-room:]) if line.trend and room else ""
            return Content.assemble(
                (line.label, "$text-muted"),
                "\n",
                (line.value, "bold $text"),
                "  ",
                (trend, "$accent"),
            )
        trend = spark(line.trend[-width:]) if line.trend else ""
        return Content.assemble(
            (line.label, "$text-muted"),
            "\n",
            (line.value, "bold $text"),
            "\n",
            (line.detail, "$text-muted"),
            "\n",
            (trend, "$accent"),
        )


class KpiTiles(Grid):
    """The headline KPIs as a grid of tiles (five a row)."""

    DEFAULT_CSS = """
    KpiTiles { grid-size: 5; grid-gutter: 0 1; grid-rows: 6; height: auto; }
    KpiTiles.compact { grid-rows: 4; }
    """

    def __init__(
        self, keys: Sequence[str] = TILE_KEYS, *, compact: bool = False, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.keys = tuple(keys)
        self.compact = compact
        if compact:
            self.add_class("compact")

    def compose(self) -> ComposeResult:
        for key in self.keys:
            yield KpiTile(id=f"kpi-{key}", classes="compact" if self.compact else "")

    def show(self, report: KpiReport) -> None:
        lines = {line.key: line for line in kpi_lines(report)}
        for key in self.keys:
            self.query_one(f"#kpi-{key}", KpiTile).show(lines[key])


def _bars(title: str, counts: dict[str, int], width: int = 12) -> Content:
    high = max(counts.values(), default=0)
    parts: list[str | tuple[str, str]] = [(title, "bold"), "\n"]
    label_w = max((len(k) for k in counts), default=0)
    for key, n in counts.items():
        bar = BAR * (round(n / high * width) if high else 0)
        parts += [f"{key:<{label_w}} {n:>6,} ", (bar, "$accent"), "\n"]
    return Content.assemble(*parts)


class BacklogPanel(Horizontal):
    """Live unresolved contacts by channel, priority and age, as bars."""

    DEFAULT_CSS = """
    BacklogPanel { height: auto; }
    BacklogPanel > Static { width: 1fr; height: auto; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="backlog-total")
        yield Static(id="backlog-channel")
        yield Static(id="backlog-priority")
        yield Static(id="backlog-age")

    def show(self, report: KpiReport) -> None:
        b, sla = report.backlog, report.sla
        self.query_one("#backlog-total", Static).update(
            Content.assemble(
                ("Backlog now", "bold"),
                "\n",
                (f"{b.total:,}", "bold $text"),
                " unresolved\n",
                f"{b.unassigned:,} unassigned\n",
                (f"{sla.breached_open:,}", "bold $error" if sla.breached_open else ""),
                " unanswered past SLA\n",
                (f"{sla.due_soon:,}", "bold $warning" if sla.due_soon else ""),
                f" due ≤ {report.at_risk_seconds // 60} min",
            )
        )
        self.query_one("#backlog-channel", Static).update(_bars("By channel", dict(b.by_channel)))
        self.query_one("#backlog-priority", Static).update(
            _bars("By priority", dict(b.by_priority))
        )
        self.query_one("#backlog-age", Static).update(_bars("By age", dict(b.by_age)))


#: Columns of free text: they give up width first; every other column keeps its width.
FLEXIBLE = {"Agent": 24, "Customer": 28, "Subject": 48}


def _table(headers: Sequence[str], rows: Sequence[Sequence[Text]]) -> Table:
    """A borderless table of literal cells; figures never shrink, free text wraps."""
    table = Table(box=None, header_style="bold", pad_edge=False, expand=False, padding=(0, 2, 0, 0))
    for i, header in enumerate(headers):
        widest = max([len(header), *(r[i].cell_len for r in rows)])
        if header in FLEXIBLE:
            table.add_column(
                header, overflow="fold", max_width=FLEXIBLE[header], min_width=min(widest, 8)
            )
        else:
            table.add_column(header, no_wrap=True, min_width=widest)
    for row in rows:
        table.add_row(*row)
    return table


def alert_styles(app: App[object]) -> tuple[str, str]:
    """("bold <error colour>", "bold <warning colour>") of the app's theme: the tables are
    Rich text, which cannot name theme variables, and ANSI red/yellow would follow the
    terminal's palette instead of the theme."""
    theme = app.current_theme
    return f"bold {theme.error or 'red'}", f"bold {theme.warning or 'yellow'}"


class AgentTable(Static):
    """Agents by open work; overloaded ones flagged. Compact: fewer columns (the wallboard).
    A few dozen rows at most, drawn as one rich table of literal cells."""

    DEFAULT_CSS = """
    AgentTable { height: auto; padding: 0 1; }
    """

    COLUMNS = (
        "Agent",
        "Open",
        "Pending",
        "Breached",
        "At risk",
        "Oldest",
        "Replies",
        "Resolved",
        "AHT",
        "Load",
    )
    COMPACT = ("Agent", "Open", "Breached", "At risk", "Oldest", "Resolved", "Load")
    #: Shorter headers on the wallboard.
    SHORT: ClassVar[dict[str, str]] = {"Breached": "Breach", "At risk": "Risk", "Resolved": "Done"}

    def __init__(self, *, compact: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.compact = compact

    def show(self, agents: Sequence[AgentLoad], now: datetime, max_open: int) -> None:
        columns = self.COMPACT if self.compact else self.COLUMNS
        error, warning = alert_styles(self.app)
        rows: list[list[Text]] = []
        for a in agents:
            age = (now - a.oldest_open_at).total_seconds() if a.oldest_open_at else None
            oldest = duration(age) if age is not None else DASH
            cells = {
                "Agent": literal(a.display_name or a.agent),
                "Open": Text(str(a.open), style=error if a.overloaded else ""),
                "Pending": Text(str(a.pending)),
                "Breached": Text(str(a.breached), style=error if a.breached else ""),
                "At risk": Text(str(a.at_risk), style=warning if a.at_risk else ""),
                "Oldest": Text(oldest),
                "Replies": Text(str(a.first_responses)),
                "Resolved": Text(str(a.resolved)),
                "AHT": Text(duration(a.aht_seconds)),
                "Load": Text(f"OVER {max_open}", style=error) if a.overloaded else Text(""),
            }
            rows.append([cells[c] for c in columns])
        if not agents:
            self.update(Content.styled("No agents.", "$text-muted"))
        else:
            headers = [self.SHORT.get(c, c) if self.compact else c for c in columns]
            self.update(_table(headers, rows))


class PresenceTable(Static):
    """Operators as routing sees them: presence, contacts held of capacity per channel, and
    skills; under it the skill mix (online operators per intent). Read-only: an admin moves
    operators between skills with `vista agents edit`."""

    DEFAULT_CSS = """
    PresenceTable { height: auto; padding: 0 1; }
    """

    COLUMNS = ("Agent", "Presence", "Held / capacity", "Intents", "Languages", "Channels")

    def show(self, states: Sequence[AgentState]) -> None:
        if not states:
            self.update(Content.styled("No operators.", "$text-muted"))
            return
        error, warning = alert_styles(self.app)
        rows: list[list[Text]] = []
        for s in states:
            load = ", ".join(
                f"{ch} {s.held.get(ch, 0)}/{cap}"
                for ch, cap in s.capacity.items()
                if s.held.get(ch)
            )
            full = any(s.held.get(ch, 0) >= cap for ch, cap in s.capacity.items() if s.held.get(ch))
            rows.append(
                [
                    literal(s.agent.display_name or s.agent.name),
                    Text(s.presence.value, style="" if s.presence.value == "online" else warning),
                    Text(load or DASH, style=error if full else ""),
                    literal(", ".join(s.agent.intents) or "any"),
                    literal(", ".join(s.agent.languages) or "any"),
                    literal(", ".join(c.value for c in s.agent.channels) or "any"),
                ]
            )
        online = [s for s in states if s.presence.value == "online"]
        mix: dict[str, int] = {}
        for s in online:
            for intent in s.agent.intents or ("any",):
                mix[intent] = mix.get(intent, 0) + 1
        table = _table(list(self.COLUMNS), rows)
        summary = literal(
            f"{len(online)} of {len(states)} online · skill mix (online): "
            + (", ".join(f"{k} {v}" for k, v in sorted(mix.items())) or "nobody online")
        )
        summary.stylize("dim")
        self.update(Group(table, summary))


class AtRiskTable(Static):
    """Unanswered contacts about to breach (or past) their SLA, soonest first.
    Masked (the wallboard default): customer initials only and no subject."""

    DEFAULT_CSS = """
    AtRiskTable { height: auto; padding: 0 1; }
    """

    def __init__(self, *, unmask: bool = True, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.unmask = unmask

    def show(self, contacts: Sequence[AtRiskContact]) -> None:
        if not contacts:
            self.update(Content.styled("Nothing at risk.", "$success"))
            return
        if self.unmask:
            headers = ("Due", "Contact", "Channel", "Priority", "Assignee", "Customer", "Subject")
        else:
            headers = ("Due", "#", "Channel", "Prio", "Assignee", "Customer")
        error, warning = alert_styles(self.app)
        rows: list[list[Text]] = []
        for c in contacts:
            style = error if c.seconds_left < 0 else warning
            cells = [
                Text(left(c.seconds_left), style=style),
                Text(f"#{c.id}"),
                Text(c.channel.value),
                Text(c.priority.value, style="bold" if c.priority.rank >= 2 else ""),
                literal(c.assignee or "unassigned", style="" if c.assignee else "italic"),
                Text(customer_label(c, self.unmask)),
            ]
            if self.unmask:
                cells.append(Text(clean(c.subject, max_length=48)))
            rows.append(cells)
        self.update(_table(headers, rows))
