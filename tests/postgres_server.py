"""A real PostgreSQL server for the tests: the one VISTA_TEST_POSTGRES names, else a
throwaway cluster started as an unprivileged user in a temporary directory.

The cluster listens on a unix socket only (no TCP port to collide with another worker),
trusts local connections, and is stopped and removed at the end of the session. When no
PostgreSQL is installed (`make test`'s `services` target installs Debian's `postgresql`)
the tests that need one skip, naming the reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from backends.base import Backend
from backends.models import Role

ENV_URL = "VISTA_TEST_POSTGRES"
#: The unprivileged system user that runs the throwaway cluster when the tests run as root.
SERVICE_USER = "vista-pg"
SKIP_REASON = "PostgreSQL tests SKIPPED"


def find_bin() -> Path | None:
    """The newest PostgreSQL's program directory (with initdb and pg_ctl), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _service_user() -> pwd.struct_passwd | None:
    """The user the cluster runs as: the current one, or (as root) SERVICE_USER, made if
    missing. PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


#: The PostgreSQL copy of a test's SQLite demo store (tests/backends/conftest.py makes it),
#: by the store file's path: `edit_store` applies a test's direct edit of the file to both.
COPIES: dict[Path, str] = {}


def edit_store(db: Path, sql: str, *params: object) -> None:
    """Run one statement (`?` placeholders, valid SQL for both) on a test's SQLite store
    file and on its PostgreSQL copy when there is one, so that a case set up by editing
    the store holds on every backend."""
    with sqlite3.connect(db) as conn:
        conn.execute(sql, params)
    url = COPIES.get(db)
    if url is not None:
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]


def read_store(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of one query (`?` placeholders, valid SQL for both) on the store a test's
    backends serve: the PostgreSQL copy of the store file when there is one, else the file."""
    url = COPIES.get(db)
    if url is None:
        with closing(sqlite3.connect(db)) as conn:
            return conn.execute(sql, params).fetchall()
    import psycopg

    with psycopg.connect(url) as pg:
        return pg.execute(sql.replace("?", "%s"), params).fetchall()  # type: ignore[arg-type]


def store_backend(db: Path, agent: str, role: Role) -> Backend:
    """The store a test's backends serve, opened on this side as `agent` with `role` (what
    a dispatcher on the store's machine holds): the PostgreSQL copy when there is one."""
    url = COPIES.get(db)
    if url is None:
        from backends.sqlite.backend import SQLiteBackend

        return SQLiteBackend(db, agent=agent, role=role)
    from backends.postgres.backend import PostgresBackend

    return PostgresBackend(url, agent=agent, role=role)


class PostgresServer:
    """A server the tests may create and drop databases on. `url(db)` names one database."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._names = itertools.count(1)

    def url(self, database: str) -> str:
        """The URL of `database` on this server (the base URL with its path replaced)."""
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def execute(self, sql: str) -> None:
        """Run one statement on the server's maintenance database (autocommit)."""
        import psycopg

        with psycopg.connect(self.base_url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def new_name(self, stem: str = "vista_test") -> str:
        return f"{stem}_{os.getpid()}_{next(self._names)}"

    def create(self, name: str, template: str | None = None) -> str:
        """Create database `name` (a copy of `template` if given); return its URL."""
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: The tests' cluster trades durability for speed; a benchmark passes its own settings.
TEST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


class Cluster:
    """A throwaway cluster: initdb into a temporary directory, pg_ctl start, and back."""

    def __init__(self, bindir: Path, settings: dict[str, str] | None = None) -> None:
        """`settings`: server settings over TEST_SETTINGS (`postgres -c NAME=VALUE`)."""
        self.bindir = bindir
        self.settings = {**TEST_SETTINGS, **(settings or {})}
        self.user = _service_user()
        self.root = Path(tempfile.mkdtemp(prefix="vista-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        if self.user is not None:
            for path in (self.root, self.sockets):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str) -> None:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        done = subprocess.run(
            args, capture_output=True, text=True, cwd=self.root, check=False, **kwargs
        )  # type: ignore[call-overload]
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    def start(self) -> str:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-N",
        )  # fmt: skip
        options = f"-k {self.sockets} -c listen_addresses='' " + " ".join(
            f"-c {name}={value}" for name, value in self.settings.items()
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-w", "-t", "30", "-o", options, "start",
        )  # fmt: skip
        return f"postgresql://postgres@/postgres?host={self.sockets}"

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> tuple[PostgresServer | None, Cluster | None, str]:
    """The server under test, the cluster to stop afterwards, or why there is none."""
    if os.environ.get(ENV_URL):
        return PostgresServer(os.environ[ENV_URL]), None, ""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, None, f"{SKIP_REASON}: psycopg is not installed (pip install -e '.[test]')"
    bindir = find_bin()
    if bindir is None:
        return (
            None,
            None,
            (
                f"{SKIP_REASON}: no PostgreSQL installed (no initdb in /usr/lib/postgresql/*/bin "
                f"or on PATH; `make services` installs it as root, or set {ENV_URL})"
            ),
        )
    cluster = Cluster(bindir)
    try:
        return PostgresServer(cluster.start()), cluster, ""
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        cluster.stop()
        return None, None, f"{SKIP_REASON}: could not start a throwaway cluster: {e}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session (skips, with the reason, when none)."""
    server, cluster, why = start_server()
    if server is None:
        pytest.skip(why)
    try:
        yield server
    finally:
        if cluster is not None:
            cluster.stop()


def missing_reason() -> str:
    """Why the PostgreSQL tests cannot run here ('' when they can try): for the summary."""
    if os.environ.get(ENV_URL):
        return ""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    if find_bin() is None:
        return f"no PostgreSQL installed (`make services` installs it as root, or set {ENV_URL})"
    return ""
