"""Small modal pickers: a fuzzy template finder, an agent picker, priority and snooze choices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from backends.models import Article, Template
from console.safe_text import clean, content

T = TypeVar("T")


class Picker(ModalScreen[T | None], Generic[T]):
    """Pick one of `choices` (label, value), typing to fuzzy-filter them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "down", "Down", show=False, id="picker.down"),
        Binding("up", "up", "Up", show=False, id="picker.up"),
    ]

    def __init__(
        self, title: str, choices: Sequence[tuple[str, T]], previews: Sequence[str] | None = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.previews = list(previews) if previews is not None else None
        self.shown: list[int] = list(range(len(self.choices)))

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker"):
            yield Static(Content.styled(self.title_text, "bold"), classes="picker-title")
            yield Input(placeholder="type to filter", id="picker-input")
            yield OptionList(id="picker-list")
            if self.previews is not None:
                yield Static(id="picker-preview", classes="picker-preview")

    def on_mount(self) -> None:
        self._refill("")
        self.query_one(Input).focus()

    def _refill(self, text: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if text.strip():
            matcher = Matcher(text)
            scored = [(matcher.match(clean(label)), i) for i, (label, _) in enumerate(self.choices)]
            self.shown = [i for score, i in sorted(scored, key=lambda s: -s[0]) if score > 0]
            prompts = [matcher.highlight(clean(self.choices[i][0])) for i in self.shown]
        else:
            self.shown = list(range(len(self.choices)))
            prompts = [content(self.choices[i][0]) for i in self.shown]
        options.add_options([Option(p, id=str(i)) for p, i in zip(prompts, self.shown)])
        if self.shown:
            options.highlighted = 0
        self._preview()

    def _preview(self) -> None:
        if self.previews is None:
            return
        options = self.query_one(OptionList)
        i = options.highlighted
        text = self.previews[self.shown[i]] if i is not None and i < len(self.shown) else ""
        self.query_one("#picker-preview", Static).update(content(text, multiline=True))

    @on(Input.Changed, "#picker-input")
    def _typed(self, event: Input.Changed) -> None:
        self._refill(event.value)

    @on(OptionList.OptionHighlighted, "#picker-list")
    def _moved(self) -> None:
        self._preview()

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    @on(Input.Submitted, "#picker-input")
    def _submit(self) -> None:
        self.submit()

    def submit(self) -> None:
        """Enter in the box: take the highlighted choice (subclasses may parse the text)."""
        i = self.query_one(OptionList).highlighted
        if i is not None and i < len(self.shown):
            self.dismiss(self.choices[self.shown[i]][1])

    @on(OptionList.OptionSelected, "#picker-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class TypedPicker(Picker[T]):
    """A picker whose box also takes a typed value: `parse(text)` (None when it is not one)."""

    def __init__(
        self, title: str, choices: Sequence[tuple[str, T]], parse: Callable[[str], T | None]
    ) -> None:
        super().__init__(title, choices)
        self.parse = parse

    def submit(self) -> None:
        typed = self.parse(self.query_one(Input).value)
        if typed is not None:
            self.dismiss(typed)
        else:
            super().submit()


def template_picker(templates: Sequence[Template]) -> Picker[Template]:
    """The fuzzy template finder; labels show name, channel and language."""
    choices = []
    for t in templates:
        tags = " ".join(
            x
            for x in (
                t.channel.value if t.channel else "any channel",
                t.language,
                "approved" if t.whatsapp_approved else "",
            )
            if x
        )
        choices.append((f"{t.name}  ({tags})", t))
    return Picker("Template", choices, previews=[t.body for t in templates])


def article_picker(articles: Sequence[Article]) -> Picker[tuple[Article, str]]:
    """The suggested articles, best first: each as its text and as its link (when it has
    one), with the text as the preview."""
    choices: list[tuple[str, tuple[Article, str]]] = []
    previews: list[str] = []
    for a in articles:
        choices.append((f"{a.title}  ({a.language or 'any'}: insert text)", (a, "answer")))
        previews.append(a.body)
        if a.link:
            choices.append((f"{a.title}  ({a.language or 'any'}: insert link)", (a, "link")))
            previews.append(a.link)
    return Picker("Knowledge base: best articles for this contact", choices, previews)
