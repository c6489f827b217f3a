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
    """Keys of the focused chain's shown bindings, disabled ones dimmed. On a narrow
    terminal the keys wrap to a second line (never cut in the middle of one); when two
    lines are not enough the disabled ones are left out first."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $panel;
    }
    """

    MAX_LINES = 2

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._line = Content("")
        self._items: list[tuple[str, str, str, DOMNode, bool]] = []
        # (start, end, action, node, enabled): start and end are offsets in the text,
        # lines counted one after another (see `_offset`)
        self._hits: list[tuple[int, int, str, DOMNode, bool]] = []
        self._line_starts: list[int] = [0]

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._rebuild()  # the first paint shows the keys already

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self) -> None:
        self._lay_out()

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._rebuild()

    def _rebuild(self) -> None:
        items: list[tuple[str, str, str, DOMNode, bool]] = []
        seen: set[str] = set()
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = f" {self.app.get_key_display(binding)} "
            items.append((key, f"{binding.description} ", binding.action, node, enabled))
        self._items = items
        self._lay_out()

    def _pack(
        self, items: list[tuple[str, str, str, DOMNode, bool]], width: int
    ) -> list[list[int]]:
        """Item indexes per line, each line at most `width` cells (the palette hint last)."""
        lines: list[list[int]] = [[]]
        used = 0
        for i, (key, label, *_rest) in enumerate(items):
            size = len(key) + len(label)
            if lines[-1] and used + size > width:
                lines.append([])
                used = 0
            lines[-1].append(i)
            used += size
        return lines

    def _lay_out(self) -> None:
        palette = f" {self.app.COMMAND_PALETTE_BINDING.replace('ctrl+', '^')} palette "
        items = [*self._items, (palette, "", "", self.screen, False)]
        width = self.size.width or self.app.size.width
        lines = self._pack(items, width)
        if len(lines) > self.MAX_LINES:  # the keys that work now matter most
            items = [item for item in items[:-1] if item[4]] + items[-1:]
            lines = self._pack(items, width)
        parts: list[tuple[str, str] | str] = []
        hits: list[tuple[int, int, str, DOMNode, bool]] = []
        starts: list[int] = []
        x = 0
        for y, line in enumerate(lines[: self.MAX_LINES]):
            if y:
                parts.append("\n")
                x += 1
            starts.append(x)
            for i in line:
                key, label, action, node, enabled = items[i]
                if not action:  # the palette hint
                    parts.append((key, "$foreground-muted"))
                    continue
                parts += [
                    (key, "bold $text-accent" if enabled else "$text-disabled"),
                    (label, "$foreground" if enabled else "$text-disabled"),
                ]
                hits.append((x, x + len(key) + len(label), action, node, enabled))
                x += len(key) + len(label)
        line_content = Content.assemble(*parts)
        self._hits, self._line_starts = hits, starts
        height = min(len(lines), self.MAX_LINES)
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        if line_content != self._line or line_content.spans != self._line.spans:
            self._line = line_content  # unchanged: no repaint
            self.refresh()

    def render(self) -> Content:
        return self._line

    async def on_click(self, event: events.Click) -> None:
        if not 0 <= event.y < len(self._line_starts):
            return
        offset = self._line_starts[event.y] + event.x
        for start, end, action, node, enabled in self._hits:
            if start <= offset < end and enabled:
                await self.app.run_action(action, node)
                return
