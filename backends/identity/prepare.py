"""Turning rows read from an import file into records ready to resolve, on several cores.

Decoding, mapping, normalisation and JSON encoding are pure per-row work, a
large part of an import's CPU time. A big import hands them to worker
processes in chunks, in order, with a bounded number of chunks in flight
(memory stays bounded); a small one does them inline. Either way the caller
sees the same rows, in file order, each prepared or rejected with its reason.
The same `Workers` also compute golden profiles for the writer (`golden`), the
other pure part; resolving itself stays in one process, in file order.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from backends.identity import events as ev
from backends.identity.config import MatchConfig
from backends.identity.features import CANONICAL_FIELDS, Features, extract
from backends.identity.golden import GoldenJob, GoldenRow, compute_golden
from backends.identity.jsontext import dumps
from backends.identity.keys import identity_values, probe_keys
from backends.identity.mapping import Mapping
from backends.identity.readers import RawRows, decode_row, read_rows
from backends.limits import import_problem

#: Rows per chunk sent to a worker.
CHUNK_ROWS = 2000

Row = tuple[int, dict[str, Any] | None, str]


@dataclass(frozen=True)
class Plan:
    """What preparing a row needs to know (sent to each worker once)."""

    source: str
    mapping: Mapping
    id_column: str | None
    region: str
    now: int
    config: MatchConfig
    encoding: str = "utf-8"  # the file's text encoding (`readers.check_encoding`)


@dataclass(slots=True)
class Prepared:
    """A customer row ready to store and resolve."""

    line: int
    source_id: str
    fields_json: str  # the row as received, as stored
    at: int
    features: Features
    features_json: str  # the features as stored
    probe: list[tuple[str, str]]  # `keys.probe_keys(features)`
    idents: list[tuple[str, str, str]]  # `keys.identity_values(...)`
    blocks: list[str]  # `features.block_keys()`


def prepare_rows(
    plan: Plan, rows: list[Row], fmt: str | None = None, header: list[str] | None = None
) -> list[tuple[Any, ...]]:
    """Prepare one chunk: `(line, None, reason)` for a bad row, else the parts of a `Prepared`.

    `fmt`: the rows are `RawRows` payloads of that format (`header`: a CSV file's columns).
    """
    out: list[tuple[Any, ...]] = []
    source, mapping, id_column = plan.source, plan.mapping, plan.id_column
    region, now = plan.region, plan.now
    for line, payload, problem in rows:
        row = payload
        if fmt is not None and payload is not None:
            row, problem = decode_row(fmt, header, payload, plan.encoding)
        if row is None:
            out.append((line, None, problem))
            continue
        sid, column = mapping.source_id(row, id_column)
        if not sid:
            out.append((line, None, f"no record id (column {column})"))
            continue
        canonical = mapping.apply(row, CANONICAL_FIELDS)
        too_long = import_problem(sid, canonical)
        if too_long is not None:
            out.append((line, None, too_long))
            continue
        f = extract(canonical, region)
        if not (f.fk or f.lk or f.emails or f.phones or f.visitor_id or f.loyalty_card):
            out.append(
                (line, None, "nothing to identify the customer by (no name, e-mail or phone)")
            )
            continue
        f.source = source
        at = ev.parse_time(canonical.get("updated_at")) or now
        data = f.to_json()
        # the keys and identifier rows too: pure work, done here rather than in the resolver
        blocks = f.block_keys()
        idents = identity_values(source, sid, f)
        out.append(
            (line, sid, dumps(row), at, data, dumps(data), probe_keys(f, blocks), idents, blocks)
        )
    return out


def _unpack(parts: tuple[Any, ...]) -> Prepared | tuple[int, str]:
    if parts[1] is None:
        return parts[0], parts[2]
    line, sid, fields_json, at, data, features_json, probe, idents, blocks = parts
    return Prepared(
        line, sid, fields_json, at, Features.from_json(data), features_json, probe, idents, blocks
    )


_PLAN: list[Plan] = []

#: Linux's `prctl` option that has the kernel signal a process when its parent dies.
PR_SET_PDEATHSIG = 1
#: How often a worker checks that the importing process still lives (seconds).
WATCH_SECONDS = 0.5


def _init_worker(plan: Plan, owner: int) -> None:
    """Set up a worker of the importing process `owner` (its pid)."""
    _die_with(owner)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.disable()  # short-lived, many small objects, no cycles
    # this process never prints, and must not flush inherited standard streams at exit
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    _PLAN[:] = [plan]


def _die_with(owner: int) -> None:
    """End this worker when the importing process `owner` ends, however it ends.

    A worker waits for work on a pipe whose writing end it holds itself (every
    worker inherits both ends), so a parent killed without closing its pool would
    leave it waiting forever. On Linux the kernel kills it with its parent (the
    fork server, which exits when `owner` does); everywhere a thread checks `owner`.
    """
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    if not _alive(owner):  # it ended before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(owner,), name="owner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a process of another user took the pid
        return True
    return True


def _watch(owner: int) -> None:
    while _alive(owner):
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _work(rows: list[Row], fmt: str, header: list[str] | None) -> list[tuple[Any, ...]]:
    return prepare_rows(_PLAN[0], rows, fmt, header)


def _golden(jobs: list[GoldenJob]) -> list[GoldenRow]:
    plan = _PLAN[0]
    return compute_golden(plan.config, plan.now, jobs)


def workers_for(total_bytes: int, threshold: int) -> int:
    """How many worker processes an import of `total_bytes` gets (0: prepare inline)."""
    if total_bytes < threshold:
        return 0
    return max(0, min(2, (os.cpu_count() or 1)))


def _context() -> Any:
    """How to start workers: forked from a fork server, a small single-threaded process
    that has imported this module. Forking the importing process itself could copy a
    lock another of its threads holds (a progress bar, a server's threads, the other
    pool's manager thread), and the copy would never be released."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["__main__", __name__])
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - no fork (Windows)


class Workers:
    """The worker processes of one import: some prepare rows, others compute golden
    profiles (a pool each, so that neither waits behind the other's queue)."""

    def __init__(self, count: int, plan: Plan) -> None:
        self.count = count
        self.plan = plan
        self._context = _context()
        self._pools: dict[str, ProcessPoolExecutor] = {}
        # start them now: the first batch does not wait for them
        for name in ("prepare", "golden"):
            self.pool(name).submit(int).result()

    def pool(self, name: str) -> ProcessPoolExecutor:
        found = self._pools.get(name)
        if found is None:
            found = self._pools[name] = ProcessPoolExecutor(
                self.count,
                mp_context=self._context,
                initializer=_init_worker,
                initargs=(self.plan, os.getpid()),
            )
        return found

    def golden(self, jobs: list[GoldenJob], size: int = 1000) -> list[Future[list[GoldenRow]]]:
        """Compute golden profiles there (results in job order, one future per chunk)."""
        pool = self.pool("golden")
        return [pool.submit(_golden, jobs[i : i + size]) for i in range(0, len(jobs), size)]

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        self._pools = {}


def prepared(
    plan: Plan, raw: BinaryIO, fmt: str, workers: Workers | None, ahead: int = 20_000
) -> Iterator[Prepared | tuple[int, str]]:
    """Each row of an open import file in order: a `Prepared`, or `(line, reason)` for a
    bad row.

    With workers, rows are read here and decoded, mapped and normalised there; up to
    about `ahead` rows run ahead of the consumer (a batch's worth: the next batch is
    prepared while this one is resolved).
    """
    if workers is None:
        rows = read_rows(raw, fmt, plan.encoding)
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= 256:
                yield from map(_unpack, prepare_rows(plan, chunk))
                chunk = []
        yield from map(_unpack, prepare_rows(plan, chunk))
        return
    pool = workers.pool("prepare")
    pending: deque[Future[list[tuple[Any, ...]]]] = deque()
    in_flight = max(2 * workers.count, ahead // CHUNK_ROWS + workers.count)
    source = RawRows(raw, fmt, plan.encoding)
    try:
        for chunk in _chunks(source, CHUNK_ROWS):
            pending.append(pool.submit(_work, chunk, fmt, source.header))
            while len(pending) > in_flight:
                yield from map(_unpack, pending.popleft().result())
        while pending:
            yield from map(_unpack, pending.popleft().result())
    finally:
        for f in pending:
            f.cancel()


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
