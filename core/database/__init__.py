"""Database set-up: the engine's options, SQLite's pragmas, and transactions that write.

Everything the app does with its database goes through Flask-SQLAlchemy's ``db.session``
and ``write_transaction`` below. Two hot paths of the webhooks do more, each in a module of
its own that says what it buys and what it costs to remove:

- ``group_commit``: ``write_in_group``, writers of one process sharing one transaction and
  one commit (the missed-call webhook, the SMS it records);
- ``prepared``: ``Prepared`` and ``PreparedRead``, statements compiled once and run on the
  bare DBAPI cursor, reads on a connection each thread keeps (the IVR's bill lookup);
- ``memory_statistics``: SQLite told to keep no memory statistics (the IVR's bill lookup);
- ``writer_turn``: SQLite's one writer at a time, as a queue shared by every process (any
  write on a SQLite file; not a speed trick but what keeps writers from failing).

The names importers use are re-exported here: ``from core.database import …`` is enough.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from core.database.group_commit import (
    CHECKPOINT_EVERY_COMMITS,
    WRITER_AUTOCHECKPOINT_PAGES,
    RawCursor,
    write_in_group,
)

# Turns SQLite's memory statistics off when imported, which only works before Python's
# sqlite3 is: nothing imported above or below here imports it.
from core.database.memory_statistics import (
    SQLITE_MEMORY_STATISTICS_OFF,
    sqlite_memory_statistics_off,
)
from core.database.prepared import Prepared, PreparedRead
from core.database.writer_turn import SQLITE_BUSY_TIMEOUT_MS, writer_turn
from core.extensions import db, migrate

__all__ = [
    "CHECKPOINT_EVERY_COMMITS",
    "SQLITE_BUSY_TIMEOUT_MS",
    "SQLITE_MEMORY_STATISTICS_OFF",
    "SQLITE_MMAP_BYTES",
    "WRITER_AUTOCHECKPOINT_PAGES",
    "Prepared",
    "PreparedRead",
    "RawCursor",
    "init_app",
    "sqlite_memory_statistics_off",
    "write_in_group",
    "write_transaction",
]

SQLITE_MMAP_BYTES = 256 * 1024 * 1024
"""How much of a SQLite file each connection reads through a memory map (address space only)."""


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
    with writer_turn(engine):
        if engine.dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE"))
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise
