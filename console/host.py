"""What the console's screens and panes may ask of the app they run in: the backend, who
the operator is, the clock, settings and drafts, read-only mode.

Textual types `node.app` as any `App`; `host(node)` and `backend_of(node)` give the
console's app with its real type (and fail loudly if a pane is run in another app).
`console.app.VistaApp` builds on `VistaHost` with the screens, bindings and themes.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.dom import DOMNode

from backends.base import Backend, Capability
from backends.models import utcnow
from console.settings import Drafts, Settings, draft_scope

if TYPE_CHECKING:
    from console.widgets.queue.first_page import FirstPage


class VistaHost(App[None]):
    """The console's state shared by its screens and panes (set once, at start)."""

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
        self.backend: Backend = backend
        self.first_page = first_page
        self.now: Callable[[], datetime] = clock or utcnow
        self.poll_interval = poll_interval
        self.settings = Settings.load(settings_path)
        self.drafts = Drafts(self.settings.drafts_path, scope=draft_scope(backend))
        self.capabilities = backend.capabilities  # what the console offers: see actions.NEEDS
        self.read_only: bool = Capability.WRITE not in self.capabilities
        agent = backend.whoami()
        self.agent_name: str = agent.name
        self.agent_label = (
            agent.name
            if agent.display_name in ("", agent.name)
            else f"{agent.display_name} ({agent.name})"
        )
        self.keymap: dict[str, str] = dict(self.settings.keys)
        # What is loaded by now (Textual, the backend, the themes) lives as long as the
        # console: keep it out of the cyclic collector's way, or every full collection
        # rescans it (~20 ms each, landing on keystrokes). Undone when the app ends.
        gc.freeze()
        self._gc_paused = False

    def take_first_page(self) -> FirstPage | None:
        """The queue's first page asked at start-up, once (a later queue asks again)."""
        first, self.first_page = self.first_page, None
        return first

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

    def show_customer(self, customer_id: int) -> None:
        """Back to the workspace with this customer open (from search, identity review)."""
        raise NotImplementedError


def host(node: DOMNode) -> VistaHost:
    """The console app `node` runs in."""
    app = node.app
    if not isinstance(app, VistaHost):
        raise TypeError(f"{type(node).__name__} runs only inside the Vista console")
    return app


def backend_of(node: DOMNode) -> Backend:
    """The backend of the console `node` runs in."""
    return host(node).backend
