"""Turning what an operator types into an FTS5 query, and the rows the index holds."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
_PHONEISH = re.compile(r"^\+?[\d\s().\-/]+$")


def fts_query(text: str) -> tuple[str, str] | None:
    """An FTS5 MATCH expression for `text`, and what it targets.

    Returns None when the text has nothing searchable. Every token becomes a
    quoted prefix term, so FTS5 syntax in the input is inert.
    """
    text = text.strip()
    if not text:
        return None
    if _PHONEISH.match(text):
        digits = re.sub(r"\D", "", text)
        digits = digits.removeprefix("00")
        if len(digits) >= 3:
            return f'phones : "{digits}"*', "phone"
    if "@" in text:
        words = _WORD.findall(text.lower())
        if words:
            return 'emails : "' + " ".join(words) + '"*', "email"
    words = _WORD.findall(text.lower())
    if not words:
        return None
    return " AND ".join(f'"{w}"*' for w in words), "text"


def first_keystroke(text: str) -> list[tuple[str, str]] | None:
    """For a single character: column-scoped MATCH expressions, best column first.

    bm25() needs how many rows hold the term, which for a one-character prefix
    means reading a doclist of most of the store (~30 ms at a million
    customers), and it cannot tell such matches apart anyway. So a first
    keystroke lists names starting with it (or phones, for a digit), then
    anything else, in store order.
    """
    text = text.strip().lower()
    if len(text) != 1 or not _WORD.fullmatch(text):
        return None
    term = f'"{text}"*'
    if text.isdigit():
        return [(f"phones : {term}", "phone"), (term, "text")]
    return [(f"name : {term}", "text"), (term, "text")]
