"""Turning what an operator types into an FTS5 query, and the rows the index holds."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: bm25 weights of the index's columns: name, emails, phones, orders.
COLUMN_WEIGHTS = (10.0, 4.0, 4.0, 2.0)

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


def _fold(text: str) -> list[str]:
    """The tokens FTS5's unicode61 tokenizer makes of `text` (lower case, no diacritics)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall("".join(ch for ch in plain if not unicodedata.combining(ch)))


def rank_key(
    text: str, columns: Sequence[str | None], bm25: float, rowid: int
) -> tuple[float, int, float, int]:
    """The order of one full-text match among others, best first.

    bm25 divides by the length of the whole row, so a sparse duplicate holding only a
    name would outrank the full profile of the same name. First comes how well the
    words match (per column weight: a whole word counts 1, a prefix only 1/2), then how
    much the profile holds (its e-mail, phone and order tokens), then bm25.
    """
    words = _fold(text)
    matched = 0.0
    held = 0
    for i, (weight, value) in enumerate(zip(COLUMN_WEIGHTS, columns, strict=False)):
        tokens = _fold(value or "")
        if i:
            held += len(tokens)
        for w in words:
            if w in tokens:
                matched += weight
            elif any(t.startswith(w) for t in tokens):
                matched += weight / 2
    return (-matched, -held, bm25, rowid)
