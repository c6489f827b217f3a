"""Customer search on PostgreSQL: full text over `customer_search.doc` (words as prefixes,
weighted A name, B e-mails, C phones, D order numbers), ranked by the same rules as the
SQLite store (`backends.ranking`), with trigram similarity of names for typos."""

from __future__ import annotations

import re
from typing import Any

from backends.ranking import rank_key

#: How many full-text matches are ranked for one search (as the SQLite store).
SEARCH_WINDOW = 1000

#: ts_rank weights {D, C, B, A}: the SQLite store's bm25 column weights, scaled to 0..1.
TS_WEIGHTS = "{0.2, 0.4, 0.4, 1.0}"

_PHONEISH = re.compile(r"^\+?[\d\s().\-/]+$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def ts_query(text: str) -> tuple[str, str, str] | None:
    """What `text` asks for: (a to_tsquery expression in SQL over one parameter, its
    parameter, the target: phone, email or text). None when nothing is searchable.

    The parameter is folded by `vista_words` in SQL (as the index was), so the query
    holds only letters and digits: tsquery syntax in the input is inert."""
    text = text.strip()
    if not text:
        return None
    if _PHONEISH.match(text):
        digits = re.sub(r"\D", "", text).removeprefix("00")
        if len(digits) >= 3:
            return "to_tsquery('simple', %s || ':*C')", digits, "phone"
    if not _WORD.search(text):
        return None
    words = "trim(vista_words(%s))"
    if "@" in text:
        phrase = f"regexp_replace({words}, ' +', ':B <-> ', 'g') || ':*B'"
        return f"to_tsquery('simple', {phrase})", text, "email"
    every = f"regexp_replace({words}, ' +', ':* & ', 'g') || ':*'"
    return f"to_tsquery('simple', {every})", text, "text"


def first_keystroke(text: str) -> list[tuple[str, str]] | None:
    """For a single letter or digit: tsquery texts, best column first (names, or phones
    for a digit, then anything), listed in store order without ranking, as SQLite does."""
    text = text.strip().lower()
    if len(text) != 1 or not _WORD.fullmatch(text):
        return None
    return [(f"{text}:*C" if text.isdigit() else f"{text}:*A", "phone" if text.isdigit()
             else "text"), (f"{text}:*", "text")]  # fmt: skip


def rank(text: str, target: str, found: list[Any]) -> list[Any]:
    """Rows (customer_id, ts_rank, name, emails, phones, orders), best first."""
    if target == "text":
        return sorted(found, key=lambda r: rank_key(text, r[2:], -r[1], r[0]))
    return sorted(found, key=lambda r: (-r[1], r[0]))
