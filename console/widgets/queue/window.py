"""The windowed queue model: a few keyset pages around the cursor, never the whole queue.

Pure state, no I/O: the queue pane asks it which page to fetch next
(`plan_*`), fetches it in a worker, and hands the page back (`apply_*`).
Cursors are the backend's opaque keyset cursors: the key of a row works both
ways (forward: rows after it; backwards: rows before it), so the model only
remembers the keys of rows at page boundaries.
"""

from __future__ import annotations

from typing import NamedTuple

from backends.models import Contact, QueuePage

PAGE = 50
#: At most this many rows are kept in memory (about four pages).
MAX_ROWS = 4 * PAGE


class Fetch(NamedTuple):
    """One page request: what the worker passes to `backend.queue` (immutable)."""

    kind: str  # "forward", "backward", "top", "bottom", "refresh"
    cursor: str | None
    limit: int
    generation: int


class QueueWindow:
    """Rows `base .. base+len(rows)` of a queue of `count` contacts, plus a cursor."""

    def __init__(self) -> None:
        self.rows: list[Contact] = []
        self.keys: dict[int, str] = {}  # row index -> the row's keyset cursor
        self.base = 0  # absolute index of rows[0]
        self.count = 0
        self.cursor = 0  # absolute index of the selected row
        self.more_before = False
        self.more_after = False
        self.generation = 0
        self.loaded = False

    # -- reading ---------------------------------------------------------------

    def row(self, index: int) -> Contact | None:
        """The contact at absolute `index`, when it is in the window."""
        i = index - self.base
        return self.rows[i] if 0 <= i < len(self.rows) else None

    @property
    def current(self) -> Contact | None:
        return self.row(self.cursor)

    def index_of(self, contact_id: int) -> int | None:
        for i, c in enumerate(self.rows):
            if c.id == contact_id:
                return self.base + i
        return None

    # -- planning --------------------------------------------------------------

    def _fetch(self, kind: str, cursor: str | None, limit: int) -> Fetch:
        return Fetch(kind, cursor, limit, self.generation)

    def plan_top(self) -> Fetch:
        return self._fetch("top", None, PAGE)

    def plan_bottom(self) -> Fetch:
        return self._fetch("bottom", None, PAGE)

    def plan_edge(self) -> Fetch | None:
        """The page to load when the cursor nears an edge of the window, if any."""
        rel = self.cursor - self.base
        if self.more_after and rel >= len(self.rows) - PAGE // 2:
            key = self.keys.get(len(self.rows) - 1)
            if key is not None:
                return self._fetch("forward", key, PAGE)
        if self.more_before and rel < PAGE // 2:
            key = self.keys.get(0)
            if key is not None:
                return self._fetch("backward", key, PAGE)
        return None

    def plan_refresh(self) -> Fetch:
        """Reload the rows around the cursor (after changes): from the nearest known key."""
        if not self.rows or not self.more_before:
            return self._fetch("top", None, max(PAGE, min(MAX_ROWS, len(self.rows))))
        rel = max(0, min(self.cursor - self.base, len(self.rows) - 1))
        known = [i for i in self.keys if i <= rel] or sorted(self.keys)
        anchor = max(known)
        return self._fetch("refresh", self.keys[anchor], PAGE)

    # -- applying --------------------------------------------------------------

    def _reset(
        self,
        rows: list[Contact],
        keys: dict[int, str],
        base: int,
        more_before: bool,
        more_after: bool,
    ) -> None:
        self.rows, self.keys, self.base = rows, keys, base
        self.more_before, self.more_after = more_before, more_after
        self.generation += 1
        self.loaded = True
        self._clamp()

    def _clamp(self) -> None:
        if self.base + len(self.rows) > self.count and not self.more_after:
            self.count = self.base + len(self.rows)
        if not self.rows:
            self.cursor = self.base
            return
        self.cursor = max(self.base, min(self.cursor, self.base + len(self.rows) - 1))

    @staticmethod
    def _page_keys(page: QueuePage, offset: int) -> dict[int, str]:
        keys: dict[int, str] = {}
        if page.contacts:
            if page.prev_cursor is not None:
                keys[offset] = page.prev_cursor
            if page.next_cursor is not None:
                keys[offset + len(page.contacts) - 1] = page.next_cursor
        return keys

    def apply(
        self, fetch: Fetch, pages: tuple[QueuePage, ...], count: int, keep_id: int | None = None
    ) -> bool:
        """Fold fetched pages into the window; False when the window moved meanwhile."""
        if fetch.generation != self.generation:
            return False
        self.count = count
        page = pages[0]
        if fetch.kind == "top":
            self._reset(
                list(page.contacts),
                self._page_keys(page, 0),
                0,
                False,
                page.next_cursor is not None,
            )
        elif fetch.kind == "bottom":
            base = max(0, count - len(page.contacts))
            self._reset(
                list(page.contacts),
                self._page_keys(page, 0),
                base,
                page.prev_cursor is not None,
                False,
            )
            self.cursor = base + len(self.rows) - 1
        elif fetch.kind == "forward":
            offset = len(self.rows)
            self.rows.extend(page.contacts)
            self.keys.update(self._page_keys(page, offset))
            self.more_after = page.next_cursor is not None
            self._trim_front()
            self.generation += 1
        elif fetch.kind == "backward":
            n = len(page.contacts)
            self.rows[:0] = page.contacts
            self.keys = {i + n: k for i, k in self.keys.items()}
            self.keys.update(self._page_keys(page, 0))
            self.base = max(0, self.base - n)
            self.more_before = page.prev_cursor is not None
            if not self.more_before:
                self.base = 0
            self._trim_back()
            self.generation += 1
        elif fetch.kind == "refresh":
            before, after = pages
            rows = list(before.contacts) + list(after.contacts)
            keys = self._page_keys(before, 0)
            keys.update(self._page_keys(after, len(before.contacts)))
            old_cursor = self.cursor
            anchor = max((i for i in self.keys if self.keys[i] == fetch.cursor), default=0)
            base = self.base + anchor - len(before.contacts)
            more_before = before.prev_cursor is not None
            if not more_before:
                base = 0
            self._reset(rows, keys, max(0, base), more_before, after.next_cursor is not None)
            self.cursor = old_cursor
        if keep_id is not None:
            found = self.index_of(keep_id)
            if found is not None:
                self.cursor = found
        self._clamp()
        return True

    def _trim_front(self) -> None:
        overflow = len(self.rows) - MAX_ROWS
        if overflow <= 0:
            return
        rel = self.cursor - self.base
        cut = min((i for i in self.keys if overflow <= i < rel - PAGE // 2), default=None)
        if cut is None:
            return
        self.rows = self.rows[cut:]
        self.keys = {i - cut: k for i, k in self.keys.items() if i >= cut}
        self.base += cut
        self.more_before = True

    def _trim_back(self) -> None:
        overflow = len(self.rows) - MAX_ROWS
        if overflow <= 0:
            return
        rel = self.cursor - self.base
        last = max(
            (i for i in self.keys if rel + PAGE // 2 < i < len(self.rows) - overflow), default=None
        )
        if last is None:
            return
        self.rows = self.rows[: last + 1]
        self.keys = {i: k for i, k in self.keys.items() if i <= last}
        self.more_after = True

    # -- moving ----------------------------------------------------------------

    def move(self, delta: int) -> None:
        """Move the cursor within the loaded rows (the pane loads more near the edges)."""
        if not self.rows:
            return
        self.cursor = max(self.base, min(self.cursor + delta, self.base + len(self.rows) - 1))
