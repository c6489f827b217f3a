"""The `?` help screen: every key binding, from the action registry."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from console import actions
from console.actions import format_key
from console.host import host


def bindings_table(keymap: dict[str, str], read_only: bool) -> Content:
    """One line per action: key, description, palette title, binding id (and whether blocked)."""
    lines = [
        Content.assemble(
            (f"{'Key':<9} {'Command (palette title)':<31} Binding id", "bold underline")
        )
    ]
    for spec in actions.ACTIONS:
        key = format_key(keymap.get(spec.id, spec.key))
        blocked = read_only and spec.mutating
        style = "dim strike" if blocked else ""
        lines.append(
            Content.assemble(
                (f"{key:<9} ", "bold $accent"), (f"{spec.title:<31} ", style), (spec.id, "dim")
            )
        )
    lines.append(Content(""))
    lines.append(
        Content.styled(
            "Queue list: ↑ ↓ PgUp PgDn Home End, Enter opens. ctrl+p command palette, ctrl+q quit.",
            "dim",
        )
    )
    if read_only:
        lines.append(Content.styled("READ-ONLY: struck-out actions are blocked.", "bold $error"))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(Content.styled("Vista — key bindings", "bold $primary"))
            app = host(self)
            yield Static(bindings_table(app.keymap, app.read_only))

    def action_close(self) -> None:
        self.dismiss(None)
