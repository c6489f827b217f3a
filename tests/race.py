"""The race tests' start line: jobs run in threads, all let go at one moment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

#: How long a race may take before the test says a job hangs.
TIMEOUT = 120.0


def at_once(
    jobs: Sequence[Callable[[], Any]],
    *,
    expected: tuple[type[BaseException], ...] = (),
    timeout: float = TIMEOUT,
) -> list[Any]:
    """Run each job in its own thread, every thread released by one barrier when all are
    ready; wait for them all. Returns each job's outcome in the jobs' order: what it
    returned, or the exception it raised when that is one of the `expected` types (a
    Conflict for the loser of a claim). Any other exception is raised here, after every
    thread ended; a job still running after `timeout` seconds fails the test."""
    start = threading.Barrier(len(jobs))
    outcomes: list[Any] = [None] * len(jobs)
    failures: list[BaseException | None] = [None] * len(jobs)

    def run(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = jobs[i]()
        except expected as e:
            outcomes[i] = e
        except BaseException as e:  # noqa: BLE001 - raised in the test's thread below
            failures[i] = e

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    hung = [t.name for t in threads if t.is_alive()]
    if hung:
        raise AssertionError(f"{', '.join(hung)} still running after {timeout} s")
    for failure in failures:
        if failure is not None:
            raise failure
    return outcomes
