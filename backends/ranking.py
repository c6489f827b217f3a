"""The order of customer search hits, shared by every store that ranks full-text matches."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: Weights of the search columns: name, emails, phones, orders.
COLUMN_WEIGHTS = (10.0, 4.0, 4.0, 2.0)

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> list[str]:
    """The words of `text` as a search index holds them (lower case, no diacritics)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    if not plain.isascii():  # (combining marks are not ASCII: most text skips this walk)
        plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return _WORD.findall(plain)


def rank_key(
    text: str, columns: Sequence[str | None], score: float, rowid: int
) -> tuple[float, int, float, int]:
    """The order of one full-text match among others, best first.

    The store's own relevance score (`score`, lower is better: SQLite's bm25, PostgreSQL's
    negated ts_rank) divides by the length of the whole row, so a sparse duplicate holding
    only a name would outrank the full profile of the same name. First comes how well the
    words match (per column weight: a whole word counts 1, a prefix only 1/2), then how
    much the profile holds (its e-mail, phone and order tokens), then the score.
    """
    words = fold(text)
    matched = 0.0
    held = 0
    for i, (weight, value) in enumerate(zip(COLUMN_WEIGHTS, columns, strict=False)):
        tokens = fold(value or "")
        if i:
            held += len(tokens)
        for w in words:
            if w in tokens:
                matched += weight
            elif any(t.startswith(w) for t in tokens):
                matched += weight / 2
    return (-matched, -held, score, rowid)
