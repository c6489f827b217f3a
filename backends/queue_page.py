"""A queue page read by keyset, for every store: the statement in queue order from a
cursor's key, and the page with its cursors. Each store gives its filters, its contact
columns, its parameter mark (`?` or `%s`) and its own reading of a cursor and a row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backends.models import Contact, QueuePage
from backends.records import encode_cursor

#: Queue order, all ascending so that a row value walks one index: priority (urgent
#: first), SLA due (none last), age, id.
ORDER = ("prio_sort", "sla_sort", "created_at", "id")


def statement(
    columns: str,
    source: str,
    where: Sequence[str],
    params: Sequence[Any],
    after: Sequence[int] | None,
    rows_wanted: int,
    backwards: bool,
    mark: str,
) -> tuple[str, list[Any]]:
    """The SELECT of `rows_wanted` contacts after (before, `backwards`) the queue key
    `after` (a decoded cursor) in queue order, and its parameters."""
    where, params = list(where), list(params)
    if after is not None:
        op = "<" if backwards else ">"
        keys = ", ".join(f"c.{k}" for k in ORDER)
        where.append(f"({keys}) {op} ({', '.join([mark] * len(ORDER))})")
        params.extend(after)
    direction = "DESC" if backwards else "ASC"
    order = ", ".join(f"c.{k} {direction}" for k in ORDER)
    sql = (
        f"SELECT {columns} FROM {source} "
        f"WHERE {' AND '.join(where) or '1 = 1'} ORDER BY {order} LIMIT {mark}"
    )
    return sql, [*params, rows_wanted]


def page(
    found: list[Any],
    limit: int,
    cursor: str | None,
    backwards: bool,
    key: Callable[[Any], tuple[int, ...]],
    contact: Callable[[Any], Contact],
) -> QueuePage:
    """The page of `found` (up to `limit` + 1 rows in the statement's order: one more says
    there is more), with the cursors to the rows around it."""
    more = len(found) > limit
    found = found[:limit]
    if backwards:
        found.reverse()
    if not found:
        return QueuePage((), None, None)
    first = encode_cursor(*key(found[0]))
    last = encode_cursor(*key(found[-1]))
    prev_cursor: str | None
    next_cursor: str | None
    if backwards:
        prev_cursor, next_cursor = (first if more else None), last
    else:
        prev_cursor = first if cursor is not None else None
        next_cursor = last if more else None
    return QueuePage(tuple(contact(r) for r in found), next_cursor, prev_cursor)
