"""Group commit: concurrent webhooks share transactions without losing or doubling records."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.database import CHECKPOINT_EVERY_COMMITS, write_in_group
from core.extensions import db
from core.models import Callback, MissedCall, OutboundMessage
from ivr.intake import record_missed_call
from telephony.records import InboundCall

THREADS = 8
CALLS_PER_THREAD = 30


def test_concurrent_missed_calls_are_each_recorded_once(app):
    # Every thread replays the same 30 CallSids (Twilio retrying at once), from 10 numbers.
    calls = [
        InboundCall(f"CA{n:032d}", f"+9198123450{n % 10:02d}", "+911800180000", "ringing")
        for n in range(CALLS_PER_THREAD)
    ]
    results: list = []
    errors: list[BaseException] = []

    def caller() -> None:
        with app.app_context():
            try:
                results.extend(record_missed_call(call) for call in calls)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(not r.duplicate for r in results) == CALLS_PER_THREAD
    assert sum(r.duplicate for r in results) == CALLS_PER_THREAD * (THREADS - 1)
    with app.app_context():
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(MissedCall) == CALLS_PER_THREAD
        assert count(Callback) == 10
        assert count(OutboundMessage) == 10
        counts = db.session.scalars(select(Callback.missed_call_count)).all()
        assert sorted(counts) == [3] * 10


def test_failing_work_is_undone_alone_and_reported_to_its_caller(app):
    with app.app_context():
        engine = db.engine
    barrier = threading.Barrier(4)
    outcomes: dict[int, object] = {}

    def insert(n: int) -> None:
        def work(cursor):
            cursor.dbapi.execute(
                text(
                    "INSERT INTO blocked_numbers (phone, reason, created_at) "
                    "VALUES (:p, 'test', '2026-01-01 00:00:00')"
                )
                .compile(dialect=engine.dialect)
                .string,
                _params(engine, {"p": f"+91980000000{n}"}),
            )
            if n == 2:
                raise ValueError("this one fails")
            return n

        barrier.wait()
        try:
            outcomes[n] = write_in_group(engine, work)
        except ValueError as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [outcomes[n] for n in (0, 1, 3)] == [0, 1, 3]
    assert isinstance(outcomes[2], ValueError)
    with app.app_context():
        phones = db.session.scalars(text("SELECT phone FROM blocked_numbers ORDER BY phone")).all()
    assert phones == ["+919800000000", "+919800000001", "+919800000003"]


def _params(engine, values):
    # The driver's own parameter style: qmark for SQLite, pyformat for psycopg.
    return (values["p"],) if engine.dialect.paramstyle == "qmark" else values


@pytest.mark.parametrize("bad_url", ["sqlite:////nonexistent-dir/x.db"])
def test_a_database_that_cannot_open_fails_every_caller_without_hanging(make_app, bad_url):
    app = make_app(DATABASE_URL=bad_url)
    with app.app_context(), pytest.raises(Exception):  # noqa: B017 - any driver error will do
        write_in_group(db.engine, lambda cursor: None)


def test_the_write_ahead_log_is_checkpointed_off_the_writers_turn(make_app, tmp_path):
    # Two hundred small commits write fewer log pages than SQLite's own checkpoint
    # threshold (1,000): their rows reach the database file only because the group
    # writer's background checkpointer copied them there, every 100 commits. On a database
    # of its own: a reader another test left open on the shared one would hold the
    # checkpoint back (a checkpoint copies nothing newer than the oldest reader's snapshot).
    if not make_app().config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("a SQLite write-ahead log")
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'wal.db'}")
    with app.app_context():
        engine = db.engine
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE numbers (phone TEXT)"))
        sql = text("INSERT INTO numbers (phone) VALUES (:p)").compile(dialect=engine.dialect).string
        for n in range(2 * CHECKPOINT_EVERY_COMMITS):
            values = _params(engine, {"p": f"+91981{n:07d}"})
            write_in_group(engine, lambda cursor, v=values: cursor.dbapi.execute(sql, v))
        # The database file alone, without its log, shows what was checkpointed.
        deadline, found = time.monotonic() + 10, 0
        while found < CHECKPOINT_EVERY_COMMITS and time.monotonic() < deadline:
            time.sleep(0.05)
            found = _rows_in_file_alone(Path(engine.url.database), tmp_path)
        assert found >= CHECKPOINT_EVERY_COMMITS


def _rows_in_file_alone(database_file: Path, scratch: Path) -> int:
    copy = scratch / "copy.db"
    shutil.copyfile(database_file, copy)
    with closing(sqlite3.connect(copy)) as connection:
        return connection.execute("SELECT count(*) FROM numbers").fetchone()[0]


SQLITE_ONLY_PROCESS = """
import ctypes, importlib.util
from app import create_app
from core.database import SQLITE_MEMORY_STATISTICS_OFF
from core.extensions import db
from sqlalchemy import text
app = create_app()
with app.app_context():
    db.session.execute(text("CREATE TABLE t (x)"))
    db.session.execute(text("INSERT INTO t VALUES (1)"))
    db.session.commit()
    rows = db.session.execute(text("SELECT x FROM t")).all()
sqlite = ctypes.CDLL(importlib.util.find_spec("_sqlite3").origin)
sqlite.sqlite3_memory_used.restype = ctypes.c_int64
print(SQLITE_MEMORY_STATISTICS_OFF, rows, sqlite.sqlite3_memory_used())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="SQLite is tuned through ctypes on Linux only")
def test_a_web_process_keeps_no_sqlite_memory_statistics(tmp_path):
    # A process that starts with the app, as a gunicorn worker does: SQLite counts no
    # allocations (under its process-wide mutex), and works as before.
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_ONLY_PROCESS],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'stats.db'}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "True [(1,)] 0"
