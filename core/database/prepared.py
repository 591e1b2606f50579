"""Prepared statements: SQL compiled once per engine and run on the bare DBAPI cursor.

What it is for: the webhooks run a handful of statements per call, and SQLAlchemy's
execution layer costs about 0.1 ms a statement on top of the database's own work, which is
most of a webhook's budget. ``Prepared`` writes inside ``write_in_group``; ``PreparedRead``
reads, with no Session, on a connection each thread keeps for its life (no pool checkout,
ping and reset per read; on SQLite a page cache that stays warm; on PostgreSQL no BEGIN and
ROLLBACK round trips, the connection being in autocommit). The SQL is still SQLAlchemy's
``text()`` with typed binds, compiled by the dialect, so parameter styles and type
conversion stay its business.

Hot path: the missed-call webhook's three statements (``ivr/intake.py``) and the SMS it
records (``callqueue/sms.py``), measured by ``python -m bench --only webhooks``; the IVR's bill
lookup (``PreparedRead`` in ``ivr/accounts.py``), measured by ``bench/ivr.py``.

What it costs to remove: run the same ``text()`` statements through ``session.execute``
(reads with ``.columns(...)`` for the same typed rows) and delete this module. Behaviour is
the same; each statement costs the execution layer again, and the IVR's bill lookup a pool
checkout and a Session per request: both figures of the README's benchmark section fall.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, TextClause, event
from sqlalchemy.exc import DBAPIError

from core.database.writer_turn import process_key

if TYPE_CHECKING:
    from core.database.group_commit import RawCursor

log = logging.getLogger("sampark.database")


class Prepared:
    """A SQL statement compiled once per engine and run on the bare DBAPI cursor."""

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


class _ReaderRegistry:
    """This process's reading connections, by database, and the generation they belong to.

    Disposing of an engine closes its connections and starts a new generation; a thread
    whose connection is of an older one opens another.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generations: dict[tuple[str, int], int] = {}
        self.connections: dict[tuple[str, int], list[Any]] = {}
        # Kept here for ``discard``, which may run at interpreter exit (see _ThreadReaders).
        self.log = log

    def generation(self, key: tuple[str, int]) -> int:
        return self.generations.get(key, 0)

    def add(self, engine: Engine, key: tuple[str, int], connection: Any) -> None:
        with self.lock:
            if key not in self.connections:
                self.connections[key] = []
                event.listen(engine, "engine_disposed", lambda _engine: self.close_all(key))
            self.connections[key].append(connection)

    def discard(self, key: tuple[str, int], connection: Any) -> None:
        """Close one connection and forget it."""
        with self.lock:
            registered = self.connections.get(key, [])
            if connection in registered:
                registered.remove(connection)
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing one that is broken already is a courtesy
            self.log.debug("closing a reading connection failed", exc_info=True)

    def close_all(self, key: tuple[str, int]) -> None:
        """Close every connection to one database; threads then open new ones."""
        with self.lock:
            self.generations[key] = self.generations.get(key, 0) + 1
            connections = self.connections.pop(key, [])
        for connection in connections:
            connection.close()


_registry = _ReaderRegistry()
_readers = threading.local()


def _reader_connection(engine: Engine) -> Any:
    """Return the calling thread's DBAPI connection for ``PreparedRead``.

    Webhook threads live as long as their process, so each keeps one connection. A SELECT
    on it is its own transaction: SQLite's driver begins none for it, other databases'
    connections are in autocommit. Disposing of the engine closes them all; a thread then
    opens a new one.
    """
    key = process_key(engine)
    kept: _ThreadReaders | None = getattr(_readers, "kept", None)
    if kept is None:
        kept = _readers.kept = _ThreadReaders(_registry)
    generation = _registry.generation(key)
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
    _registry.add(engine, key, connection)
    kept[key] = (generation, connection)
    return connection


class _ThreadReaders(dict[tuple[str, int], tuple[int, Any]]):
    """One thread's reading connections (and their generations), closed when the thread ends.

    Servers that start a thread per request (Flask's development server) would otherwise
    leave a connection open for every request. The main thread's are closed at interpreter
    exit, after this module's globals may have been set to None: so ``__del__`` reaches
    what it needs through the instance and its class, never through the module.
    """

    _getpid = staticmethod(os.getpid)

    def __init__(self, registry: _ReaderRegistry) -> None:
        super().__init__()
        self.registry = registry

    def __del__(self) -> None:
        pid = self._getpid()
        for key, (_generation, connection) in list(self.items()):
            if key[1] == pid:  # a forked child must not close its parent's connections
                self.registry.discard(key, connection)


def _forget_reader_connection(engine: Engine, connection: Any) -> None:
    """Close this thread's broken reading connection; the next read opens another."""
    key = process_key(engine)
    _readers.kept.pop(key, None)
    _registry.discard(key, connection)
