"""A primary PostgreSQL cluster with a streaming replica (a hot standby) for the tests of
`vista serve --replica`: the primary is a throwaway cluster as in tests/postgres_server.py
(its default `wal_level` is `replica`, and initdb's trust rules allow local replication);
each standby is `pg_basebackup -R` of it into the same temporary directory, started on a
unix socket of its own. Skips, saying why, without an installed PostgreSQL or with a
server named by VISTA_TEST_POSTGRES (a standby of that server is not ours to make).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.postgres_server import ENV_URL, SKIP_REASON, Cluster, PostgresServer, find_bin

#: How long a test waits for the standby to replay what the primary wrote.
CATCH_UP_S = 20.0


class Standby:
    """A hot standby of `primary`: base backup with `-R` (its primary_conninfo and
    standby.signal), started on its own socket directory."""

    _numbers = itertools.count(1)

    def __init__(self, primary: Cluster) -> None:
        self.primary = primary
        n = next(self._numbers)
        self.data = primary.root / f"standby{n}"
        self.sockets = primary.root / f"standby{n}-sockets"
        self.sockets.mkdir()
        if primary.user is not None:
            os.chown(self.sockets, primary.user.pw_uid, primary.user.pw_gid)
        self.running = False

    def start(self) -> str:
        """Copy the primary and start; returns the base URL (maintenance database)."""
        bindir = self.primary.bindir
        self.primary._run(
            str(bindir / "pg_basebackup"), "-h", str(self.primary.sockets), "-U", "postgres",
            "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        options = (
            f"-k {self.sockets} -c listen_addresses='' -c fsync=off -c hot_standby=on "
            "-c max_connections=200"
        )
        self.primary._run(
            str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.data.parent / f"{self.data.name}.log"),
            "-w", "-t", "30", "-o", options, "start",
        )  # fmt: skip
        self.running = True
        return f"postgresql://postgres@/postgres?host={self.sockets}"

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.primary._run(
                str(self.primary.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
            )


class Replicated:
    """The primary (create databases there) and its standby (read them there)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.standbys: list[Standby] = []
        self.primary = PostgresServer(cluster.start())
        self.standby, self.replica = self.new_standby()

    def new_standby(self) -> tuple[Standby, PostgresServer]:
        """Another standby of the primary (a test that stops it stops only its own)."""
        standby = Standby(self.cluster)
        self.standbys.append(standby)
        return standby, PostgresServer(standby.start())

    def stop(self) -> None:
        for standby in self.standbys:
            try:
                standby.stop()
            except RuntimeError:
                pass
        self.cluster.stop()

    def catch_up(self, replica: PostgresServer | None = None) -> None:
        """Wait until the standby has replayed everything the primary wrote so far (the
        insert position: with synchronous_commit off a commit can still be in WAL buffers)."""
        import psycopg

        replica = replica or self.replica
        with psycopg.connect(self.primary.base_url, autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + CATCH_UP_S
        with psycopg.connect(replica.base_url, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
                ).fetchone()
                if row is not None and row[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"the standby did not replay up to {target}")
                time.sleep(0.05)

    def replay(self, on: bool) -> None:
        """Pause or resume the standby's replay (what it shows stays as it was)."""
        self.replica.execute(f"SELECT pg_wal_replay_{'resume' if on else 'pause'}()")


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    """A primary with a streaming replica, for one test module."""
    if os.environ.get(ENV_URL):
        pytest.skip(f"{SKIP_REASON}: no standby can be made of the server {ENV_URL} names")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip(f"{SKIP_REASON}: psycopg is not installed (pip install -e '.[test]')")
    bindir = find_bin()
    if bindir is None or not (bindir / "pg_basebackup").exists():
        pytest.skip(f"{SKIP_REASON}: no PostgreSQL with pg_basebackup installed")
    cluster = Cluster(bindir)
    try:
        pair = Replicated(cluster)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        cluster.stop()
        pytest.skip(f"{SKIP_REASON}: could not start a primary with a standby: {e}")
    try:
        yield pair
    finally:
        pair.stop()
