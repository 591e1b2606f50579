"""Database engine set-up: SQLite pragmas, write transactions, upserts that work on both engines."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.extensions import db, migrate

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another process's write lock before giving up."""


def init_app(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and Flask-Migrate to the app."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = {"pool_pre_ping": not uri.startswith("sqlite")}
    if uri.startswith("sqlite"):
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
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
    cursor.close()


def begin_write(session: Session) -> None:
    """Start a transaction that will write, taking SQLite's write lock up front.

    A SQLite transaction that reads and then writes can fail at once with "database is
    locked" when another process wrote in between; BEGIN IMMEDIATE waits its turn instead.
    PostgreSQL needs nothing here.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))


def insert_for(session: Session, table: Any) -> Any:
    """Return the dialect's INSERT, which knows ON CONFLICT, for ``table``."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are written for SQLite and PostgreSQL, not {dialect}")


def engine_of(session: Session) -> Engine:
    """Return the engine a session talks to."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine
