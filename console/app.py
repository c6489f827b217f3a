"""The Vista console: a thin App that registers themes, settings, key overrides and
the workspace, and gets its Backend injected (console.host holds what screens and panes
ask of it).

Start-up matters (an operator opens it many times a shift): screens other than the
workspace, and the palette provider, are imported when first used (console.lazy).
"""

from __future__ import annotations

import select
import sys
import time
from typing import Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import BindingType

from backends.models import Presence
from console import actions, lazy
from console.host import VistaHost
from console.screens.workspace import WorkspaceScreen
from themes import DEFAULT_THEME, STYLESHEET, THEME_NAMES, THEMES

#: While I am online, a key pressed this long after the last one tells the store I am still
#: here (an online operator idle past the routing rules' limit counts as away).
HEARTBEAT_SECONDS = 60.0


class VistaApp(VistaHost):
    """The operator console."""

    CSS_PATH = STYLESHEET
    TITLE = "Vista"
    BINDINGS: ClassVar[list[BindingType]] = actions.bindings("app")  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {lazy.palette_provider}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._themes_ready = False
        self._presence: Presence | None = None  # as last set from this console
        self._heartbeat = 0.0
        for theme in THEMES:
            self.register_theme(theme)
        chosen = self.settings.theme
        self._start_in(chosen if chosen in self.available_themes else DEFAULT_THEME)

    def _start_in(self, name: str) -> None:
        """Start in theme `name`: what setting `theme` does, minus its re-parse of every
        stylesheet (nothing is parsed yet, and the first parse uses these variables).
        Textual's ANSI-to-truecolor filter keeps the mapping it was built with until the
        theme changes: the console draws with theme colours only, so it maps nothing."""
        self.set_reactive(App.theme, name)
        dark = self.current_theme.dark
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self.set_class(True, f"-theme-{name}", update=False)
        self.stylesheet.set_variables(self.get_css_variables())

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
        if self._themes_ready and self.settings.theme != theme:
            self.settings.theme = theme
            self.settings.save()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not actions.offered(action, self.capabilities):
            return False
        return not (actions.is_mutating(action) and self.read_only)

    def action_help(self) -> None:
        if self.screen.id != "help":
            self.push_screen(lazy.help_screen())

    def action_search(self) -> None:
        if self.screen.id == "search":
            return

        def opened(customer_id: int | None) -> None:
            if customer_id is not None:
                self.show_customer(customer_id)

        self.push_screen(lazy.search_screen(), opened)

    def action_supervisor(self) -> None:
        """The Supervisor screen: live KPIs, backlog, agent load (read-only)."""
        if self.screen.id != "supervisor":
            self.push_screen(lazy.supervisor_screen(self.backend, self.now))

    def action_identity_review(self) -> None:
        """The identity review screen: suggested duplicates to merge or reject."""
        if self.screen.id != "identity":
            self.push_screen(lazy.identity_screen())

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and self._presence is Presence.ONLINE
            and time.monotonic() - self._heartbeat > HEARTBEAT_SECONDS
        ):
            self._heartbeat = time.monotonic()
            self._still_here()
        await super().on_event(event)

    @work(thread=True, exclusive=True, group="heartbeat", exit_on_error=False)
    def _still_here(self) -> None:
        """Online and at the keyboard: keeps me from counting as away (and offers me what
        waits); a failure is left for the next key."""
        try:
            self.backend.set_presence(Presence.ONLINE)
        except Exception:  # noqa: BLE001, S110 - a missed heartbeat only ages my activity
            pass

    def action_presence(self) -> None:
        """Cycle my presence online -> away -> offline: only online operators get contacts."""
        self._set_presence(self.backend.whoami().presence)

    @work(thread=True, exclusive=True, group="presence", exit_on_error=False)
    def _set_presence(self, current: Presence) -> None:
        order = (Presence.ONLINE, Presence.AWAY, Presence.OFFLINE)
        wanted = order[(order.index(current) + 1) % 3] if current in order else Presence.ONLINE
        if self._presence is not None:
            wanted = order[(order.index(self._presence) + 1) % 3]
        try:
            state = self.backend.set_presence(wanted)
        except Exception as error:  # noqa: BLE001 - shown, the console goes on
            self.call_from_thread(
                self.notify, str(error), title="Presence", severity="error", markup=False
            )
            return
        self._presence = state.presence
        self._heartbeat = time.monotonic()
        self.call_from_thread(
            self.notify,
            f"You are {state.presence.value}"
            + (": new contacts come to you" if state.presence is Presence.ONLINE else ""),
            title="Presence",
            markup=False,
        )

    def show_customer(self, customer_id: int) -> None:
        """Back to the workspace (closing the dialogs over it) with this customer open."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, WorkspaceScreen):
            self.pop_screen()
        if isinstance(self.screen, WorkspaceScreen):
            self.screen.open_customer(customer_id)

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
