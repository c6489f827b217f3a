"""Provenance on demand: where each profile value of a customer came from (source, record,
time) and the values that lost to it. A modal over the workspace; it only reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from backends.models import FieldProvenance
from console.format import TIMEZONE, error_text, when
from console.host import backend_of
from console.safe_text import clean, content

#: Profile fields as people say them; unknown fields keep their own name.
FIELD_LABEL = {
    "first_name": "first name",
    "last_name": "last name",
    "birth_date": "birth date",
    "emails": "e-mails",
    "phones": "phones",
    "addresses": "addresses",
    "language": "language",
    "tier": "tier",
    "segment": "segment",
}
LABEL_WIDTH = 12
HINT = (
    "Each profile value, the source record it was chosen from, and the values that lost. "
    "Esc closes."
)


def value_text(value: Any) -> str:
    """One profile value as one line of plain text (addresses as 'street, code city, cc')."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Mapping):
        keys = ("street", "postal_code", "city", "region", "country")
        if any(k in value for k in keys):
            street = clean(value.get("street", ""))
            town = f"{clean(value.get('postal_code', ''))} {clean(value.get('city', ''))}".strip()
            parts = [street, town, clean(value.get("region", "")), clean(value.get("country", ""))]
            return ", ".join(p for p in parts if p) or "—"
        return ", ".join(f"{clean(k)}={clean(v)}" for k, v in value.items())
    return clean(value)


def provenance_content(fields: tuple[FieldProvenance, ...]) -> Content:
    """One block per field: the value(s), where from and when, and what lost."""
    if not fields:
        return Content.styled("No provenance recorded for this customer.", "dim")
    pad = " " * (LABEL_WIDTH + 1)
    blocks: list[Content] = []
    for prov in fields:
        label = FIELD_LABEL.get(prov.field, clean(prov.field))
        values = list(prov.value) if isinstance(prov.value, (list, tuple)) else [prov.value]
        lines: list[Content] = []
        for i, value in enumerate(values or [None]):
            text = value_text(value)
            came = prov.sources.get(text) if isinstance(value, str) else None
            lines.append(
                Content.assemble(
                    (f"{label if i == 0 else '':<{LABEL_WIDTH}} ", "bold"),
                    content(text),
                    ("  ← " if came else "", "dim"),
                    content(came or "", "$secondary"),
                )
            )
        at = f" · {when(prov.at)} {TIMEZONE}" if prov.at is not None else ""
        lines.append(
            Content.assemble(
                pad,
                ("chosen from ", "dim"),
                content(prov.source or "?", "bold $secondary"),
                (" record ", "dim"),
                content(prov.source_id or "?"),
                (at, "dim"),
            )
        )
        if prov.losers:
            lost = "; ".join(value_text(v) for v in prov.losers)
            lines.append(Content.assemble(pad, ("lost: ", "$warning"), content(lost, "dim")))
        blocks.append(Content("\n").join(lines))
    return Content("\n\n").join(blocks)


class ProvenanceScreen(ModalScreen[None]):
    """`backend.provenance(customer_id)`, loaded in a worker; escape closes."""

    DEFAULT_CSS = """
    ProvenanceScreen #provenance-dialog {
        width: 90%; max-width: 120; height: 85%;
        background: $surface; border: round $primary; padding: 0 1;
    }
    ProvenanceScreen #provenance-title { height: auto; margin-bottom: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,P,q", "close", "Close", id="provenance.close"),
    ]

    class _Loaded(Message):
        def __init__(self, fields: tuple[FieldProvenance, ...]) -> None:
            super().__init__()
            self.fields = fields

    class _Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, customer_id: int, name: str = "") -> None:
        super().__init__()
        self.customer_id = customer_id
        self.customer_name = name
        self.fields: tuple[FieldProvenance, ...] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="provenance-dialog"):
            yield Static(self._title(), id="provenance-title")
            yield Static(Content.styled("Loading provenance…", "dim"), id="provenance-body")

    def _title(self) -> Content:
        who = [content(self.customer_name, "bold"), " "] if self.customer_name else []
        return Content.assemble(
            ("Provenance · ", "bold $primary"),
            *who,
            (f"#{self.customer_id}", "dim"),
            "\n",
            (HINT, "dim"),
        )

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="provenance", exit_on_error=False)
    def load(self) -> None:
        """Read the provenance (a read: allowed in read-only mode)."""
        try:
            fields = backend_of(self).provenance(self.customer_id)
        except Exception as error:  # noqa: BLE001 - shown in the dialog
            self.post_message(self._Failed(error_text(error, "Provenance")))
            return
        self.post_message(self._Loaded(fields))

    def on_provenance_screen__loaded(self, message: _Loaded) -> None:
        self.fields = message.fields
        self.query_one("#provenance-body", Static).update(provenance_content(message.fields))

    def on_provenance_screen__failed(self, message: _Failed) -> None:
        self.query_one("#provenance-body", Static).update(
            Content.styled(message.text, "bold $error")
        )

    def action_close(self) -> None:
        self.dismiss(None)
