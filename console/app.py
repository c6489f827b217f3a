"""The Vista console: a thin App that registers themes, settings, key overrides and
the workspace, and gets its Backend injected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import BindingType

from backends.base import Backend
from backends.models import utcnow
from console import actions
from console.screens.help import HelpScreen
from console.screens.palette import VistaCommands
from console.screens.search import SearchScreen
from console.screens.workspace import WorkspaceScreen
from console.settings import Drafts, Settings
from themes import DEFAULT_THEME, STYLESHEET, THEME_NAMES, THEMES


class VistaApp(App[None]):
    """The operator console."""

    CSS_PATH = STYLESHEET
    TITLE = "Vista"
    BINDINGS: ClassVar[list[BindingType]] = actions.bindings("app")  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {VistaCommands}

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Callable[[], datetime] | None = None,
        settings_path: Path | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.now: Callable[[], datetime] = clock or utcnow
        self.poll_interval = poll_interval
        self.settings = Settings.load(settings_path)
        self.drafts = Drafts(self.settings.drafts_path, scope=backend.location)
        self.read_only = backend.read_only
        agent = backend.whoami()
        self.agent_name = agent.name
        self.agent_label = agent.name if agent.display_name in ("", agent.name) else (
            f"{agent.display_name} ({agent.name})")
        self.keymap: dict[str, str] = dict(self.settings.keys)
        self._themes_ready = False

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self.settings.theme if self.settings.theme in self.available_themes \
            else DEFAULT_THEME
        self._themes_ready = True
        if self.keymap:
            self.set_keymap(self.keymap)
        self.push_screen(WorkspaceScreen())

    def watch_theme(self, theme: str) -> None:
        """Remember the theme, however it was changed (key, palette)."""
        settings = getattr(self, "settings", None)
        if settings is not None and settings.theme != theme and self._themes_ready:
            settings.theme = theme
            settings.save()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (actions.is_mutating(action) and self.read_only)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_search(self) -> None:
        if isinstance(self.screen, SearchScreen):
            return

        def opened(customer_id: int | None) -> None:
            if customer_id is not None and isinstance(self.screen, WorkspaceScreen):
                self.screen.open_customer(customer_id)

        self.push_screen(SearchScreen(), opened)

    def action_supervisor(self) -> None:
        """The Supervisor screen: live KPIs, backlog, agent load (read-only)."""
        from console.screens.supervisor import SupervisorScreen

        if not isinstance(self.screen, SupervisorScreen):
            self.push_screen(SupervisorScreen(self.backend, now=self.now))

    def action_identity_review(self) -> None:
        """The identity review screen: suggested duplicates to merge or reject."""
        from console.screens.identity import IdentityReviewScreen

        if not isinstance(self.screen, IdentityReviewScreen):
            self.push_screen(IdentityReviewScreen())

    def action_cycle_theme(self) -> None:
        names = [n for n in THEME_NAMES if n in self.available_themes]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", markup=False)
