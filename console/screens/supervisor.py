"""The Supervisor screen: live KPIs over a chosen window with trends, the backlog, agent
load and the contacts about to breach. Read-only: it has no action that changes data.

Self-contained: give it the Backend; it loads in a thread worker and refreshes itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from backends.base import Backend
from backends.models import Channel, KpiReport
from console.format import TIMEZONE, clock
from console.kpi_text import window_title
from console.widgets.kpis.panels import (
    AgentTable,
    AtRiskTable,
    BacklogPanel,
    KpisFailed,
    KpisLoaded,
    KpiTiles,
    PresenceTable,
    read_kpis,
)

#: The windows `w` cycles through: (label, length).
WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("last 24 hours", timedelta(hours=24)),
    ("last 7 days", timedelta(days=7)),
    ("last 30 days", timedelta(days=30)),
    ("last 8 hours", timedelta(hours=8)),
)
CHANNELS: tuple[Channel | None, ...] = (None, *Channel)


class SupervisorScreen(Screen[None]):
    """KPIs for supervisors; `w` window, `c` channel, `r` refresh, `escape` back."""

    DEFAULT_CSS = """
    SupervisorScreen { layout: vertical; }
    SupervisorScreen #sup-head { height: 1; background: $panel; color: $text; padding: 0 1; }
    SupervisorScreen #sup-status { height: 1; padding: 0 1; color: $text-muted; }
    SupervisorScreen #sup-body { height: 1fr; }
    SupervisorScreen .sup-title { height: 1; text-style: bold; padding: 0 1; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "cycle_window", "Window", id="supervisor.window"),
        Binding("c", "cycle_channel", "Channel", id="supervisor.channel"),
        Binding("r", "refresh", "Refresh", id="supervisor.refresh"),
        Binding("escape", "back", "Back", id="supervisor.back"),
    ]

    def __init__(
        self,
        backend: Backend,
        *,
        now: Callable[[], datetime] | None = None,
        refresh_seconds: float = 30.0,
        within_minutes: int = 30,
        max_open: int = 25,
        at_risk_limit: int = 50,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.backend = backend
        self.now = now  # None: the backend's clock
        self.refresh_seconds = refresh_seconds
        self.within_minutes = within_minutes
        self.max_open = max_open
        self.at_risk_limit = at_risk_limit
        self.window_index = 0
        self.channel_index = 0
        self.report: KpiReport | None = None
        self._timer: Timer | None = None

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Supervisor · READ-ONLY", "bold"), id="sup-head")
        yield Static(Content.styled("Loading KPIs…", "$text-muted"), id="sup-status")
        with VerticalScroll(id="sup-body"):
            yield KpiTiles(id="sup-tiles")
            yield BacklogPanel(id="sup-backlog")
            yield Static("Agent load", classes="sup-title", id="sup-agents-title")
            yield AgentTable(id="sup-agents")
            yield Static("At risk", classes="sup-title", id="sup-risk-title")
            yield AtRiskTable(unmask=True, id="sup-risk")
            yield Static("Presence and skills", classes="sup-title", id="sup-presence-title")
            yield PresenceTable(id="sup-presence")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        if self.refresh_seconds > 0:
            self._timer = self.set_interval(self.refresh_seconds, self.load)

    # -- loading ------------------------------------------------------------------------

    @property
    def channel(self) -> Channel | None:
        return CHANNELS[self.channel_index]

    @work(thread=True, exclusive=True, group="supervisor", exit_on_error=False)
    def load(self) -> None:
        """Ask the backend for the report and the at-risk list (reads only)."""
        now = self.now() if self.now is not None else None
        self.post_message(
            read_kpis(
                self.backend,
                WINDOWS[self.window_index][1],
                now,
                channel=self.channel,
                max_open=self.max_open,
                within=self.within_minutes,
                limit=self.at_risk_limit,
            )
        )

    def on_kpis_loaded(self, message: KpisLoaded) -> None:
        r = self.report = message.report
        label = WINDOWS[self.window_index][0]
        self.query_one("#sup-head", Static).update(
            Content.assemble(
                ("Supervisor", "bold"),
                " · ",
                ("READ-ONLY", "bold $warning"),
                " · ",
                label,
            )
        )
        self.query_one("#sup-status", Static).update(
            Content.styled(f"{window_title(r)} · updated {clock(r.now)} {TIMEZONE}", "$text-muted")
        )
        self.query_one(KpiTiles).show(r)
        self.query_one(BacklogPanel).show(r)
        self.query_one(AgentTable).show(r.agents, r.now, r.max_open)
        over = sum(a.overloaded for a in r.agents)
        self.query_one("#sup-agents-title", Static).update(
            Content.assemble(
                ("Agent load", "bold"),
                (
                    f" · {over} over {r.max_open} open"
                    if over
                    else f" · none over {r.max_open} open",
                    "bold $error" if over else "$text-muted",
                ),
            )
        )
        self.query_one(AtRiskTable).show(message.at_risk)
        self.query_one("#sup-risk-title", Static).update(
            Content.assemble(
                ("At risk", "bold"),
                (
                    (
                        f" · unanswered, due within {self.within_minutes} min or overdue"
                        f" · {len(message.at_risk)} shown"
                    ),
                    "$text-muted",
                ),
            )
        )

        self.query_one(PresenceTable).show(message.states)

    def on_kpis_failed(self, message: KpisFailed) -> None:
        self.query_one("#sup-status", Static).update(
            Content.styled(f"⚠ KPIs unavailable: {message.error}", "bold $error")
        )

    # -- actions (none of them changes data) ------------------------------------------------

    def action_cycle_window(self) -> None:
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        self.load()

    def action_cycle_channel(self) -> None:
        self.channel_index = (self.channel_index + 1) % len(CHANNELS)
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
