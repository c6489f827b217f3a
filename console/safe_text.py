"""The only door for untrusted text (names, messages, subjects, page titles) into the UI and CLI.

`clean()` strips what could hijack a terminal or reorder what the operator
reads: ANSI/VT escape sequences, C0/C1 control characters (tab and newline
optional) and Unicode bidi overrides/isolates. `literal()` wraps the result
in a Rich `Text`, which is never parsed as markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:  # the CLI uses clean() without loading Textual
    from textual.content import Content

# CSI, OSC (terminated by BEL or ST), and other two-byte ESC sequences
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS / SOS / PM / APC ... ST
    r"|\x1b[@-Z\\-_]"  # 7-bit C1
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# bidi embeddings/overrides/isolates and marks that can reorder text
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_CONTROL = (
    "".join(chr(c) for c in range(0x20) if c not in (0x09, 0x0A))
    + "\x7f"
    + "".join(chr(c) for c in range(0x80, 0xA0))
)
_STRIP = str.maketrans("", "", _BIDI + _CONTROL)
_WS = re.compile(r"\s+")


def clean(text: object, *, multiline: bool = False, max_length: int | None = None) -> str:
    """Untrusted text made safe to show: escapes, controls and bidi overrides removed.

    Args:
        multiline: keep newlines and tabs (message bodies); otherwise all
            whitespace runs become one space (names, subjects, table cells).
        max_length: cut to this many characters, ending with an ellipsis.
    """
    if text is None:
        return ""
    s = str(text)
    s = _ANSI.sub("", s).translate(_STRIP)
    if multiline:
        s = s.replace("\t", "    ")
    else:
        s = _WS.sub(" ", s).strip()
    if max_length is not None and len(s) > max_length:
        s = s[: max(0, max_length - 1)] + "…"
    return s


# JSON escapes C0 controls itself; these it would write raw (ensure_ascii=False)
_JSON_ESCAPES = {
    ord(c): f"\\u{ord(c):04x}" for c in _BIDI + "\x7f" + "".join(chr(c) for c in range(0x80, 0xA0))
}


def json_text(document: str) -> str:
    """A JSON document with bidi and C1 control characters written as \\uXXXX escapes.

    The same data for any JSON parser (they can only occur inside strings),
    but nothing a terminal would act on when a script's output is shown.
    """
    return document.translate(_JSON_ESCAPES)


def literal(text: object, style: str = "", **kwargs: bool | int | None) -> Text:
    """A Rich Text holding `clean(text)` verbatim: square brackets stay brackets."""
    return Text(clean(text, **kwargs), style=style)  # type: ignore[arg-type]


def content(text: object, style: str = "", **kwargs: bool | int | None) -> Content:
    """A Textual `Content` holding `clean(text)` verbatim; `style` may use theme variables."""
    from textual.content import Content

    plain = clean(text, **kwargs)  # type: ignore[arg-type]
    return Content.styled(plain, style) if style else Content(plain)
