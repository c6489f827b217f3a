"""Customer search on PostgreSQL: full text over `customer_search.doc` (words as prefixes,
weighted A name, B e-mails, C phones, D order numbers), ranked by the same rules as the
SQLite store (`backends.ranking`), with trigram similarity of names for typos.

Every statement here runs unprepared (`prepare=False`): psycopg prepares a statement run
five times on a connection, and PostgreSQL then may plan it once for any words, which
for a common prefix is a scan of every match instead of a short walk in id order."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from backends.ranking import Ranking

Conn = psycopg.Connection[Any]

#: How many full-text matches are ranked for one search (as the SQLite store): the first
#: ones in customer id order.
SEARCH_WINDOW = 1000

#: ts_rank weights {D, C, B, A}: the SQLite store's bm25 column weights, scaled to 0..1.
TS_WEIGHTS = "{0.2, 0.4, 0.4, 1.0}"

#: Customer ids a search walks first, in id order (about a millisecond at any size): a
#: common prefix finds its window there, and a rarer one shows how rare it is.
PROBE_IDS = 4000

#: Costs in microseconds, measured at 1,000,000 customers: walking one customer in id
#: order (checking its document), one posting the full-text index reads for a prefix,
#: one id of the key's range as a bitmap, and fetching one matching row the index
#: found, beyond what the walk pays for it (a page read out of order, then a sort).
WALK_COST, POSTING_COST, KEY_COST, FETCH_COST = 0.5, 0.45, 0.05, 4.0

#: How far past the expected end of the window the full-text index's range reaches.
RANGE_MARGIN = 1.25

#: The ends of the first and last ranges read (bigint's largest): every id, and those of
#: customers added meanwhile.
_NO_END = 2**63 - 1

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


def window(
    db: Conn, tsq: str, param: str, size: int, columns: str = "customer_id"
) -> list[tuple[Any, ...]]:
    """The first `size` customers, in id order, whose document matches the tsquery `tsq`
    (SQL over the one parameter `param`, known in `columns` as `q`): rows of `columns`.

    The same rows as `WHERE doc @@ q ORDER BY customer_id LIMIT size`, read the cheaper of
    two ways, chosen from what the first PROBE_IDS customers hold: walking on in id order
    (its cost grows as the words get rarer), or the full-text index for the rest, limited
    to the ids where the window should end (its cost grows with the matches). The first
    customers stand for the rest, as customers given ids in arrival order do; where they
    do not, the choice costs more time, never other rows."""
    walk = (
        f"SELECT {columns} FROM customer_search, {tsq} AS q WHERE customer_id > %s "
        "AND customer_id <= %s AND ts_match_vq(doc, q) ORDER BY customer_id LIMIT %s"
    )  # ts_match_vq is @@ as a function: no index can answer it, so this walks the key
    found = _rows(db, walk, (param, -_NO_END - 1, PROBE_IDS, size))
    need = size - len(found)
    if need <= 0:
        return found
    top = int(_rows(db, "SELECT coalesce(max(customer_id), 0) FROM customer_search", ())[0][0])
    if top <= PROBE_IDS:
        return found
    share = len(found) / PROBE_IDS
    walked = need / share if share else float(top)
    span = walked * RANGE_MARGIN
    indexed_cost = share * (top - PROBE_IDS) * POSTING_COST + span * KEY_COST + need * FETCH_COST
    if walked * WALK_COST < indexed_cost:
        return found + _rows(db, walk, (param, PROBE_IDS, _NO_END, need))
    indexed = (
        f"SELECT {columns} FROM customer_search, {tsq} AS q WHERE doc @@ q "
        "AND customer_id > %s AND customer_id <= %s ORDER BY customer_id LIMIT %s"
    )
    end = PROBE_IDS + int(span) + 1
    end = _NO_END if end >= top else end
    # Not the key's index in order (the planner's choice for a range, whose cost is the
    # walk's): the full-text index's matches and the key's range, as bitmaps, then sorted.
    before = _rows(
        db,
        "SELECT current_setting('enable_indexscan'), set_config('enable_indexscan', 'off', true)",
        (),
    )[0][0]
    start = PROBE_IDS
    while True:
        found += _rows(db, indexed, (param, start, end, size - len(found)))
        if len(found) >= size or end == _NO_END:
            break
        # fewer matches there than the first customers promised: twice as far, then on
        start, end = end, end + 2 * (end - start)
        end = _NO_END if end >= top else end
    _rows(db, "SELECT set_config('enable_indexscan', %s, true)", (before,))
    return found


def ranked(db: Conn, text: str, tsq: str, param: str, target: str, limit: int) -> list[int]:
    """The best `limit` of the SEARCH_WINDOW first matches, best first: by the shared
    ranking rules for words, by ts_rank (then id) for a phone or an e-mail."""
    found = window(
        db,
        tsq,
        param,
        SEARCH_WINDOW,
        f"customer_id, ts_rank('{TS_WEIGHTS}', doc, q), name, emails, phones, orders",
    )
    if target == "text":
        key = Ranking(text).key
        found.sort(key=lambda r: key(r[2:], -r[1], r[0]))
    else:
        found.sort(key=lambda r: (-r[1], r[0]))
    return [r[0] for r in found[:limit]]


def typos(db: Conn, text: str, limit: int) -> list[int]:
    """Customers whose name's trigrams are close to `text`, closest first."""
    return [
        r[0]
        for r in _rows(
            db,
            "SELECT customer_id FROM customer_search WHERE vista_words(name) %% vista_words(%s) "
            "ORDER BY similarity(vista_words(name), vista_words(%s)) DESC, customer_id LIMIT %s",
            (text, text, limit),
        )
    ]


def _rows(db: Conn, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Plain tuples (no named rows: ranking reads a thousand), planned for these values."""
    with db.cursor(row_factory=tuple_row) as cursor:
        return cursor.execute(sql, params, prepare=False).fetchall()  # type: ignore[arg-type]
