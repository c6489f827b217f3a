"""Vista's data access and domain logic. Never imports textual or rich."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from backends.base import Backend, BackendFactory, InvalidInput

if TYPE_CHECKING:
    from backends.postgres.transfer import CopyReport

ENV_BACKEND = "VISTA_BACKEND"
ENV_AGENT = "VISTA_AGENT"
ENV_TOKEN = "VISTA_TOKEN"
ENV_READ_AUDIT = "VISTA_READ_AUDIT"
ENV_REPLICA = "VISTA_REPLICA"


def default_database() -> Path:
    """The embedded store's default file, in the user's data directory."""
    from platformdirs import user_data_path

    return user_data_path("vista", appauthor=False) / "vista.db"


def default_agent() -> str:
    import getpass

    return os.environ.get(ENV_AGENT) or getpass.getuser() or "operator"


def sqlite_path(url: str) -> Path:
    """`sqlite:///abs/path`, `sqlite:///rel/path` or a bare path -> a Path."""
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://") :]
        rest = rest.removeprefix("/")  # sqlite:///x.db is relative, sqlite:////abs/x.db absolute
        if not rest:
            raise InvalidInput(f"no file in backend URL {url!r}")
        return Path(rest).expanduser()
    return Path(url).expanduser()


POSTGRES_SCHEMES = ("postgresql://", "postgres://")
POSTGRES_MISSING = (
    "PostgreSQL support is not installed: pip install 'vista[postgres]' (psycopg, psycopg_pool)"
)


def is_postgres(url: str | None) -> bool:
    """Whether a backend URL names a PostgreSQL database."""
    return bool(url) and str(url).startswith(POSTGRES_SCHEMES)


def open_backend(
    url: str | None = None,
    *,
    agent: str | None = None,
    read_only: bool = False,
    create: bool = False,
    token: str | None = None,
    inspect: bool = False,
    origin: str = "console",
    read_audit: bool | None = None,
) -> Backend:
    """Open the backend a URL names: `sqlite:///file.db`, a file path, `http(s)://host:port`,
    or `postgresql://user@host/db` (needs the `postgres` extra).

    `create` makes a missing store file; `inspect` (with `read_only`) opens a store file of
    an older schema too, to look inside it (`store_info`, `check_store`) without upgrading it.
    `origin` (console, cli) is what a local store's audit trail records of the caller (a
    server records its own); `read_audit` records every read of a customer's profile too
    (None: when the environment variable VISTA_READ_AUDIT is 1).

    Raises:
        InvalidInput: an unknown URL scheme.
        Unavailable: the store cannot be opened.
    """
    url = url or os.environ.get(ENV_BACKEND) or ""
    if url.startswith(("http://", "https://")):
        try:
            from backends.http.client import HTTPBackend
        except ImportError as e:  # pragma: no cover - until the HTTP backend lands
            raise InvalidInput("the HTTP backend is not available in this build") from e
        return HTTPBackend(url, token=token or os.environ.get(ENV_TOKEN), read_only=read_only)
    if is_postgres(url):
        try:
            from backends.postgres.backend import PostgresBackend
        except ImportError as e:
            raise InvalidInput(POSTGRES_MISSING) from e
        if read_audit is None:
            read_audit = os.environ.get(ENV_READ_AUDIT, "") in ("1", "true", "yes", "on")
        return PostgresBackend(
            url,
            agent=agent or default_agent(),
            read_only=read_only,
            origin=origin,
            read_audit=read_audit,
            inspect=inspect and read_only,
        )
    if "://" in url and not url.startswith("sqlite://"):
        raise InvalidInput(
            f"unknown backend URL {url!r}: use sqlite:///path, postgresql://host/db "
            "or http://host:port"
        )
    from backends.sqlite.backend import SQLiteBackend

    path = local_path(url)
    if read_audit is None:
        read_audit = os.environ.get(ENV_READ_AUDIT, "") in ("1", "true", "yes", "on")
    return SQLiteBackend(
        path,
        agent=agent or default_agent(),
        read_only=read_only,
        create=create,
        inspect=inspect and read_only,
        origin=origin,
        read_audit=read_audit,
    )


def open_factory(
    url: str | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    create: bool = False,
    read_audit: bool = True,
    replica: str | None = None,
) -> BackendFactory:
    """What a server holds to serve the store a URL names: the store as any agent;
    `replica` (PostgreSQL only) a streaming replica its read-only users read from.

    Raises:
        InvalidInput: the URL names a server (a server serves a store, not another server),
            or an unknown scheme; a replica of a store that is not PostgreSQL.
        Unavailable: the store (or the replica) cannot be opened.
    """
    url = url or os.environ.get(ENV_BACKEND) or ""
    if replica and not (is_postgres(url) and is_postgres(replica)):
        raise InvalidInput(
            f"a replica for reads needs a PostgreSQL store and replica (postgresql://...), "
            f"not {url or 'the default SQLite store'!r} and {replica!r}"
        )
    if is_postgres(url):
        try:
            from backends.postgres.factory import PostgresBackends
        except ImportError as e:
            raise InvalidInput(POSTGRES_MISSING) from e
        if clock is None:
            return PostgresBackends(url, read_audit=read_audit, replica=replica or None)
        return PostgresBackends(url, clock=clock, read_audit=read_audit, replica=replica or None)
    if "://" in url and not url.startswith("sqlite://"):
        raise InvalidInput(
            f"cannot serve {url!r}: vista serve serves a store, sqlite:///PATH or "
            "postgresql://host/db"
        )
    from backends.sqlite.factory import SQLiteBackends

    path = local_path(url)
    if clock is None:
        return SQLiteBackends(path, create=create, read_audit=read_audit)
    return SQLiteBackends(path, clock=clock, create=create, read_audit=read_audit)


def local_path(
    url: str | None, needs: str = "this command works on", use: str = "--backend sqlite:///PATH"
) -> Path:
    """The SQLite file a backend URL names (the default store when there is none).

    Raises:
        InvalidInput: the URL names a server (`needs` says what wanted a local store,
            `use` what to pass instead).
        Unavailable: a relative path that does not exist, when the absolute one does
            (`sqlite:///tmp/x.db` is `tmp/x.db`; `/tmp/x.db` needs four slashes).
    """
    if url and "://" in url and not url.startswith("sqlite://"):
        raise InvalidInput(f"{needs} a local SQLite store: use {use}")
    path = sqlite_path(url) if url else default_database()
    if url and not path.is_absolute() and not path.exists() and Path("/", path).exists():
        from backends.base import Unavailable

        raise Unavailable(
            f"no such database file: {path} (relative to {Path.cwd()}); for the absolute "
            f"path write sqlite:////{path} (four slashes)"
        )
    return path


def copy_store(
    source: str, target: str, *, progress: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy the SQLite store `source` (sqlite:///PATH or a path) whole into the PostgreSQL
    database `target` (postgresql://...; migrated first), then compare row counts and a
    sample of rows. Re-runnable: rows are merged by key, rows only the target has stay.

    Args:
        progress: called with (table, rows copied) after each table, and with (step, -1)
            as a step that is not a table begins (the VACUUM (ANALYZE) after the copy).
    Returns:
        The report of every table; `problems` empty when the copy is whole.
    Raises:
        InvalidInput: a source that is not a SQLite store, or a target that is not PostgreSQL.
        Unavailable: either store cannot be opened.
    """
    if not is_postgres(target):
        raise InvalidInput(
            f"vista migrate copies into PostgreSQL: --to postgresql://..., not {target!r}"
        )
    path = local_path(source, "vista migrate copies from", "--from sqlite:///PATH")
    if not path.is_file():
        from backends.base import Unavailable

        raise Unavailable(f"no such database file: {path}")
    # a store of an older schema is upgraded first, as opening it for work would
    open_backend(str(path)).close()
    try:
        from backends.postgres.store import PgStore
        from backends.postgres.transfer import copy_store as copy_into
    except ImportError as e:
        raise InvalidInput(POSTGRES_MISSING) from e
    store = PgStore(target)
    try:
        return copy_into(path, store, progress=progress)
    finally:
        store.close()
