"""Type-ahead customer search: results as you type, Enter opens the customer."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from backends.models import CustomerHit
from console.format import error_text
from console.host import backend_of
from console.safe_text import content
from console.widgets.common.hit_list import HitList


def hit_row(hit: CustomerHit) -> Content:
    return Content.assemble(
        content(hit.name or "(no name)", "bold"),
        "  ",
        content(hit.email, "$secondary"),
        "  ",
        content(hit.phone, "dim"),
        "  ",
        content(hit.city, "dim"),
        (f"  [{hit.matched}]", "dim"),
    )


class SearchScreen(ModalScreen[int | None]):
    """Returns the chosen customer id (or None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="search.close"),
        Binding("down", "down", "Down", show=False, id="search.down"),
        Binding("up", "up", "Up", show=False, id="search.up"),
    ]

    def __init__(self, debounce: float = 0.0) -> None:
        super().__init__()
        self.debounce = debounce
        self.hits: tuple[CustomerHit, ...] = ()
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog"):
            yield Static(
                Content.styled("Find a customer: name, e-mail, phone or order number", "bold")
            )
            yield Input(placeholder="type to search", id="search-input")
            yield HitList(id="search-results")
            yield Static(id="search-status")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        if self.debounce <= 0:
            self._search(text)  # exclusive: a newer keystroke supersedes this one
        else:
            self._timer = self.set_timer(self.debounce, lambda: self._search(text))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, text: str) -> None:
        try:
            hits = backend_of(self).search_customers(text, limit=30)
        except Exception as error:  # noqa: BLE001 - shown in place
            self.app.call_from_thread(self._failed, error_text(error, "Search"))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, text, hits)

    def _failed(self, text: str) -> None:
        self.query_one("#search-status", Static).update(Content.styled(text, "bold $error"))

    def _show(self, text: str, hits: tuple[CustomerHit, ...]) -> None:
        if text != self.query_one(Input).value:
            return  # a newer keystroke is on its way
        self.hits = hits
        results = self.query_one(OptionList)
        # one replacement, not clear + add: the list re-lays itself out only when the
        # number of hits changes, and a keystroke repaints just the list
        results.set_options([Option(hit_row(h), id=str(h.id)) for h in hits])
        if hits:
            results.highlighted = 0
        status = f"{len(hits)} found" if text.strip() else ""
        self.query_one("#search-status", Static).update(Content.styled(status, "dim"), layout=False)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    @on(Input.Submitted, "#search-input")
    def _submit(self) -> None:
        i = self.query_one(OptionList).highlighted
        if i is not None and i < len(self.hits):
            self.dismiss(self.hits[i].id)

    @on(OptionList.OptionSelected, "#search-results")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
