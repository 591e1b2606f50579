"""Reads on the thread's own connection: the same values as SQLAlchemy's results, no pool."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Date, Integer, String, text
from sqlalchemy.exc import DBAPIError

from core.database import PreparedRead
from core.database.prepared import _reader_connection
from core.extensions import db
from core.models.consumers import MONEY
from ivr.demo import add_consumer

_BILLS = text(
    """
    SELECT b.amount_due, b.due_date, b.paid_on, a.account_number,
        EXISTS (SELECT 1 FROM linked_numbers l WHERE l.account_id = a.id AND l.phone = :phone)
            AS linked
    FROM consumer_accounts a JOIN bills b ON b.account_id = a.id
    WHERE a.account_number = :number
    ORDER BY b.due_date
    """
)
COLUMNS = {
    "amount_due": MONEY,
    "due_date": Date,
    "paid_on": Date,
    "account_number": String,
    "linked": Boolean,
}


def add_account(app) -> None:
    bill = {"bill_date": date(2026, 11, 1), "amount_after_due": Decimal("1551.00")}
    with app.app_context():
        add_consumer(
            "1000004321",
            ["+919812345678"],
            [
                {**bill, "due_date": date(2026, 12, 15), "amount_due": Decimal("1520.50")},
                {
                    **bill,
                    "due_date": date(2026, 10, 15),
                    "amount_due": Decimal("850.05"),
                    "paid_amount": Decimal("850.05"),
                    "paid_on": date(2026, 10, 12),
                },
            ],
        )
        db.session.commit()


def test_rows_come_back_as_sqlalchemy_gives_them(app):
    add_account(app)
    values = {"number": "1000004321", "phone": "+919812345678"}
    with app.app_context():
        read = PreparedRead(_BILLS, **COLUMNS).all(db.engine, values)
        expected = db.session.execute(_BILLS.columns(**COLUMNS), values).all()
        assert read == [tuple(row) for row in expected]
        assert read == [
            (Decimal("850.05"), date(2026, 10, 15), date(2026, 10, 12), "1000004321", True),
            (Decimal("1520.50"), date(2026, 12, 15), None, "1000004321", True),
        ]
        assert [type(value) for value in read[0]] == [Decimal, date, date, str, bool]
        stranger = PreparedRead(_BILLS, **COLUMNS).all(db.engine, {**values, "phone": "+91"})
        assert {row[4] for row in stranger} == {False}
        assert PreparedRead(_BILLS, **COLUMNS).all(db.engine, {**values, "number": "0"}) == []


def test_reads_borrow_nothing_from_the_pool_and_leave_no_transaction_open(app):
    with app.app_context():
        engine = db.engine
        query = PreparedRead(text("SELECT 1 AS one"), one=Integer)
        for _ in range(engine.pool.size() + 5):
            assert query.all(engine, {}) == [(1,)]
        with pytest.raises(DBAPIError):
            PreparedRead(text("SELECT nothing FROM nowhere"), one=Integer).all(engine, {})
        assert query.all(engine, {}) == [(1,)]  # the failed read left the connection usable
        assert engine.pool.checkedout() == 0
        if engine.dialect.name == "postgresql":
            # An open transaction would hold back vacuum for as long as the thread lives.
            idle_in_transaction = text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
            assert db.session.scalar(idle_in_transaction) == 0
        else:
            assert not _reader_connection(engine).in_transaction


def test_a_dropped_reading_connection_is_replaced(app):
    # A database restart or an idle timeout ends the thread's connection under it: the
    # read runs again on a new one instead of failing the caller.
    with app.app_context():
        engine = db.engine
        query = PreparedRead(text("SELECT 1 AS one"), one=Integer)
        assert query.all(engine, {}) == [(1,)]
        dropped = _reader_connection(engine)
        if engine.dialect.name == "postgresql":
            pid = PreparedRead(text("SELECT pg_backend_pid() AS pid"), pid=Integer)
            backend = pid.all(engine, {})[0][0]
            db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            db.session.commit()
        else:
            dropped.close()
        assert query.all(engine, {}) == [(1,)]
        assert _reader_connection(engine) is not dropped


def test_columns_named_out_of_order_are_refused(app):
    with app.app_context():
        swapped = PreparedRead(text("SELECT 1 AS one, 'x' AS two"), two=String, one=Integer)
        with pytest.raises(ValueError, match="columns"):
            swapped.all(db.engine, {})


def test_each_read_sees_what_was_committed_since(app):
    # On SQLite each thread keeps its reading connection: it must not keep a snapshot.
    add_account(app)
    values = {"number": "1000004321", "phone": "+919812345678"}
    query = PreparedRead(_BILLS, **COLUMNS)
    with app.app_context():
        assert [row[2] for row in query.all(db.engine, values)] == [date(2026, 10, 12), None]
        db.session.execute(text("UPDATE bills SET paid_on = '2026-12-01' WHERE paid_on IS NULL"))
        db.session.commit()
        assert [row[2] for row in query.all(db.engine, values)] == [
            date(2026, 10, 12),
            date(2026, 12, 1),
        ]


def test_threads_read_at_once_and_the_engine_closes_their_connections(app):
    add_account(app)
    values = {"number": "1000004321", "phone": "+919812345678"}
    query = PreparedRead(_BILLS, **COLUMNS)
    results: list[int] = []
    with app.app_context():
        engine = db.engine

        def reader() -> None:
            for _ in range(20):
                results.append(len(query.all(engine, values)))

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [2] * 160
        engine.dispose()
        # A thread whose connection was closed with the engine opens another.
        assert len(query.all(engine, values)) == 2


def test_a_thread_that_ends_closes_its_reading_connection(app):
    # A server that starts a thread per request must not leave a connection per request.
    with app.app_context():
        engine = db.engine
        query = PreparedRead(text("SELECT 1 AS one"), one=Integer)
        opened: list[object] = []

        def request_thread() -> None:
            assert query.all(engine, {}) == [(1,)]
            opened.append(_reader_connection(engine))

        for _ in range(3):
            thread = threading.Thread(target=request_thread)
            thread.start()
            thread.join()
        gc.collect()
        for connection in opened:
            with pytest.raises(Exception, match="(?i)closed"):
                connection.cursor().execute("SELECT 1")
        assert query.all(engine, {}) == [(1,)]  # this thread's own is still open


A_TEST_THAT_READS_ON_THE_MAIN_THREAD = """
from sqlalchemy import Integer, text

from app import create_app
from core.database import PreparedRead
from core.extensions import db


def test_read_on_the_main_thread():
    app = create_app()
    with app.app_context():
        assert PreparedRead(text("SELECT 1 AS one"), one=Integer).all(db.engine, {}) == [(1,)]
"""


def test_a_process_that_read_on_its_main_thread_exits_quietly(tmp_path):
    # The main thread's reading connection is closed at interpreter exit, after a module
    # kept alive to the end (pytest keeps them so) has had its globals set to None: no
    # "Exception ignored" on the way out.
    test_file = tmp_path / "test_reads.py"
    test_file.write_text(A_TEST_THAT_READS_ON_THE_MAIN_THREAD)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'exit.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout
    assert "Exception ignored" not in done.stderr, done.stderr
