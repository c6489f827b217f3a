"""Opening the SQLite store: connections, pragmas, versioned migrations, error translation.

One connection per thread (the console calls the backend from thread
workers). Read-only stores are opened with `mode=ro`, so SQLite itself
refuses writes.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backends import link_reasons, provenance, record_fields
from backends.base import InvalidInput, Unavailable, VistaError, not_text
from backends.limits import INT_MAX, INT_MIN
from backends.sqlite import record_shapes
from backends.sqlite.identity.encoding import key_code
from backends.text import visible

#: The schema version this code writes and understands.
MIGRATIONS: tuple[str, ...] = (
    "0001_initial.sql",
    "0002_identity.sql",
    "0003_tokens.sql",
    "0004_stats.sql",
    "0005_identity_settings.sql",
    "0006_search_prefix.sql",
    "0007_search_prefix6.sql",
    "0008_outbox.sql",
    "0009_audit.sql",
    "0010_outbox_retry.sql",
    "0011_values.sql",
    "0012_routing.sql",
    "0013_kb_calls.sql",
    "0014_identity_model.sql",
    "0015_compact_identity.sql",
    "0016_write_answers_provider_ids.sql",
    "0017_record_shapes.sql",
)
SCHEMA_VERSION = len(MIGRATIONS)

BUSY_TIMEOUT_MS = 5000
WAL_SIZE_LIMIT = 16 * 1024 * 1024  # bytes


def migration_sql(name: str) -> str:
    """The text of migration `name` (one of MIGRATIONS)."""
    from importlib import resources  # here: only a new or older store reads its migrations

    return resources.files("backends.sqlite.migrations").joinpath(name).read_text("utf-8")


def _pack_provenance(text: str | None) -> str | None:
    """A stored provenance text in the packed form (migration 0015); not JSON: as it is."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return text
    return provenance.dumps(value) if isinstance(value, dict) else text


def _pack_features(text: str | None) -> str | None:
    """A record's stored features in their compact form (migration 0015); not a JSON list
    or mapping: as it is."""
    from backends.identity.features import Features  # only an older store converts
    from backends.identity.jsontext import dumps

    try:
        value = json.loads(text or "")
        return dumps(Features.from_json(value).to_json()) if value else text
    except (ValueError, TypeError):
        return text


def _record_shape(text: str | None, source_id: str) -> str | None:
    """The shape a record's JSON text is kept against (migration 0017); None: kept as is."""
    return record_shapes.packed([(text, source_id)])[0][1] if isinstance(text, str) else None


def _record_values(text: str | None, source_id: str) -> str | None:
    """The values a record's JSON text is kept as (migration 0017); else the text as is."""
    return record_shapes.packed([(text, source_id)])[0][0] if isinstance(text, str) else text


def translate(error: sqlite3.Error, path: Path) -> VistaError:
    """Turn a driver error into one of ours, naming the file."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return Unavailable(f"database {path} is locked by another program; try again", "Locked")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return Unavailable(
            f"database {path} is corrupt or not a Vista database ({text})", "Corrupt"
        )
    if "readonly" in text or "read-only" in text:
        return Unavailable(f"database {path} is read-only ({text})", "Read-only")
    if "unable to open" in text:
        folder = path.parent
        if folder.is_dir() and not os.access(folder, os.W_OK):
            return Unavailable(
                f"cannot open database {path}: its directory {folder} is not writable "
                f"(SQLite keeps {path.name}-wal and {path.name}-shm beside the file)",
                "Read-only directory",
            )
        return Unavailable(f"cannot open database {path} ({text})")
    return Unavailable(f"database {path}: {text}")


def out_of_range(error: OverflowError) -> InvalidInput:
    """A number SQLite cannot hold (a Python int past 64 bits), as bad input."""
    return InvalidInput(
        f"a number is out of range: ids, versions and offsets are whole numbers "
        f"from {INT_MIN} to {INT_MAX}"
    )


def _create_private(path: Path) -> None:
    """An empty file only its owner may read (0600: the store holds personal data; SQLite
    gives its -wal and -shm files the same mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as e:
        raise Unavailable(f"cannot create database {path}: {e.strerror}") from e


class Store:
    """A SQLite file with Vista's schema, and one connection per thread."""

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        create: bool = False,
        inspect: bool = False,
    ) -> None:
        """`inspect` (read-only only) also opens a file of an older schema, to look inside it."""
        self.path = Path(path).expanduser()
        self.read_only = read_only
        self._inspect = inspect and read_only
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if not self.path.exists():
            if read_only or not create:
                raise Unavailable(
                    f"no such database file: {self.path} (`vista db init` or `vista demo` "
                    "creates one)",
                    "Not found",
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
        elif self.path.is_dir():
            raise Unavailable(f"{self.path} is a directory, not a database file")
        self._check_and_migrate()

    # -- connections ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, check_same_thread=True, isolation_level=None)
            else:
                conn = sqlite3.connect(self.path, check_same_thread=True, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            # 2 MB per connection: the console keeps a few worker-thread connections,
            # and the OS page cache already holds the hot pages
            conn.execute("PRAGMA cache_size = -2000")
            conn.create_function("vista_plain", 1, visible, deterministic=True)
            # what migration 0015 converts an older store's identity rows with
            conn.create_function("vista_key_code", 1, key_code, deterministic=True)
            conn.create_function("vista_pack_provenance", 1, _pack_provenance, deterministic=True)
            conn.create_function("vista_pack_features", 1, _pack_features, deterministic=True)
            conn.create_function("vista_pack_reason", 1, link_reasons.pack, deterministic=True)
            # a source record's fields as received, from its values and shape (schema 17)
            conn.create_function("vista_record_fields", 3, record_fields.unpack, deterministic=True)
            conn.create_function("vista_record_shape", 2, _record_shape, deterministic=True)
            conn.create_function("vista_record_values", 2, _record_values, deterministic=True)
            if self.read_only:
                conn.execute("PRAGMA query_only = ON")
            else:
                conn.execute("PRAGMA synchronous = NORMAL")
                # a write-ahead log SQLite starts over is cut back to this size
                conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        conn.row_factory = sqlite3.Row
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.ProgrammingError:
                pass  # created in another thread; it goes with that thread
        self._local = threading.local()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read on this thread's connection, driver errors translated."""
        try:
            yield self.conn
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        except UnicodeEncodeError as e:
            raise not_text(e) from e
        except OverflowError as e:
            raise out_of_range(e) from e

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE: writers queue, never deadlock);
        inside `one_transaction`, a part of that one."""
        conn = self.conn
        if getattr(self._local, "held", False):
            try:
                yield conn
            except (sqlite3.Error, UnicodeEncodeError, OverflowError) as e:
                raise self._translated(e) from e
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        try:
            yield conn
        except BaseException as e:
            conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error | UnicodeEncodeError | OverflowError):
                raise self._translated(e) from e
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                conn.execute("ROLLBACK")
                raise translate(e, self.path) from e

    @contextmanager
    def one_transaction(self) -> Iterator[None]:
        """Inside the block every `write` of this thread is part of one write transaction,
        committed when the block ends (rolled back when it raises): a keyed write commits
        with its kept answer (backends/answers.py)."""
        if getattr(self._local, "held", False):
            yield
            return
        with self.write():
            self._local.held = True
            try:
                yield
            finally:
                self._local.held = False

    def _translated(self, error: Exception) -> VistaError:
        """A driver or encoding error inside a write, as one of ours."""
        if isinstance(error, UnicodeEncodeError):
            return not_text(error, ": nothing was written")
        if isinstance(error, OverflowError):
            return out_of_range(error)
        assert isinstance(error, sqlite3.Error)
        return translate(error, self.path)

    # -- schema ---------------------------------------------------------------

    def _check_and_migrate(self) -> None:
        try:
            conn = self.conn
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            # reading the schema proves the file is a database at all
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as e:
            self.close()
            raise translate(e, self.path) from e
        if version > SCHEMA_VERSION:
            self.close()
            raise Unavailable(
                f"database {self.path} has schema version {version}, newer than this "
                f"Vista understands ({SCHEMA_VERSION}); upgrade Vista",
                "Newer schema",
            )
        if version == 0 and tables:
            self.close()
            raise Unavailable(f"{self.path} is a SQLite file but not a Vista database")
        if version < SCHEMA_VERSION and not self._inspect:
            if self.read_only:
                self.close()
                raise Unavailable(
                    f"database {self.path} has schema version {version}; open it once "
                    f"without --read-only to upgrade it to {SCHEMA_VERSION}",
                    "Old schema",
                )
            self._migrate(version)
        if not self.read_only:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.Error as e:
                raise translate(e, self.path) from e

    def _migrate(self, current: int) -> None:
        conn = self.conn
        for number, name in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            sql = migration_sql(name)
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in statements(sql):
                    if _column_exists(conn, statement):
                        continue  # a migration run again (SQLite has no ADD COLUMN IF NOT EXISTS)
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                conn.execute("ROLLBACK")
                raise translate(e, self.path) from e


_ADD_COLUMN = re.compile(r"\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(\w+)", re.IGNORECASE)


def _column_exists(conn: sqlite3.Connection, statement: str) -> bool:
    """Whether `statement` adds a column the table already has."""
    match = _ADD_COLUMN.match(statement)
    if match is None:
        return False
    table, column = match.groups()
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def statements(script: str) -> Iterator[str]:
    """Split a migration script into complete statements (executescript would commit)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf
            buf = ""
    if buf.strip():
        yield buf
