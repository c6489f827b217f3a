"""`vista wallboard`: a compact, auto-refreshing, read-only full-screen KPI board for a wall
screen or a tmux pane. Customer names are initials and subjects are hidden unless unmasked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from backends.base import Backend, Capability
from backends.models import Channel
from console.format import TIMEZONE, clock
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

#: The board's window: the last 24 hours, per hour.
WINDOW = timedelta(hours=24)


class Wallboard(App[None]):
    """The wall screen. Its only keys are quit and refresh; nothing on it changes data."""

    TITLE = "Vista wallboard"
    CSS = """
    Screen { layout: vertical; }
    #wb-head { height: 1; background: $panel; padding: 0 1; }
    #wb-lower { height: 1fr; }
    #wb-lower > Vertical { width: 1fr; }
    .wb-title { height: 1; text-style: bold; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="wallboard.quit"),
        Binding("r", "refresh", "Refresh", id="wallboard.refresh"),
    ]

    def __init__(
        self,
        backend: Backend,
        *,
        channel: Channel | None = None,
        refresh_seconds: float = 15.0,
        within: int = 30,
        max_open: int = 25,
        unmask: bool = False,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.channel = channel
        self.refresh_seconds = refresh_seconds
        self.within = within
        self.max_open = max_open
        self.unmask = unmask
        self.now = now  # None: the backend's clock

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("VISTA WALLBOARD · loading…", "bold"), id="wb-head")
        yield KpiTiles(compact=True)
        yield BacklogPanel()
        with Horizontal(id="wb-lower"):
            with Vertical():
                yield Static("Agent load", classes="wb-title", id="wb-agents-title")
                yield AgentTable(compact=True)
                if Capability.ROUTING in self.backend.capabilities:
                    yield Static("Presence and skills", classes="wb-title", id="wb-presence-title")
                    yield PresenceTable(id="wb-presence")
            with Vertical():
                yield Static("At risk", classes="wb-title", id="wb-risk-title")
                yield AtRiskTable(unmask=self.unmask)

    def on_mount(self) -> None:
        self.load()
        self.set_interval(self.refresh_seconds, self.load)

    @work(thread=True, exclusive=True, group="wallboard", exit_on_error=False)
    def load(self) -> None:
        """Read the report and the at-risk list (nothing else: the board is read-only)."""
        now = self.now() if self.now is not None else None
        self.post_message(
            read_kpis(
                self.backend,
                WINDOW,
                now,
                channel=self.channel,
                max_open=self.max_open,
                within=self.within,
                limit=30,
            )
        )

    def on_kpis_loaded(self, message: KpisLoaded) -> None:
        if not self.screen.query("#wb-head"):  # the board is closing: nothing to show on
            return
        r = message.report
        chan = r.channel.value if r.channel is not None else "all channels"
        mask = "names shown" if self.unmask else "customer data masked"
        self.query_one("#wb-head", Static).update(
            Content.assemble(
                ("VISTA WALLBOARD", "bold"),
                " · ",
                ("READ-ONLY", "bold $warning"),
                f" · last 24 h · {chan} · {mask} · updated {clock(r.now)} {TIMEZONE}",
            )
        )
        self.query_one(KpiTiles).show(r)
        self.query_one(BacklogPanel).show(r)
        self.query_one(AgentTable).show(r.agents, r.now, r.max_open)
        over = sum(a.overloaded for a in r.agents)
        self.query_one("#wb-agents-title", Static).update(
            Content.assemble(
                ("Agent load", "bold"),
                (f" · {over} over {r.max_open} open", "bold $error") if over else "",
            )
        )
        for presence in self.query(PresenceTable):
            presence.show(message.states)
        self.query_one(AtRiskTable).show(message.at_risk)
        self.query_one("#wb-risk-title", Static).update(
            Content.assemble(
                ("At risk", "bold"),
                f" · due within {self.within} min or overdue",
            )
        )

    def on_kpis_failed(self, message: KpisFailed) -> None:
        self.query_one("#wb-head", Static).update(
            Content.styled(f"VISTA WALLBOARD · ⚠ unavailable: {message.error}", "bold $error")
        )

    def action_refresh(self) -> None:
        self.load()
