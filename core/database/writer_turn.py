"""SQLite's one writer at a time, as a queue shared by the threads and processes on one file.

What it is for: left to itself SQLite makes a waiting writer poll with sleeps of up to
100 ms, and a transaction that reads before it writes can fail outright. Writers here
queue instead: the threads of a process on a lock, then the processes on an ``flock``.

Hot path: every write on SQLite, ``write_transaction`` and ``write_in_group`` alike (the
missed-call webhook's group commit waits its turn here). On PostgreSQL it does nothing.

What it costs to remove: not speed but correctness: writers would fail with "database is
locked" under load. Keep it while SQLite is supported. ``process_key`` is here too: the
per-process state of ``group_commit`` and ``prepared`` is keyed by it, so that a forked
worker never shares its parent's connections.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from sqlalchemy import Engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another process's write lock before giving up."""

_thread_turns: dict[str, threading.Lock] = {}
_lock_files: dict[str, TextIO] = {}
_registry_lock = threading.Lock()


@contextmanager
def writer_turn(engine: Engine) -> Iterator[None]:
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


_engine_urls: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def process_key(engine: Engine) -> tuple[str, int]:
    """Key this process's state for one database: its URL (rendered once) and the pid."""
    url = _engine_urls.get(engine)
    if url is None:
        url = _engine_urls[engine] = str(engine.url)
    return url, os.getpid()
