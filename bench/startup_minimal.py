"""The start-up baseline: a minimal Textual app, started exactly like the console.

Run by bench/console_bench.py as `python -m bench.startup_minimal` (headless,
160x48). When its first screen has been painted it prints one JSON line
(`painted`: time.monotonic(), `rss_kb`: peak RSS) and exits.
"""

from __future__ import annotations

import json
import time

from textual.app import App, ComposeResult
from textual.widgets import Footer, Static

from bench.rss import peak_rss_kb


class MinimalApp(App[dict[str, float]]):
    """A static line and a footer: the least a Textual app paints."""

    def compose(self) -> ComposeResult:
        yield Static("Hello")
        yield Footer()

    def on_mount(self) -> None:
        self.screen.call_after_refresh(self._painted)

    def _painted(self) -> None:
        self.exit({"painted": time.monotonic(), "rss_kb": peak_rss_kb()})


if __name__ == "__main__":
    print(json.dumps(MinimalApp().run(headless=True, size=(160, 48))), flush=True)
