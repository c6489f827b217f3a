"""The queue's first page, asked of the backend as soon as the console starts.

`vista` starts it right after opening the backend (the workspace does when it is
composed, otherwise), so the backend answers in a thread of its own while Textual
is imported, parses the stylesheets and builds the workspace. The queue pane, when
composed, gives it up to `WAIT` seconds more: the first paint then already shows the
rows (instead of "Loading…" and a second paint a few milliseconds later). A slower
backend is not waited for: the pane's worker takes the page when it comes, rather
than asking again.

The change feed's cursor is read first (`since`): polling from it cannot miss a
change made after the page was read.

Why wait at all: while the main thread is busy (it is, building the console), a
thread gets the GIL back only every few milliseconds, after each call into SQLite
(one per row fetched), so a 2 ms query takes tens of milliseconds in the background;
with the main thread waiting, it takes its 2 ms.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from backends.models import QueuePage, QueueQuery

if TYPE_CHECKING:
    from backends.base import Backend


#: How long the queue pane waits for the page when it is composed (seconds).
WAIT = 0.05


class FirstPage:
    """The change feed's cursor, then `backend.queue(query, limit=limit)`, asked in a
    daemon thread."""

    def __init__(self, backend: Backend, query: QueueQuery, limit: int) -> None:
        self.backend, self.query, self.limit = backend, query, limit
        self.since: int | None = None  # the change feed's cursor before the page, if read
        self.page: QueuePage | None = None  # set once the backend has answered
        self._error: Exception | None = None
        self._done = threading.Event()
        threading.Thread(target=self._fetch, name="vista-first-page", daemon=True).start()

    def _fetch(self) -> None:
        try:
            self.since = self.backend.changes(-1).cursor
        except Exception:  # noqa: BLE001, S110 - the workspace reads it again (says offline)
            pass
        try:
            self.page = self.backend.queue(self.query, limit=self.limit)
        except Exception as error:  # noqa: BLE001 - raised again where the page is used
            self._error = error
        finally:
            self._done.set()

    def serves(self, backend: object, query: QueueQuery, limit: int) -> bool:
        """Whether this is the page that `backend.queue(query, limit=limit)` asks for."""
        return backend is self.backend and query == self.query and limit == self.limit

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the answer; whether it came (page or error)."""
        return self._done.wait(timeout)

    def result(self) -> QueuePage:
        """The page, waiting for it if need be; the backend's error if it failed."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self.page is not None
        return self.page
