"""Group commit: the writes of one process's webhook threads share one transaction and commit.

What it is for: a missed call is a handful of small writes (screen the number, record the
call, open or join a callback, record the SMS). On SQLite every commit is a turn at the
one writer, and under load webhooks queue for it, one commit each. ``write_in_group``
lets the threads that want to write at the same moment take one turn and one commit
between them, each piece of work in a savepoint of its own only when one fails. A
background thread checkpoints the log off the writer's turn.

Hot path: the missed-call webhook (``ivr/intake.py``, ``ivr/actions.py``) and the SMS it
records (``callqueue/sms.py``); measured by ``make bench`` (``--only webhooks``), the
``POST /ivr/missed-call`` row of the README's benchmark section.

What it costs to remove: replace ``write_in_group(engine, work)`` with ``work`` run inside
``write_transaction`` on a plain connection (the callers' statements stay as they are) and
delete this module. Behaviour is the same; the missed-call figure falls (each webhook waits
for its own turn and commit), and the WAL is checkpointed inside commits again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError

from core.database.writer_turn import process_key, writer_turn

log = logging.getLogger("sampark.database")

CHECKPOINT_EVERY_COMMITS = 100
"""Group commits between two background checkpoints of the SQLite write-ahead log."""

WRITER_AUTOCHECKPOINT_PAGES = 20_000
"""WAL pages at which the group writer checkpoints on its own: only if the background
checkpointer has fallen that far behind (SQLite's default is 1,000)."""


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
        with writer_turn(engine):
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


_groups: dict[tuple[str, int], _Group] = {}
_groups_lock = threading.Lock()


def _group_for(engine: Engine) -> _Group:
    key = process_key(engine)
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
    key = process_key(engine)  # a forked worker must not share its parent's
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
