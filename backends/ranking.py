"""The order of customer search hits, shared by every store that ranks full-text matches."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: Weights of the search columns: name, emails, phones, orders.
COLUMN_WEIGHTS = (10.0, 4.0, 4.0, 2.0)

_WORD = re.compile(r"\w+", re.UNICODE)
#: `\w+` on lower-case ASCII text (what `fold` finds there, without its Unicode steps).
_ASCII_WORD = re.compile(r"[a-z0-9_]+")

RankKey = tuple[float, int, float, int]


def fold(text: str) -> list[str]:
    """The words of `text` as a search index holds them (lower case, no diacritics)."""
    if text.isascii():  # most text: NFKD and the combining marks change nothing
        return _ASCII_WORD.findall(text.lower())
    plain = unicodedata.normalize("NFKD", text.lower())
    if not plain.isascii():  # (combining marks are not ASCII: most text skips this walk)
        plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return _WORD.findall(plain)


class Ranking:
    """The order of full-text matches for one search: what was typed is folded once,
    then `key` places each matching row.

    The store's own relevance score (`score`, lower is better: SQLite's bm25, PostgreSQL's
    negated ts_rank) divides by the length of the whole row, so a sparse duplicate holding
    only a name would outrank the full profile of the same name. First comes how well the
    words match (per column weight: a whole word counts 1, a prefix only 1/2), then how
    much the profile holds (its e-mail, phone and order tokens), then the score.
    """

    def __init__(self, text: str) -> None:
        # a token is a run of word characters, so " w" starts a token and " w " is one;
        # a word that is not even part of a column's text cannot match there (cheap test)
        self._words = [(w, f" {w}", f" {w} ") for w in fold(text)]

    def key(self, columns: Sequence[str | None], score: float, rowid: int) -> RankKey:
        """Where a row holding `columns` (name, emails, phones, orders) ranks: lower first."""
        matched = 0.0
        held = 0
        for i, (weight, value) in enumerate(zip(COLUMN_WEIGHTS, columns, strict=False)):
            if not value:
                continue
            if value.isascii():  # fold() without its call and Unicode steps
                low = value.lower()
                tokens = _ASCII_WORD.findall(low)
            else:
                tokens = fold(value)
                low = " ".join(tokens)
            if i:
                held += len(tokens)
            spaced = ""
            for w, prefix, whole in self._words:
                if w in low:
                    spaced = spaced or f" {' '.join(tokens)} "
                    if prefix in spaced:
                        matched += weight if whole in spaced else weight / 2
        return (-matched, -held, score, rowid)
