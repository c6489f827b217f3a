"""The write-ahead log of a store file: how large it is, and a checkpoint that empties it.

SQLite's own checkpoints copy the log back into the database but cannot start it over
while readers are in it, which under a server's steady concurrent load is always: the
-wal file then grows by every write. A `wal_checkpoint(TRUNCATE)` on a connection of its
own, retried briefly while a writer's automatic checkpoint holds the lock, empties it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

log = logging.getLogger("vista.store")

#: A log past this many bytes is checkpointed at once rather than when writes pause.
LARGE_WAL = 4 * 1024 * 1024


def wal_bytes(path: Path) -> int:
    """The size of the store's -wal file (0 when there is none)."""
    try:
        return os.stat(f"{path}-wal").st_size
    except OSError:
        return 0


def checkpoint(path: Path, wait_ms: int = 250) -> bool:
    """`wal_checkpoint(TRUNCATE)` of the store at `path`: True when the log was emptied.

    A writer's own automatic checkpoint may hold the checkpoint lock for a moment (SQLite
    answers busy at once then), so it is tried again until `wait_ms` pass.
    """
    wait = wait_ms / 1000
    deadline = time.monotonic() + wait
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as e:
        log.warning("checkpoint of %s: %s", path, e)
        return False
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
        while True:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
    except sqlite3.Error as e:
        log.warning("checkpoint of %s: %s", path, e)
        return False
    finally:
        conn.close()
    if busy:
        log.debug("checkpoint of %s: busy, tried for %.2f s", path, wait)
    return not busy
