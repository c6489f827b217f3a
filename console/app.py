"""The Vista console: a thin App that registers themes, settings, key overrides and
the workspace, and gets its Backend injected.

Start-up matters (an operator opens it many times a shift): screens other than the
workspace, and the palette provider, are imported when first used.
"""

from __future__ import annotations

import gc
import os
import select
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import BindingType

from backends.base import Backend, Capability
from backends.models import utcnow
from console import actions
from console.screens.workspace import WorkspaceScreen
from console.settings import Drafts, Settings
from themes import DEFAULT_THEME, MORE_STYLESHEET, STYLESHEET, THEME_NAMES, THEMES

if TYPE_CHECKING:
    from textual.command import Provider

    from console.widgets.queue.first_page import FirstPage


def _vista_commands() -> type[Provider]:
    """The palette provider, imported when the palette first opens."""
    from console.screens.palette import VistaCommands

    return VistaCommands


class VistaApp(App[None]):
    """The operator console."""

    CSS_PATH = STYLESHEET
    TITLE = "Vista"
    BINDINGS: ClassVar[list[BindingType]] = actions.bindings("app")  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {_vista_commands}
    _themes_registered = False

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Callable[[], datetime] | None = None,
        settings_path: Path | None = None,
        poll_interval: float = 1.0,
        first_page: FirstPage | None = None,
    ) -> None:
        """`first_page`: the queue's first page, already asked of `backend` (see
        console.widgets.queue.first_page); the queue pane uses it when it is for its view."""
        super().__init__()
        self.backend = backend
        self.first_page = first_page
        self.now: Callable[[], datetime] = clock or utcnow
        self.poll_interval = poll_interval
        self.settings = Settings.load(settings_path)
        self.drafts = Drafts(self.settings.drafts_path, scope=backend.location)
        self.capabilities = backend.capabilities  # what the console offers: see actions.NEEDS
        self.read_only = Capability.WRITE not in self.capabilities
        agent = backend.whoami()
        self.agent_name = agent.name
        self.agent_label = (
            agent.name
            if agent.display_name in ("", agent.name)
            else (f"{agent.display_name} ({agent.name})")
        )
        self.keymap: dict[str, str] = dict(self.settings.keys)
        self._themes_ready = False
        self._start_with_theme()
        # What is loaded by now (Textual, the backend, the themes) lives as long as the
        # console: keep it out of the cyclic collector's way, or every full collection
        # rescans it (~20 ms each, landing on keystrokes). Undone when the app ends.
        gc.freeze()
        self._gc_paused = False

    def on_load(self) -> None:
        """Start-up allocates a lot and frees little: the cyclic collector would only
        rescan it (dozens of passes before the queue is painted). It is paused until
        the workspace is complete (`started`), or the console ends."""
        if gc.isenabled():
            gc.disable()
            self._gc_paused = True

    def started(self) -> None:
        """The workspace is complete: what it loaded stays, the collector runs again."""
        if self._gc_paused:
            self._gc_paused = False
            gc.freeze()
            gc.enable()

    def on_unmount(self) -> None:
        self.started()
        gc.unfreeze()

    def _start_with_theme(self) -> None:
        """Register the themes and start in the chosen one.

        Set before the first CSS parse, without the watcher (Textual's documented
        `set_reactive(App.theme, …)`): setting `theme` once running would parse and
        apply every stylesheet a second time, at start-up."""
        for theme in THEMES:
            self.register_theme(theme)
        self._themes_registered = True
        name = (
            self.settings.theme if self.settings.theme in self.available_themes else DEFAULT_THEME
        )
        self.set_reactive(App.theme, name)
        dark = self.current_theme.dark
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self.add_class(f"-theme-{name}", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())

    def get_css_variables(self) -> dict[str, str]:
        """The chosen theme's variables. (App.__init__ asks once before Vista's themes
        are registered: that answer would be replaced at once, so none is computed.)"""
        if not self._themes_registered:
            return {}
        return super().get_css_variables()

    def load_more_css(self) -> None:
        """Read the rules for what the first paint does not show (the centre and side
        panes, dialogs): parsed right before the first of them is mounted, not before
        the queue is painted. App-wide and after vista.tcss, as if in the same file."""
        path = os.path.abspath(MORE_STYLESHEET)  # the key `Stylesheet.read` would use
        if not self.stylesheet.has_source(path, ""):
            self.stylesheet.add_source(
                MORE_STYLESHEET.read_text(encoding="utf-8"),
                read_from=(path, ""),
                is_default_css=False,
            )

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        self.load_more_css()  # a dialog may open before the other panes are in
        return super().push_screen(screen, *args, **kwargs)

    def get_default_screen(self) -> WorkspaceScreen:
        """The workspace is the bottom of the screen stack (no blank screen under it)."""
        return WorkspaceScreen()

    def on_mount(self) -> None:
        self._themes_ready = True
        if self.keymap:
            self.set_keymap(self.keymap)
        for problem in (self.settings.problem, self.drafts.problem):
            if problem:
                self.notify(problem, title="Settings", severity="warning", markup=False, timeout=15)
        if not self.is_headless:
            self.set_interval(2.0, self._watch_terminal)

    def _watch_terminal(self) -> None:
        """Leave (drafts saved) when the terminal has gone away without a SIGHUP, e.g. a
        closed tmux pane under `make`: Textual's input thread would otherwise spin on the
        end of input, burning a core for as long as the process lives."""
        if terminal_hung_up(sys.__stdin__):
            self.exit()

    def watch_theme(self, theme: str) -> None:
        """Remember the theme, however it was changed (key, palette)."""
        settings = getattr(self, "settings", None)
        if settings is not None and settings.theme != theme and self._themes_ready:
            settings.theme = theme
            settings.save()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not actions.offered(action, self.capabilities):
            return False
        return not (actions.is_mutating(action) and self.read_only)

    def action_help(self) -> None:
        from console.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_search(self) -> None:
        from console.screens.search import SearchScreen

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


def terminal_hung_up(stream: Any) -> bool:
    """Whether the terminal behind `stream` has hung up (its other end closed). Only asks
    (poll, no read): whatever the user typed stays for the app's input thread."""
    try:
        fd = stream.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        events = poller.poll(0)
    except (AttributeError, OSError, ValueError):  # no such stream, or no poll() here
        return False
    return any(mask & (select.POLLHUP | select.POLLNVAL) for _fd, mask in events)
