"""A one-line footer of the keys that work now (Textual's `Footer`, lighter).

`Footer` rebuilds one widget per key whenever the allowed actions change,
which cost tens of milliseconds on every contact opened; this draws the same
information as a single line of text. Clicking a key runs its action.
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """Keys of the focused chain's shown bindings, disabled ones dimmed."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $panel;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._line = Content("")
        self._hits: list[tuple[int, int, str, DOMNode, bool]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._rebuild()  # the first paint shows the keys already

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._rebuild()

    def _rebuild(self) -> None:
        parts: list[tuple[str, str]] = []
        hits: list[tuple[int, int, str, DOMNode, bool]] = []
        seen: set[str] = set()
        x = 0
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = f" {self.app.get_key_display(binding)} "
            label = f"{binding.description} "
            parts += [
                (key, "bold $text-accent" if enabled else "$text-disabled"),
                (label, "$foreground" if enabled else "$text-disabled"),
            ]
            hits.append((x, x + len(key) + len(label), binding.action, node, enabled))
            x += len(key) + len(label)
        palette = f" {self.app.COMMAND_PALETTE_BINDING.replace('ctrl+', '^')} palette "
        parts.append((palette, "$foreground-muted"))
        line = Content.assemble(*parts)
        self._hits = hits
        if line != self._line or line.spans != self._line.spans:  # unchanged: no repaint
            self._line = line
            self.refresh()

    def render(self) -> Content:
        return self._line

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node, enabled in self._hits:
            if start <= event.x < end and enabled:
                await self.app.run_action(action, node)
                return
