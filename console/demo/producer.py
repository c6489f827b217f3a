"""Where the demo's batches of people come from: made inline, or by a process of its own.

Making people (random draws, JSON, normalising their records for identity resolution)
and writing their events to the staging file (`bulk_load.Stage`) is work that never reads
the database being built, so on a machine with a second core it runs in a child process
(`child_main`) while this one resolves identities and writes the
previous batch. Both ways give the same batches in the same order: one random stream.

The child writes length-prefixed frames to a pipe of their own (not its stdout, where a
stray print would corrupt them); a thread here reads them ahead
into a small queue (bounded memory), and the writer decodes them. A frame is `marshal`
of plain tuples (records' features as `Features.to_json()`): about half the cost of
unpickling dataclasses, and this process has the least spare time.
"""

from __future__ import annotations

import marshal
import os
import queue as queue_module
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

from backends.identity.features import Features
from backends.sqlite.bulk_load import Stage
from backends.sqlite.identity.resolver import Incoming
from console.demo.people import Batch, People

#: Batches read ahead of the writer (a frame is a few MB): enough that the child can finish
#: its staging file's indexes while the writer resolves its last batches.
AHEAD = 16
_LENGTH = struct.Struct("<Q")
_CHILD = "from console.demo.producer import child_main; child_main()"
_END = object()


def encode(b: Batch) -> bytes:
    """A batch (its events already staged) as one frame of plain values."""
    items = [
        (i.source, i.source_id, i.fields, i.features.to_json(), i.at, i.customer_hint)
        for i in b.items
    ]
    return marshal.dumps(
        (
            b.first,
            b.size,
            b.counts,
            b.customers,
            b.records,
            items,
            b.orders,
            b.contacts,
            b.messages,
            b.order_records,
            b.contact_records,
        )
    )


def decode(frame: bytes) -> Batch:
    """The batch `encode` made."""
    (
        first,
        size,
        counts,
        customers,
        records,
        items,
        orders,
        contacts,
        messages,
        order_records,
        contact_records,
    ) = marshal.loads(frame)
    from_json = Features.from_json
    incoming = [Incoming(s, sid, f, from_json(fj), at, hint) for s, sid, f, fj, at, hint in items]
    return Batch(
        first,
        size,
        customers,
        records,
        incoming,
        [],
        orders,
        contacts,
        messages,
        order_records,
        contact_records,
        counts,
    )


def batches(
    seed: int, now: int, customers: int, batch_size: int, stage: Path
) -> Generator[Batch, None, None]:
    """The people 1..`customers` in batches of `batch_size`, their events written to the
    staging file `stage` (finished, indexes and all, after the last batch)."""
    people = People(seed, now)
    writer = Stage(stage)
    try:
        done = 0
        while done < customers:
            count = min(batch_size, customers - done)
            b = people.batch(done + 1, count)
            writer.add(b.events)
            b.events = []
            yield b
            done += count
    except BaseException:
        writer.abandon()
        raise
    writer.finish()


class Background:
    """Batches made by a child process, read ahead by a thread."""

    def __init__(self, seed: int, now: int, customers: int, batch_size: int, stage: Path) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the directory holding `backends`
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
        )
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        read_fd, write_fd = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _CHILD,
                    str(seed),
                    str(now),
                    str(customers),
                    str(batch_size),
                    str(stage),
                    str(write_fd),
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._stderr,
                stderr=self._stderr,
                env=env,
                pass_fds=(write_fd,),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # the child holds it now: its exit is our end of file
        self._frames_in = os.fdopen(read_fd, "rb")
        self._frames: queue_module.Queue[bytes | object] = queue_module.Queue(maxsize=AHEAD)
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, name="vista-demo-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Reader thread: one frame per batch onto the queue, then _END."""
        out = self._frames_in
        try:
            while not self._stop.is_set():
                head = out.read(_LENGTH.size)
                if len(head) < _LENGTH.size:
                    break
                self._put(out.read(_LENGTH.unpack(head)[0]))
        finally:
            self._put(_END)

    def _put(self, item: bytes | object) -> None:
        """Queue `item`, waiting for room unless the reader is being stopped."""
        while not self._stop.is_set():
            try:
                self._frames.put(item, timeout=0.5)
                return
            except queue_module.Full:
                continue

    def __iter__(self) -> Iterator[Batch]:
        while True:
            frame = self._frames.get()
            if frame is _END:
                break
            assert isinstance(frame, bytes)
            yield decode(frame)
        code = self._proc.wait()
        if code != 0:
            self._stderr.seek(0)
            detail = self._stderr.read().decode("utf-8", "replace").strip()[-2000:]
            raise RuntimeError(f"the demo's people process failed (exit code {code}): {detail}")

    def close(self) -> None:
        """Stop the child if it still runs, and the reader."""
        self._stop.set()
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._reader.join(timeout=10)
        self._frames_in.close()
        self._stderr.close()


def _produce(
    seed: int, now: int, customers: int, batch_size: int, stage: Path, out: IO[bytes]
) -> None:
    for b in batches(seed, now, customers, batch_size, stage):
        frame = encode(b)
        out.write(_LENGTH.pack(len(frame)))
        out.write(frame)
    out.flush()


def child_main() -> None:
    """The child process: `-c ... SEED NOW CUSTOMERS BATCH_SIZE STAGE FRAMES_FD`."""
    import gc

    gc.set_threshold(100_000, 50, 100)  # batches of small tuples, no cycles
    seed, now, customers, batch_size = (int(a) for a in sys.argv[1:5])
    try:
        with os.fdopen(int(sys.argv[6]), "wb") as frames:
            _produce(seed, now, customers, batch_size, Path(sys.argv[5]), frames)
    except KeyboardInterrupt:
        sys.exit(130)  # the parent was interrupted too, and cleans up
    except BrokenPipeError:
        sys.exit(1)  # the parent stopped reading
