"""Identity review: the suggestions (possible duplicates below the automatic threshold), best
first, with a side-by-side comparison of the two customers; merge, reject, or open either one.

Every backend call runs in a thread worker; merge and reject are mutating actions, declared in
`console.actions` and blocked in read-only mode by `check_action` (and by the backend itself).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static

from backends.identity import normalise as norm
from backends.models import Address, Customer, IdentityJournalEntry, IdentitySuggestion
from console import actions
from console.format import error_text
from console.host import backend_of, host
from console.safe_text import clean, content, literal
from console.widgets.common.key_bar import KeyBar

#: How many suggestions the list asks for (best first); the backend allows up to 500.
LIMIT = 200
LABEL_WIDTH = 11
NAME_WIDTH = 14  # list columns: a name cut to this, then ' #id'
REASON_WIDTH = 28  # the list cuts the reason; the side panel shows it whole


Values = list[tuple[str, str]]  # (what is shown, what is compared)


def _loose(value: str) -> str:
    """Compare phone numbers ignoring case, spacing and punctuation."""
    return re.sub(r"[\s().,\-/]+", "", value.casefold())


def _address_key(address: Address) -> str:
    """The address as the matcher compares it: abbreviations expanded, case and accents gone."""
    return "|".join(
        (
            norm.street_key(address.street),
            norm.postal_code(address.postal_code),
            norm.city_key(address.city),
        )
    )


def compare_rows(a: Customer, b: Customer) -> list[tuple[str, Values, Values]]:
    """(label, A's values, B's values) for the fields a reviewer compares; each value comes
    with the key that decides whether the other side has 'the same' (as the matcher sees it)."""

    def fields(c: Customer) -> list[Values]:
        return [
            [(c.display_name, norm.name_key(c.display_name))],
            [(e, e.strip().casefold()) for e in c.emails],
            [(p, _loose(p)) for p in c.phones],
            [(x.one_line(), _address_key(x)) for x in c.addresses],
            [(c.birth_date, c.birth_date)] if c.birth_date else [],
            [(f"{r.source}:{r.source_id}", "") for r in c.sources],  # never "the same"
        ]

    labels = ("name", "e-mail", "phone", "address", "birth date", "sources")
    return list(zip(labels, fields(a), fields(b), strict=True))


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width`; a long e-mail breaks before its '@' (else after a '.')."""
    out: list[str] = []
    for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False):
        while len(line) > width:
            at = line.rfind("@", 1, width + 1)
            cut = at if at > 0 else line.rfind(".", 1, width) + 1 or width
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return out or [""]


def _column(values: Values, other: Values, width: int) -> list[Content]:
    """One side's values wrapped to `width`; a value the other side also has is marked '='."""
    if not values:
        return [Content.assemble("  ", ("—", "dim"))]
    theirs = {key for _, key in other if key}
    out: list[Content] = []
    for value, key in values:
        text = clean(value)
        same = bool(key) and key in theirs
        style = "$text-success" if same else ""
        for i, piece in enumerate(_wrap(text, max(8, width - 3))):
            mark = ("= " if same else "  ") if i == 0 else "  "
            out.append(
                Content.assemble(
                    (mark, "bold $text-success" if same else ""), content(piece, style)
                )
            )
    return out


def compare_content(a: Customer, b: Customer, width: int) -> Content:
    """Both customers side by side, field by field; shared values are marked '='."""
    col = max(16, (width - LABEL_WIDTH - 1) // 2)
    lines: list[Content] = [
        Content.assemble(
            (f"{'':<{LABEL_WIDTH}}", ""),
            (f"{f'A  #{a.id}':<{col}}", "bold $primary"),
            (f"B  #{b.id}", "bold $primary"),
        )
    ]
    for label, mine, theirs in compare_rows(a, b):
        left = _column(mine, theirs, col)
        right = _column(theirs, mine, col)
        for i in range(max(len(left), len(right))):
            cell_a = left[i] if i < len(left) else Content("")
            cell_b = right[i] if i < len(right) else Content("")
            lines.append(
                Content.assemble(
                    (f"{label if i == 0 else '':<{LABEL_WIDTH}}", "dim"),
                    cell_a.pad_right(max(0, col - cell_a.cell_length)),
                    cell_b,
                )
            )
    lines.append(Content(""))
    lines.append(
        Content.styled(
            "= the other customer has the same value (as the matcher compares them)", "dim"
        )
    )
    return Content("\n").join(lines)


def suggestion_head(s: IdentitySuggestion) -> Content:
    """The suggestion itself: score, reason, the two records that matched."""
    return Content.assemble(
        (f"Suggestion #{s.id}", "bold"),
        ("  score ", "dim"),
        (f"{s.score:.2f}", "bold"),
        "\n",
        content(s.reason, "$accent"),
        "\n",
        ("records ", "dim"),
        content(s.record_a),
        (" ↔ ", "dim"),
        content(s.record_b),
    )


class PairCompare(Widget):
    """The comparison panel: renders to its own width, so it reflows on resize."""

    DEFAULT_CSS = "PairCompare { height: auto; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suggestion: IdentitySuggestion | None = None
        self.pair: tuple[Customer, Customer] | None = None
        self.message = ""

    def show(
        self,
        suggestion: IdentitySuggestion | None,
        pair: tuple[Customer, Customer] | None = None,
        message: str = "",
    ) -> None:
        self.suggestion, self.pair, self.message = suggestion, pair, message
        self.refresh(layout=True)

    def render(self) -> Content:
        s = self.suggestion
        if s is None:
            return Content.styled(self.message or "No suggestion selected.", "dim")
        parts = [suggestion_head(s), Content("")]
        if self.pair is not None:
            width = self.content_size.width or 76
            parts.append(compare_content(*self.pair, width=width))
        else:
            style = "bold $error" if self.message else "dim"
            parts.append(Content.styled(self.message or "Loading both customers…", style))
        return Content("\n").join(parts)


class SuggestionTable(DataTable, inherit_bindings=False):  # type: ignore[type-arg]
    """The suggestion list: DataTable's keys minus enter, which the screen binds to 'open A'
    (so the key bar shows it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        b for b in DataTable.BINDINGS if not isinstance(b, Binding) or b.key != "enter"
    ]


class IdentityReviewScreen(Screen[None]):
    """Review the identity suggestions: `m` merge B into A, `x` reject, `enter`/`b` open A/B."""

    DEFAULT_CSS = """
    IdentityReviewScreen { layout: vertical; }
    IdentityReviewScreen #idr-head { height: 1; background: $panel; color: $text; padding: 0 1; }
    IdentityReviewScreen #idr-status { height: 1; padding: 0 1; color: $text-muted; }
    IdentityReviewScreen #idr-body { height: 1fr; }
    IdentityReviewScreen #idr-list { width: 1fr; height: 1fr; }
    IdentityReviewScreen #idr-side {
        width: 48%; min-width: 48; height: 1fr; padding: 0 1;
        border-left: vkey $panel-lighten-2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = actions.bindings("identity")  # type: ignore[assignment]
    ACTION_OWNER = "identity"  # the command palette offers the "identity" actions here

    class _Loaded(Message):
        def __init__(
            self, suggestions: tuple[IdentitySuggestion, ...], keep: int | None, index: int
        ) -> None:
            super().__init__()
            self.suggestions, self.keep, self.index = suggestions, keep, index

    class _Compared(Message):
        def __init__(
            self,
            suggestion: IdentitySuggestion,
            pair: tuple[Customer, Customer] | None,
            error: str = "",
        ) -> None:
            super().__init__()
            self.suggestion, self.pair, self.error = suggestion, pair, error

    class _Done(Message):
        """A merge or reject finished (`error` False) or failed; or the list failed to load."""

        def __init__(self, text: str, error: bool) -> None:
            super().__init__()
            self.text, self.error = text, error

    def __init__(self, limit: int = LIMIT) -> None:
        super().__init__()
        self.limit = limit
        self.suggestions: tuple[IdentitySuggestion, ...] = ()
        self.loaded = False  # the list has been read at least once
        self.busy = False  # a merge or reject is in flight
        self._compare_timer: Timer | None = None
        self._status_kept = False  # the last action's result stays until the next action

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="idr-head")
        yield Static(Content.styled("Loading suggestions…", "$text-muted"), id="idr-status")
        with Horizontal(id="idr-body"):
            yield SuggestionTable(id="idr-list", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="idr-side"):
                yield PairCompare(id="idr-compare")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("score", key="score", width=5)
        table.add_column("A", key="a", width=NAME_WIDTH + 7)
        table.add_column("B", key="b", width=NAME_WIDTH + 7)
        table.add_column("reason", key="reason", width=REASON_WIDTH)
        self._paint_head()
        table.focus()
        self.load()

    def _paint_head(self) -> None:
        parts: list[Any] = [("Identity review", "bold")]
        if self.loaded:
            parts += [" · ", (f"{len(self.suggestions)} suggestions, best first", "")]
        if host(self).read_only:
            parts += ["  ", (" READ-ONLY ", "bold $text-error on $error-muted")]
        self.query_one("#idr-head", Static).update(Content.assemble(*parts))

    def _status(self, text: str, style: str = "$text-muted") -> None:
        self.query_one("#idr-status", Static).update(Content.styled(text, style))

    @property
    def current(self) -> IdentitySuggestion | None:
        """The highlighted suggestion."""
        table = self.query_one(DataTable)
        row = table.cursor_row
        if not self.suggestions or row is None or not 0 <= row < len(self.suggestions):
            return None
        return self.suggestions[row]

    # -- loading -----------------------------------------------------------------------

    def load(self, keep: int | None = None, index: int = 0) -> None:
        """Reload the list; the cursor goes back to suggestion `keep`, else to row `index`."""
        self._load(keep, index)

    @work(thread=True, exclusive=True, group="identity-list", exit_on_error=False)
    def _load(self, keep: int | None, index: int) -> None:
        try:
            found = backend_of(self).identity_suggestions(self.limit)
        except Exception as error:  # noqa: BLE001 - shown, the screen stays usable
            self.post_message(self._Done(error_text(error, "Suggestions"), True))
            return
        self.post_message(self._Loaded(found, keep, index))

    def on_identity_review_screen__loaded(self, message: _Loaded) -> None:
        self.suggestions, self.loaded = message.suggestions, True
        table = self.query_one(DataTable)
        table.clear()
        for s in self.suggestions:
            table.add_row(
                literal(f"{s.score:.2f}"),
                literal(f"{clean(s.name_a, max_length=NAME_WIDTH)} #{s.customer_a}"),
                literal(f"{clean(s.name_b, max_length=NAME_WIDTH)} #{s.customer_b}"),
                literal(s.reason, max_length=REASON_WIDTH),
                key=str(s.id),
            )
        self._paint_head()
        if not self.suggestions:
            self.query_one(PairCompare).show(None, message="No suggestions to review.")
        else:
            ids = [s.id for s in self.suggestions]
            row = (
                ids.index(message.keep) if message.keep in ids else min(message.index, len(ids) - 1)
            )
            table.move_cursor(row=row)
            self._compare_soon()
        if not self._status_kept:
            more = f" (the first {self.limit})" if len(self.suggestions) >= self.limit else ""
            read_only = host(self).read_only
            what = (
                "merge and reject are blocked (read-only)"
                if read_only
                else "m merges B into A, x keeps them apart"
            )
            self._status(f"{len(self.suggestions)} suggestions{more}: {what}, enter/b opens A/B")
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#idr-list")
    def _moved(self) -> None:
        self._compare_soon()

    def _compare_soon(self) -> None:
        """Load the comparison after a short pause: holding an arrow key loads nothing."""
        if self._compare_timer is not None:
            self._compare_timer.stop()
        suggestion = self.current
        if suggestion is None:
            return
        if self.query_one(PairCompare).suggestion != suggestion:
            self.query_one(PairCompare).show(suggestion)
        self._compare_timer = self.set_timer(0.03, lambda: self._compare(suggestion))

    @work(thread=True, exclusive=True, group="identity-compare", exit_on_error=False)
    def _compare(self, suggestion: IdentitySuggestion) -> None:
        backend = backend_of(self)
        try:
            pair = (
                backend.get_customer(suggestion.customer_a),
                backend.get_customer(suggestion.customer_b),
            )
        except Exception as error:  # noqa: BLE001 - shown in the panel
            self.post_message(self._Compared(suggestion, None, error_text(error, "Customer")))
            return
        self.post_message(self._Compared(suggestion, pair))

    def on_identity_review_screen__compared(self, message: _Compared) -> None:
        if message.suggestion == self.current:
            self.query_one(PairCompare).show(message.suggestion, message.pair, message.error)

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if actions.is_mutating(action) and host(self).read_only:
            return False
        if action in ("merge", "reject", "open_a", "open_b"):
            return (self.current is not None and not self.busy) or None
        return True

    def action_merge(self) -> None:
        s = self.current
        if s is None or self.busy or not self.check_action("merge", ()):
            return
        self._start(f"Merging #{s.customer_b} into #{s.customer_a}…")
        self._merge(s)

    def action_reject(self) -> None:
        s = self.current
        if s is None or self.busy or not self.check_action("reject", ()):
            return
        self._start(f"Rejecting suggestion #{s.id}…")
        self._reject(s)

    def _start(self, text: str) -> None:
        self.busy = True
        self._status_kept = True
        self._status(text)
        self.refresh_bindings()

    @work(thread=True, group="identity-write", exit_on_error=False)
    def _merge(self, s: IdentitySuggestion) -> None:
        backend = backend_of(self)
        try:
            entry: IdentityJournalEntry = backend.merge_customers(
                s.customer_a, s.customer_b, reason=f"review of suggestion {s.id}: {s.reason}"
            )
        except Exception as error:  # noqa: BLE001 - shown where it happened
            self.post_message(self._Done(error_text(error, "Merge"), True))
            return
        undo = " ".join(entry.records)
        self.post_message(
            self._Done(
                f"Merged #{entry.other_id} into #{entry.customer_id} (journal {entry.id}). "
                f"Undo: vista identity split {entry.customer_id} {undo}",
                False,
            )
        )

    @work(thread=True, group="identity-write", exit_on_error=False)
    def _reject(self, s: IdentitySuggestion) -> None:
        try:
            backend_of(self).reject_suggestion(s.id)
        except Exception as error:  # noqa: BLE001 - shown where it happened
            self.post_message(self._Done(error_text(error, "Reject"), True))
            return
        self.post_message(
            self._Done(
                f"Rejected suggestion #{s.id}: records {s.record_a} and {s.record_b} are kept "
                "apart.",
                False,
            )
        )

    def on_identity_review_screen__done(self, message: _Done) -> None:
        was_busy, self.busy = self.busy, False
        self._status_kept = True
        self._status(clean(message.text), "bold $error" if message.error else "$text-success")
        if was_busy:  # a merge or reject: the list changed (or may have)
            self.load(index=self.query_one(DataTable).cursor_row or 0)
        self.refresh_bindings()

    def action_refresh(self) -> None:
        self._status_kept = False
        self.load(keep=self.current.id if self.current else None)

    @on(DataTable.RowSelected, "#idr-list")
    def _selected(self) -> None:
        self.action_open_a()  # a click on the highlighted row

    def action_open_a(self) -> None:
        if self.current is not None:
            self._open(self.current.customer_a)

    def action_open_b(self) -> None:
        if self.current is not None:
            self._open(self.current.customer_b)

    def _open(self, customer_id: int) -> None:
        """Back to the workspace with this customer open."""
        host(self).show_customer(customer_id)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
