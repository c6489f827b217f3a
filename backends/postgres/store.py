"""Opening a PostgreSQL store: a connection pool, versioned migrations, error translation.

Every call takes a pooled connection for one short transaction (`read` or `write`): the
pool is shared by all agents' backends of a server, so 200 operators do not mean 200
connections. A read-only store sets its connections read-only, so PostgreSQL itself
refuses writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from importlib import resources
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg.errors
from psycopg.pq import ExecStatus, PipelineStatus
from psycopg.types.string import StrBinaryDumper, StrDumper
from psycopg_pool import ConnectionPool, PoolTimeout

from backends.base import Conflict, InvalidInput, ReadOnly, Unavailable, VistaError, not_text

#: The schema this code writes and understands: migration files, applied in order.
MIGRATIONS: tuple[str, ...] = (
    "0001_initial.sql",
    "0002_visible_text.sql",
    "0003_stats.sql",
    "0004_store_templates_consent.sql",
    "0005_identity.sql",
    "0006_audit.sql",
    "0007_desk.sql",
    "0008_write_answers.sql",
    "0009_unique_provider_id.sql",
    "0010_unassigned_queue.sql",
)
SCHEMA_VERSION = len(MIGRATIONS)

#: A lock every process takes while it migrates, so that servers starting together
#: apply each migration once.
_MIGRATION_LOCK = 0x56495354  # "VIST"

#: How long opening a store waits for the server to answer.
CONNECT_TIMEOUT_S = 5

#: How long a call waits for a free pooled connection before the store is Unavailable.
POOL_TIMEOUT_S = 10.0

#: Whether this thread's write transactions commit asynchronously (`asynchronous_commits`).
_COMMITS = threading.local()
#: Per thread: the connection whose transaction this thread owns, and the statements
#: held back to go with its commit (`at_commit`).
_TAIL = threading.local()


def at_commit(
    conn: psycopg.Connection[Any], send: Callable[[psycopg.Connection[Any]], None]
) -> None:
    """`send` sends statements whose results nobody reads (an audit entry under the chain's
    lock) on `conn`: held back until the transaction commits, then sent with the COMMIT in
    one round trip (psycopg's pipeline mode), so a lock they take is held only while the
    database runs them and commits, whatever the transaction does in between. Outside a
    transaction this thread owns through the store, they are sent at once, together."""
    tail = getattr(_TAIL, "block", None)
    if tail is not None and tail[0] is conn:
        tail[1].append(send)
    else:
        with _piped(conn):
            send(conn)


def _piped(conn: psycopg.Connection[Any]) -> AbstractContextManager[Any]:
    """Pipeline mode for the block, unless `conn` is in it already."""
    return nullcontext() if conn.pgconn.pipeline_status != PipelineStatus.OFF else conn.pipeline()


def _asynchronous_commit(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET LOCAL synchronous_commit = off")


@contextmanager
def _owned(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """This thread owns `conn`'s transaction in the block; it commits when the block ends
    without an error, with what `at_commit` held back."""
    before = getattr(_TAIL, "block", None)
    held: list[Callable[[psycopg.Connection[Any]], None]] = []
    _TAIL.block = (conn, held)
    try:
        yield
        _commit(conn, held)
    finally:
        _TAIL.block = before


def _commit(
    conn: psycopg.Connection[Any], held: list[Callable[[psycopg.Connection[Any]], None]]
) -> None:
    """Commit `conn`'s transaction, `held` statements first, in one round trip."""
    sending, held[:] = list(held), []
    with _piped(conn) if sending else nullcontext():
        for send in sending:
            send(conn)
        conn.commit()


class Row(tuple[Any, ...]):
    """A result row: by position (fast) or by column name, as `sqlite3.Row` is read."""

    __slots__ = ()
    names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


#: Results that carry rows (those whose cursor has a `description`).
_ROWS = frozenset((ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK))
#: A `Row` class per list of column names: a query's rows share it.
_ROW_KINDS: dict[tuple[str, ...], type[Row]] = {}


def row_factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    """psycopg row factory: `Row`s that know the cursor's column names (read from the
    result where it has rows: a cursor's `description` builds an object per column)."""
    result = cursor.pgresult
    if result is not None and result.status in _ROWS:
        key = tuple(bytes(result.fname(i) or b"").decode() for i in range(result.nfields))
    else:  # a server-side cursor's columns come from a description of its portal
        description = cursor.description
        if description is None:
            return tuple
        key = tuple(column.name for column in description)
    kind = _ROW_KINDS.get(key)
    if kind is None:
        names = {name: i for i, name in enumerate(key)}
        kind = type("Row", (Row,), {"__slots__": (), "names": names})
        _ROW_KINDS[key] = kind
    return kind


class _TextDumper(StrDumper):
    """str parameters without NUL: PostgreSQL text cannot hold the character, which Vista
    never shows (backends/text.py removes it), so it is dropped instead of failing a write."""

    def dump(self, obj: str) -> Any:
        return super().dump(obj.replace("\x00", "") if "\x00" in obj else obj)


class _TextBinaryDumper(StrBinaryDumper):
    def dump(self, obj: str) -> Any:
        return super().dump(obj.replace("\x00", "") if "\x00" in obj else obj)


def scalar(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row of a query (None when there is no row)."""
    row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    return None if row is None else row[0]


def redacted(url: str) -> str:
    """A URL fit for headers and error messages: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def translate(error: Exception, where: str) -> VistaError:
    """A driver error as one of ours, naming the database."""
    if isinstance(error, VistaError):
        return error
    if isinstance(error, UnicodeEncodeError):
        return not_text(error)
    if isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
        return ReadOnly(f"database {where} is open read-only")
    if isinstance(error, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected):
        return Conflict(f"a concurrent write won; try again ({error.diag.message_primary})")
    if isinstance(error, psycopg.DataError):
        return InvalidInput(f"a value cannot be stored: {error.diag.message_primary or error}")
    if isinstance(error, PoolTimeout):
        return Unavailable(f"database {where}: no free connection within {POOL_TIMEOUT_S:g} s")
    if isinstance(error, psycopg.OperationalError):
        return Unavailable(f"cannot reach database {where}: {str(error).strip()}")
    return Unavailable(f"database {where}: {str(error).strip()}")


class PgStore:
    """One PostgreSQL database: a pool of connections, migrated to SCHEMA_VERSION on open."""

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        max_connections: int = 10,
        migrate: bool = True,
        inspect: bool = False,
    ) -> None:
        """Open (and, unless read-only or `migrate` is False, migrate) the database at `url`;
        `inspect` (read-only) opens an older schema too, to look inside it (`vista db`).

        Raises:
            Unavailable: the server cannot be reached, or the schema is newer than this code.
        """
        self.url = url
        self.location = redacted(url)
        self.read_only = read_only
        self._lock = threading.Lock()
        self._held = threading.local()  # a thread's connection inside `one_transaction`
        try:  # one plain connection first: a server that is not there fails at once, clearly
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as e:
            raise Unavailable(f"cannot open database {self.location}: {str(e).strip()}") from e
        try:
            self.pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max_connections,
                kwargs={"row_factory": row_factory, "autocommit": False},
                configure=self._configure,
                timeout=POOL_TIMEOUT_S,
                open=False,
                name="vista",
            )
            self.pool.open(wait=True, timeout=POOL_TIMEOUT_S)
        except Exception as e:  # every driver error becomes Unavailable
            raise Unavailable(f"cannot open database {self.location}: {str(e).strip()}") from e
        try:
            version = self.schema_version()
            if version < SCHEMA_VERSION and migrate and not read_only:
                self.migrate()
            elif version > SCHEMA_VERSION:
                raise Unavailable(
                    f"database {self.location} has schema version {version}, newer than this "
                    f"Vista ({SCHEMA_VERSION}): upgrade Vista"
                )
            elif version < SCHEMA_VERSION and not (inspect and read_only):
                raise Unavailable(
                    f"database {self.location} has schema version {version}; open it writable "
                    "once to migrate it"
                )
        except BaseException:
            self.pool.close()
            raise

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        conn.adapters.register_dumper(str, _TextDumper)
        conn.adapters.register_dumper(str, _TextBinaryDumper)
        conn.adapters.register_dumper(str, _TextDumper)  # the default (text) for str again
        conn.read_only = self.read_only
        conn.commit()

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def one_transaction(self) -> Iterator[None]:
        """Inside the block every `read` and `write` of this thread shares one connection
        and one transaction, committed when the block ends (rolled back when it raises): a
        view made of several contract calls takes one connection from the pool and commits
        once, and a keyed write commits with its kept answer (backends/answers.py)."""
        if getattr(self._held, "conn", None) is not None:
            yield
            return
        with self.read() as conn, _owned(conn):
            self._held.conn = conn
            try:
                yield
            finally:
                self._held.conn = None

    @contextmanager
    def pipelined(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction whose statements are sent together (psycopg's pipeline mode): each
        is sent when a result of it or of a later one is read, or at the end of the block
        with the commit. Read a result after the block and a read of one statement is one
        round trip (begin, statement, commit). Inside `one_transaction` it is that
        transaction (its owner commits); `write` inside the block shares it."""
        owner = getattr(self._held, "conn", None) is None
        with self.one_transaction(), self.read() as conn, conn.pipeline():
            yield conn
            if owner:  # in this pipeline: what `at_commit` held back and the COMMIT
                _commit(conn, _TAIL.block[1])

    @contextmanager
    def single_reads(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection for reads that each stand alone, outside a transaction (autocommit):
        a statement is one round trip, without a BEGIN or a COMMIT, and the cheapest call
        psycopg makes (a third of `pipelined`'s CPU for the token check of every request).
        Only for reads: a read-only store's connection refuses writes only in a
        transaction. Inside `one_transaction`, that transaction's connection."""
        if getattr(self._held, "conn", None) is not None:
            with self.read() as conn:
                yield conn
            return
        with self.read() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                if not conn.closed:  # back to the pool as it came, in transactions
                    conn.autocommit = False

    @contextmanager
    def maintenance(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of its own outside any transaction (autocommit, not the pool's),
        for what cannot run in one: VACUUM."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            yield conn

    @staticmethod
    @contextmanager
    def asynchronous_commits() -> Iterator[None]:
        """Inside the block, this thread's `write` transactions (in any store) commit without
        waiting for the write-ahead log to reach the disk (`synchronous_commit = off`): for
        read-audit entries only. A crash of the database server can lose the entries of
        the last moments (up to three times `wal_writer_delay`, 0.6 s by default), as
        SQLite's WAL with synchronous=NORMAL can; never around a write of customer data."""
        before = getattr(_COMMITS, "asynchronous", False)
        _COMMITS.asynchronous = True
        try:
            yield
        finally:
            _COMMITS.asynchronous = before

    @contextmanager
    def read(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection in a transaction for reads (rolled back: nothing to keep)."""
        held = getattr(self._held, "conn", None)
        if held is not None:  # inside `one_transaction`: its connection, errors translated
            try:
                yield held
            except VistaError:
                raise
            except (psycopg.Error, UnicodeEncodeError) as e:
                raise translate(e, self.location) from e
            return
        try:
            with self.pool.connection() as conn:
                yield conn
        except VistaError:
            raise
        except (psycopg.Error, PoolTimeout, UnicodeEncodeError) as e:
            raise translate(e, self.location) from e

    @contextmanager
    def write(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection in a transaction, committed when the block ends without an error.

        Raises:
            ReadOnly: the store is open read-only.
        """
        if self.read_only:
            raise ReadOnly(f"database {self.location} is open read-only")
        owner = getattr(self._held, "conn", None) is None
        with self.read() as conn:
            if getattr(_COMMITS, "asynchronous", False):  # set before the COMMIT
                at_commit(conn, _asynchronous_commit)
            if not owner:  # a shared transaction: its owner commits
                yield conn
                return
            with _owned(conn):
                yield conn

    # -- schema ------------------------------------------------------------------

    def schema_version(self) -> int:
        with self.read() as conn:
            if not scalar(conn, "SELECT to_regclass('schema_version') IS NOT NULL"):
                return 0
            return int(scalar(conn, "SELECT coalesce(max(version), 0) FROM schema_version"))

    def migrate(self) -> int:
        """Apply the migrations this database lacks, in one transaction under an advisory
        lock (servers starting together wait for the first). Returns the version reached."""
        with self.write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz "
                "NOT NULL DEFAULT now())"
            )
            done = int(scalar(conn, "SELECT coalesce(max(version), 0) FROM schema_version"))
            for version, name in enumerate(MIGRATIONS[done:], start=done + 1):
                sql = resources.files("backends.postgres.migrations").joinpath(name)
                conn.execute(sql.read_text("utf-8"))  # type: ignore[arg-type]
                conn.execute(
                    "INSERT INTO schema_version(version, name) VALUES (%s, %s)", (version, name)
                )
            return SCHEMA_VERSION
