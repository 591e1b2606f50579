"""Database set-up: SQLite pragmas, write transactions, statements prepared for the hot path."""

from __future__ import annotations

import ctypes
import fcntl
import functools
import importlib.util
import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

from flask import Flask
from sqlalchemy import Engine, TextClause, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.extensions import db, migrate

log = logging.getLogger("sampark.database")

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another process's write lock before giving up."""

SQLITE_MMAP_BYTES = 256 * 1024 * 1024
"""How much of a SQLite file each connection reads through a memory map (address space only)."""

CHECKPOINT_EVERY_COMMITS = 100
"""Group commits between two background checkpoints of the SQLite write-ahead log."""

WRITER_AUTOCHECKPOINT_PAGES = 20_000
"""WAL pages at which the group writer checkpoints on its own: only if the background
checkpointer has fallen that far behind (SQLite's default is 1,000)."""


def init_app(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and Flask-Migrate to the app."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = {"pool_pre_ping": not uri.startswith("sqlite")}
    if uri.startswith("sqlite"):
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if ":memory:" not in uri and uri not in ("sqlite://", "sqlite:///"):
        # A pool smaller than the threads that read at once makes connections that are
        # closed again on return: a new SQLite connection starts with a cold page cache
        # and its pragmas to run, a new PostgreSQL one with a login.
        options["pool_size"] = app.config["DATABASE_POOL_SIZE"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", "migrations"))
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)


_SQLITE_CONFIG_MEMSTATUS = 9
"""sqlite3_config() option: keep memory statistics (on unless SQLite was built without)."""


def sqlite_memory_statistics_off() -> bool:
    """Turn off SQLite's memory statistics for this process; tell whether it took effect.

    SQLite counts every allocation under one process-wide mutex, which the threads of a
    web process, each reading on its own connection, fight over: the IVR's bill lookup
    took a third more CPU with 8 threads than alone because of it (SQLite advises builds
    without the statistics). It can only be set before SQLite is first used in the
    process, which Python's sqlite3 does when it is imported, so this module does it when
    it is imported; where sqlite3 came first, or on other platforms, the statistics stay.
    """
    if "_sqlite3" in sys.modules or sys.platform != "linux":
        return False  # too late; elsewhere ctypes may pass variadic arguments wrongly
    spec = importlib.util.find_spec("_sqlite3")
    if spec is None or not spec.origin:
        return False
    try:
        # Loading the extension's file (without importing it) loads the very SQLite library
        # it is linked with, whichever that is, and leaves SQLite uninitialised.
        configure = ctypes.CDLL(spec.origin).sqlite3_config
    except (OSError, AttributeError):
        return False
    return configure(_SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0  # SQLITE_OK


SQLITE_MEMORY_STATISTICS_OFF = sqlite_memory_statistics_off()
"""Whether this process's SQLite keeps no memory statistics (see above)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the console read while a webhook writes; NORMAL syncs at checkpoints, which
    # survives a crash of the app (not of the machine) and keeps a write well under a ms.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Pages read through the map come straight from the OS's cache: no copy into each
    # connection's own cache, which the IVR's reads of random accounts mostly miss.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


@contextmanager
def write_transaction(session: Session) -> Iterator[None]:
    """Run the block as one transaction that writes; commit at the end, roll back on error.

    On SQLite only one writer may work at a time. Left to itself SQLite makes the others
    poll with sleeps of up to 100 ms (and a transaction that reads before it writes can
    fail outright), so writers queue on a lock shared by every process instead, and
    BEGIN IMMEDIATE takes the write lock before the first read. PostgreSQL needs neither.
    """
    engine = session.get_bind()
    with _writer_turn(engine):
        if engine.dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE"))
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Prepared:
    """A SQL statement compiled once per engine and run on the bare DBAPI cursor.

    The webhook hot path runs a handful of statements per call; SQLAlchemy's execution
    layer costs about 0.1 ms a statement on top of the database's own work, which is most
    of a webhook's budget. The SQL is still SQLAlchemy's ``text()`` with typed binds,
    compiled by the dialect, so parameter styles and type conversion stay its business.
    """

    def __init__(self, statement: TextClause) -> None:
        self.statement = statement
        self._compiled: dict[int, tuple[str, Callable[[dict[str, Any]], Any]]] = {}

    def _for(self, engine: Engine) -> tuple[str, Callable[[dict[str, Any]], Any]]:
        key = id(engine)
        if key not in self._compiled:
            dialect = engine.dialect
            compiled = self.statement.compile(dialect=dialect)
            processors = {
                bind.key: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for bind in compiled.binds.values()
            }
            order = compiled.positiontup
            if order is not None:
                steps = [(name, processors.get(name)) for name in dict.fromkeys(order)]
                if len(steps) == len(order):

                    def params(values: dict[str, Any]) -> Any:
                        return tuple(
                            values[name] if convert is None else convert(values[name])
                            for name, convert in steps
                        )

                else:
                    # A name used more than once (``:now`` three times) is converted once.
                    def params(values: dict[str, Any]) -> Any:
                        converted = {
                            name: values[name] if convert is None else convert(values[name])
                            for name, convert in steps
                        }
                        return tuple(converted[name] for name in order)

            else:
                names = list(processors)

                def params(values: dict[str, Any]) -> Any:
                    out = dict(values)
                    for name in names:
                        convert = processors[name]
                        if convert is not None and name in out:
                            out[name] = convert(out[name])
                    return out

            self._compiled[key] = (compiled.string, params)
        return self._compiled[key]

    def execute(self, cursor: RawCursor, values: dict[str, Any]) -> Any:
        """Run with ``values``; return the DBAPI cursor to fetch from."""
        sql, params = self._for(cursor.engine)
        cursor.dbapi.execute(sql, params(values))
        return cursor.dbapi

    def insert(self, cursor: RawCursor, values: dict[str, Any]) -> int | None:
        """Run an ``INSERT … RETURNING id``; return the new row's id, or None if none was made.

        SQLite answers RETURNING through a temporary table and one more step of the
        statement; its last row id and change count say the same for less, so there the
        clause is left out.
        """
        sql, params = self._for(cursor.engine)
        dbapi = cursor.dbapi
        if cursor.engine.dialect.name == "sqlite":
            dbapi.execute(_without_returning_id(sql), params(values))
            return dbapi.lastrowid if dbapi.rowcount == 1 else None
        dbapi.execute(sql, params(values))
        row = dbapi.fetchone()
        return row[0] if row else None


_RETURNING_ID = re.compile(r"\s+RETURNING\s+id\s*$", re.IGNORECASE)


@functools.cache
def _without_returning_id(sql: str) -> str:
    stripped, found = _RETURNING_ID.subn("", sql)
    if not found:
        raise ValueError(f"not an INSERT ending in RETURNING id: {sql!r}")
    return stripped


@dataclass
class RawCursor:
    """A DBAPI cursor inside a ``write_in_group`` transaction, with its engine."""

    engine: Engine
    dbapi: Any


T = TypeVar("T")


def write_in_group(engine: Engine, work: Callable[[RawCursor], T]) -> T:
    """Run ``work`` in a write transaction shared with other threads' work (group commit).

    Webhook threads of one process that want to write at the same moment take one turn and
    one commit between them; each piece of work runs in its own savepoint, so one that
    fails (a duplicate, say) is undone alone and its caller gets the exception. ``work``
    must only run statements on the cursor: it runs on whichever thread leads the group.
    """
    return _group_for(engine).submit(work)


class _Work:
    __slots__ = ("run", "done", "lead", "result", "error")

    def __init__(self, run: Callable[[RawCursor], Any]) -> None:
        self.run = run
        # Held until the work is done (or this thread is to lead): a bare lock is the
        # cheapest thing a thread can sleep on and another wake it from.
        self.done = threading.Lock()
        self.done.acquire()
        self.lead = False
        self.result: Any = None
        self.error: BaseException | None = None


class _Group:
    """The writers of one engine in one process: a queue, and whoever leads it now."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.mutex = threading.Lock()
        self.pending: list[_Work] = []
        self.leading = False

    def submit(self, run: Callable[[RawCursor], T]) -> T:
        item = _Work(run)
        with self.mutex:
            self.pending.append(item)
            lead = not self.leading
            self.leading = True
        if not lead:
            item.done.acquire()
        if item.lead or lead:
            self._lead()
        if item.error is not None:
            raise item.error
        return item.result

    def _lead(self) -> None:
        # Write one batch, then hand the lead to a waiting thread, so that no caller's
        # answer waits on work that arrived after its own.
        with self.mutex:
            batch, self.pending = self.pending, []
        try:
            _write_batch(self.engine, batch)
        except BaseException as exc:  # no database connection, say: every caller hears of it
            for item in batch:
                item.error, item.result = exc, None
        with self.mutex:
            if self.pending:
                successor = self.pending[0]
                successor.lead = True
                successor.done.release()
            else:
                self.leading = False
        for item in batch:
            if not item.lead:
                item.done.release()


def _write_batch(engine: Engine, batch: list[_Work]) -> None:
    dbapi = engine.dialect.loaded_dbapi
    sqlite = engine.dialect.name == "sqlite"
    pooled = None if sqlite else engine.raw_connection()
    try:
        with _writer_turn(engine):
            connection, checkpointer = _sqlite_writer(engine) if sqlite else (pooled, None)
            cursor = connection.cursor()
            raw = RawCursor(engine, cursor)
            try:
                if sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                if len(batch) == 1:
                    # Alone in the transaction: a failure rolls all of it back, no savepoint.
                    batch[0].result = batch[0].run(raw)
                elif not _run_together(connection, cursor, raw, batch, sqlite):
                    for item in batch:
                        _run_in_savepoint(cursor, raw, item, dbapi)
                connection.commit()
                if checkpointer is not None:
                    checkpointer.committed()
            except BaseException as exc:
                connection.rollback()
                error = (
                    DBAPIError.instance(None, None, exc, dbapi.Error)
                    if isinstance(exc, dbapi.Error)
                    else exc
                )
                for item in batch:
                    item.error, item.result = error, None
            finally:
                cursor.close()
    finally:
        if pooled is not None:
            pooled.close()


def _run_together(
    connection: Any, cursor: Any, raw: RawCursor, batch: list[_Work], sqlite: bool
) -> bool:
    """Run every piece of work with no savepoints; on the first failure undo them all.

    Failures are rare (a retried webhook, say), and savepoints cost two statements per
    piece: so the batch runs bare, and only a batch with a failure runs again, each piece
    in its own savepoint. Returns whether the batch ran; the transaction is still open.
    """
    try:
        for item in batch:
            item.result = item.run(raw)
    except Exception:
        connection.rollback()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        return False
    return True


def _run_in_savepoint(cursor: Any, raw: RawCursor, item: _Work, dbapi: Any) -> None:
    cursor.execute("SAVEPOINT work")
    try:
        item.result = item.run(raw)
    except dbapi.Error as exc:
        cursor.execute("ROLLBACK TO SAVEPOINT work")
        item.error = DBAPIError.instance(None, None, exc, dbapi.Error)
    except Exception as exc:
        cursor.execute("ROLLBACK TO SAVEPOINT work")
        item.error = exc
    cursor.execute("RELEASE SAVEPOINT work")


_engine_urls: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _process_key(engine: Engine) -> tuple[str, int]:
    """Key this process's state for one database: its URL (rendered once) and the pid."""
    url = _engine_urls.get(engine)
    if url is None:
        url = _engine_urls[engine] = str(engine.url)
    return url, os.getpid()


_groups: dict[tuple[str, int], _Group] = {}
_groups_lock = threading.Lock()


def _group_for(engine: Engine) -> _Group:
    key = _process_key(engine)
    group = _groups.get(key)
    if group is None:
        with _groups_lock:
            group = _groups.setdefault(key, _Group(engine))
    return group


class _Checkpointer:
    """A thread that checkpoints one SQLite database's WAL every so many group commits.

    A PASSIVE checkpoint runs beside writers and readers (SQLite's checkpoint lock is not
    the write lock), so it no longer holds up the webhooks queued for the writer's turn.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.commits = 0
        self.wake = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self.thread.start()

    def committed(self) -> None:
        """Count a group commit (called inside the writer's turn); wake the thread now and then."""
        self.commits += 1
        if self.commits % CHECKPOINT_EVERY_COMMITS == 0:
            self.wake.set()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()

    def _run(self) -> None:
        connection = self.engine.raw_connection()
        connection.detach()  # held for the process's life: not one of the pool's
        try:
            while True:
                self.wake.wait()
                self.wake.clear()
                if self.stopping:
                    return
                try:
                    connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except self.engine.dialect.loaded_dbapi.Error:
                    log.warning("background WAL checkpoint failed", exc_info=True)
        finally:
            connection.close()


_sqlite_writers: dict[tuple[str, int], tuple[Any, _Checkpointer]] = {}


def _sqlite_writer(engine: Engine) -> tuple[Any, _Checkpointer]:
    """Return this process's SQLite writer connection and its WAL checkpointer.

    The connection is used only inside a writer's turn.
    """
    key = _process_key(engine)  # a forked worker must not share its parent's
    writer = _sqlite_writers.get(key)
    if writer is None:
        # Taken from the pool (so its pragmas are set) and detached: the process keeps it.
        connection = engine.raw_connection()
        connection.detach()
        # Checkpoints copy the log into the database file and sync it: a few ms that,
        # inside a commit, every webhook waiting for the writer's turn would wait too.
        # The checkpointer thread does them instead, off the writer's turn.
        connection.cursor().execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
        # The pages a writer touches are the ones just written, read from the log, not the
        # file: the map only adds work there (measured a few per cent slower).
        connection.cursor().execute("PRAGMA mmap_size=0")
        writer = _sqlite_writers[key] = (connection, _Checkpointer(engine))
        event.listen(engine, "engine_disposed", lambda _engine: _close_writer(key))
    return writer


def _close_writer(key: tuple[str, int]) -> None:
    writer = _sqlite_writers.pop(key, None)
    if writer is not None:
        connection, checkpointer = writer
        connection.close()
        checkpointer.stop()


_thread_turns: dict[str, threading.Lock] = {}
_lock_files: dict[str, TextIO] = {}
_registry_lock = threading.Lock()


@contextmanager
def _writer_turn(engine: Engine) -> Iterator[None]:
    """On a SQLite file, wait for this process's and then every process's writer turn."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with _registry_lock:
        if database not in _thread_turns:
            _lock_files[database] = open(f"{database}.writer-lock", "a")  # noqa: SIM115
            _thread_turns[database] = threading.Lock()
    # Threads of one process take turns first: an flock belongs to the process, not a thread.
    with _thread_turns[database]:
        handle = _lock_files[database]
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class PreparedRead(Prepared):
    """A SELECT compiled once per engine and run on the thread's reading connection, no Session.

    For the reads of the webhook hot path: a Session costs more in setting up its result
    and in the request's teardown than the query itself, and a pooled connection costs a
    checkout, a liveness ping and (on PostgreSQL) BEGIN and ROLLBACK round trips around
    the one SELECT. ``columns`` name the result columns in the SELECT's order with their
    types, which convert each row's values as SQLAlchemy's own results would
    (``text().columns()``).
    """

    def __init__(self, statement: TextClause, **columns: Any) -> None:
        super().__init__(statement)
        typed = statement.columns(**columns).selected_columns
        self._names = [column.name for column in typed]
        self._types = [column.type for column in typed]
        self._converters: dict[int, list[Callable[[Any], Any] | None]] = {}

    def all(self, engine: Engine, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run with ``values`` and return every row as a tuple, its values converted."""
        sql, params = self._for(engine)
        bound = params(values)
        dbapi = engine.dialect.loaded_dbapi
        for attempt in (1, 2):
            connection = _reader_connection(engine)
            try:
                rows, description = _fetch_all(connection, sql, bound)
                break
            except dbapi.Error as exc:
                # The server went away (a restart, an idle timeout): the connection is
                # dropped, and a SELECT is safe to run again, once, on a new one.
                dropped = engine.dialect.is_disconnect(exc, connection, None)
                if dropped:
                    _forget_reader_connection(engine, connection)
                if not dropped or attempt == 2:
                    # The same exceptions as a Session's, so callers see one family.
                    raise DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
        converters = self._converters_for(engine, description)
        return [
            tuple(
                value if convert is None else convert(value)
                for value, convert in zip(row, converters, strict=True)
            )
            for row in rows
        ]

    def _converters_for(
        self, engine: Engine, description: Any
    ) -> list[Callable[[Any], Any] | None]:
        # The type codes the driver reports (psycopg's OIDs) choose the converters; they
        # do not change between runs of one statement.
        key = id(engine)
        converters = self._converters.get(key)
        if converters is None:
            names = [column[0] for column in description]
            if names != self._names:
                raise ValueError(f"columns {self._names} given for a SELECT of {names}")
            dialect = engine.dialect
            converters = [
                kind.dialect_impl(dialect).result_processor(dialect, column[1])
                for kind, column in zip(self._types, description, strict=True)
            ]
            self._converters[key] = converters
        return converters


def _fetch_all(connection: Any, sql: str, bound: Any) -> tuple[list[Any], Any]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, bound)
        return cursor.fetchall(), cursor.description
    finally:
        cursor.close()


_readers = threading.local()
_reader_generations: dict[tuple[str, int], int] = {}
_reader_connections: dict[tuple[str, int], list[Any]] = {}


def _reader_connection(engine: Engine) -> Any:
    """Return the calling thread's DBAPI connection for ``PreparedRead``.

    Webhook threads live as long as their process, so each keeps one connection: no pool
    checkout, ping and reset per read, and (SQLite) a page cache that stays warm between
    requests. A SELECT on it is its own transaction: SQLite's driver begins none for it,
    other databases' connections are in autocommit. Disposing of the engine closes them
    all; a thread then opens a new one.
    """
    key = _process_key(engine)
    kept: _ThreadReaders | None = getattr(_readers, "kept", None)
    if kept is None:
        kept = _readers.kept = _ThreadReaders()
    generation = _reader_generations.get(key, 0)
    entry = kept.get(key)
    if entry is not None and entry[0] == generation:
        return entry[1]
    pooled = engine.raw_connection()
    pooled.detach()  # the thread keeps it: not one of the pool's
    connection = pooled.dbapi_connection
    if engine.dialect.name != "sqlite":
        # No transaction left open between reads: it would hold back vacuum, and
        # BEGIN and ROLLBACK would be two more round trips per read.
        engine.dialect.set_isolation_level(connection, "AUTOCOMMIT")
    with _registry_lock:
        if key not in _reader_connections:
            _reader_connections[key] = []
            event.listen(engine, "engine_disposed", lambda _engine: _close_readers(key))
        _reader_connections[key].append(connection)
    kept[key] = (generation, connection)
    return connection


class _ThreadReaders(dict[tuple[str, int], tuple[int, Any]]):
    """One thread's reading connections (and their generations), closed when the thread ends.

    Servers that start a thread per request (Flask's development server) would otherwise
    leave a connection open for every request.
    """

    def __del__(self) -> None:
        pid = os.getpid()
        for key, (_generation, connection) in list(self.items()):
            if key[1] == pid:  # a forked child must not close its parent's connections
                _discard_reader(key, connection)


def _forget_reader_connection(engine: Engine, connection: Any) -> None:
    """Close this thread's broken reading connection; the next read opens another."""
    key = _process_key(engine)
    _readers.kept.pop(key, None)
    _discard_reader(key, connection)


def _discard_reader(key: tuple[str, int], connection: Any) -> None:
    with _registry_lock:
        registered = _reader_connections.get(key, [])
        if connection in registered:
            registered.remove(connection)
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing one that is broken already is a courtesy
        log.debug("closing a reading connection failed", exc_info=True)


def _close_readers(key: tuple[str, int]) -> None:
    with _registry_lock:
        _reader_generations[key] = _reader_generations.get(key, 0) + 1
        connections = _reader_connections.pop(key, [])
    for connection in connections:
        connection.close()
