"""The "new caller" card: a call from a number no customer has, with a quick create
(name and e-mail) that names the customer the call created."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from backends.models import Call
from console.safe_text import content


class NewCallerCard(ModalScreen[tuple[str, str] | None]):
    """Who is calling from an unknown number: dismissed with (name, e-mail), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Later", id="new_caller.cancel"),
    ]

    def __init__(self, call: Call) -> None:
        super().__init__(id="new-caller")
        self.call = call

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker"):
            yield Static(Content.styled("New caller", "bold"), classes="picker-title")
            yield Static(content(f"Calling: {self.call.caller}"), id="new-caller-number")
            yield Input(placeholder="name (first and last)", id="new-caller-name")
            yield Input(placeholder="e-mail (optional)", id="new-caller-email")
            yield Static(
                content("enter: create the customer   escape: later"), classes="picker-preview"
            )

    def on_mount(self) -> None:
        self.query_one("#new-caller-name", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        name = self.query_one("#new-caller-name", Input).value.strip()
        email = self.query_one("#new-caller-email", Input).value.strip()
        if event.input.id == "new-caller-name" and not email:
            self.query_one("#new-caller-email", Input).focus()
            return
        if not name:
            self.notify("A name is needed", severity="warning", markup=False)
            self.query_one("#new-caller-name", Input).focus()
            return
        self.dismiss((name, email))

    def action_cancel(self) -> None:
        self.dismiss(None)
