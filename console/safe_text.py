"""The only door for untrusted text (names, messages, subjects, page titles) into the UI and CLI.

`clean()` strips what could hijack a terminal or reorder what the operator
reads: ANSI/VT escape sequences, C0/C1 control characters (tab and newline
optional), Unicode bidi overrides/isolates and zero-width characters. `literal()` wraps the result
in a Rich `Text`, which is never parsed as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from backends.text import json_escaped, plain

if TYPE_CHECKING:  # the CLI uses clean() without loading Textual
    from textual.content import Content


def clean(text: object, *, multiline: bool = False, max_length: int | None = None) -> str:
    """Untrusted text made safe to show: escapes, controls, bidi overrides and zero-width
    characters removed (`backends.text.plain`, which the search index uses too).

    Args:
        multiline: keep newlines and tabs (message bodies); otherwise all
            whitespace runs become one space (names, subjects, table cells).
        max_length: cut to this many characters, ending with an ellipsis.
    """
    s = plain(text, multiline=multiline)
    if max_length is not None and len(s) > max_length:
        s = s[: max(0, max_length - 1)] + "…"
    return s


def json_text(document: str) -> str:
    """A JSON document with bidi and C1 control characters written as \\uXXXX escapes.

    The same data for any JSON parser (they can only occur inside strings),
    but nothing a terminal would act on when a script's output is shown.
    """
    return json_escaped(document)


def literal(text: object, style: str = "", **kwargs: bool | int | None) -> Text:
    """A Rich Text holding `clean(text)` verbatim: square brackets stay brackets."""
    return Text(clean(text, **kwargs), style=style)  # type: ignore[arg-type]


def content(text: object, style: str = "", **kwargs: bool | int | None) -> Content:
    """A Textual `Content` holding `clean(text)` verbatim; `style` may use theme variables."""
    from textual.content import Content

    shown = clean(text, **kwargs)  # type: ignore[arg-type]
    return Content.styled(shown, style) if style else Content(shown)
