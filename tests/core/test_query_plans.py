"""Every query the console and the workers run at a DISCOM's scale uses an index.

PostgreSQL only: the tables are seeded with a year of a DISCOM's records (scaled down so
the suite stays quick, but far past where a sequential scan stops being the cheap plan),
ANALYZEd so the planner sees realistic statistics, and then the console is driven through
its pages and the sweeper, relay, IVR and application lookups are run for real, recording
every statement they send. Each recorded statement is EXPLAINed with the values it was sent
with, and a sequential scan of a large table fails the test, naming the statement.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text

from callcenter.dashboard import dashboard_figures, today
from callcenter.history import caller_history
from callqueue.sweep import sweep
from core.extensions import db
from core.models import (
    Callback,
    CallbackStatus,
    MissedCall,
    OutboundMessage,
    Role,
    utcnow,
)
from core.models.applications import Application
from core.models.attempts import CallAttempt
from core.models.campaigns import Campaign, CampaignCall
from core.models.console import AuditEvent
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from ivr import accounts
from tests.callcenter.conftest import create_user, login, post_form

CONSUMERS = 60_000
"""Consumer accounts (with a linked number each and two bills)."""

CLOSED_CALLBACKS = 60_000
"""A year of callbacks already closed, with their missed calls, SMS, attempts and audit."""

PENDING_CALLBACKS = 500
"""The queue as it stands."""

CAMPAIGNS = 20
"""Announcement campaigns, each calling its share of the consumers."""

LARGE_TABLE_ROWS = 10_000
"""A sequential scan of a table holding more rows than this fails the test."""

YEAR = "interval '365 days'"


@pytest.fixture()
def discom_scale(app: Flask) -> dict[str, int]:
    """Seed a year of records with generate_series on PostgreSQL; skip elsewhere."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("query plans are checked on PostgreSQL (DATABASE_URL=postgresql://…)")
        templates = _templates(app)
        with db.engine.begin() as connection:
            for table, count, overrides in _clones(templates):
                _clone(connection, table, templates[table], count, overrides)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    # Outside the app context: requests sharing one would share ``g`` (and its CSRF token).
    return templates


def _templates(app: Flask) -> dict[str, int]:
    """Make one complete row of each table through the models; return their ids by table."""
    now = utcnow()
    operator_id = create_user(app, "asha", languages="hi,en")
    create_user(app, "sunil", role=Role.SUPERVISOR, phone="+919800000009")
    session = db.session
    account = ConsumerAccount(account_number="K000000000000", name="Template")
    session.add(account)
    session.flush()
    session.add(LinkedNumber(phone="+917099999999", account_id=account.id))
    session.add(
        Bill(
            account_id=account.id,
            bill_date=now.date(),
            due_date=now.date() + timedelta(days=15),
            amount_due=1234,
            amount_after_due=1260,
        )
    )
    callback = Callback(
        phone="+917099999999",
        language="hi",
        status=CallbackStatus.DONE,
        priority=0,
        due_at=now,
        first_missed_at=now,
        last_missed_at=now,
        closed_at=now,
    )
    session.add(callback)
    session.flush()
    session.add_all(
        [
            MissedCall(
                call_sid="CA-template",
                caller_raw="+917099999999",
                phone="+917099999999",
                dialled="+911800180000",
                outcome="queued",
                callback_id=callback.id,
            ),
            OutboundMessage(
                recipient="+917099999999",
                template="callback_ack",
                language="hi",
                body="…",
                callback_id=callback.id,
                status="delivered",
                provider="twilio",
                provider_sid="SM-template",
                job_queued_at=now,
                sent_at=now,
            ),
            CallAttempt(
                callback_id=callback.id,
                operator_id=operator_id,
                number=1,
                call_sid="CA-attempt-template",
                status="completed",
                outcome="answered",
                answered_at=now,
                settled_at=now,
            ),
            AuditEvent(entity="callback", entity_id=callback.id, action="claim", changes={}),
            Application(
                number="NC-2025-000000",
                service="new_connection",
                status="submitted",
                phone="+917099999999",
                account_number="K000000000000",
                operator_id=operator_id,
                callback_id=callback.id,
                submitted_at=now,
            ),
        ]
    )
    campaign = Campaign(name="template", kind="overdue-bills", rate=1.0)
    session.add(campaign)
    session.flush()
    session.add(
        CampaignCall(
            campaign_id=campaign.id,
            phone="+917099999999",
            language="hi",
            status="done",
            attempts=1,
            due_at=now,
        )
    )
    session.commit()
    ids = {}
    for model in (
        Campaign,
        ConsumerAccount,
        LinkedNumber,
        Bill,
        Callback,
        MissedCall,
        OutboundMessage,
        CallAttempt,
        AuditEvent,
        Application,
        CampaignCall,
    ):
        ids[model.__tablename__] = session.scalar(
            text(f"SELECT min(id) FROM {model.__tablename__}")
        )
    ids["operator"] = operator_id
    session.remove()
    return ids


def _clones(ids: dict[str, int]) -> list[tuple[str, int, dict[str, str]]]:
    """Say how many copies of each template to make, and how each copy differs (SQL of i)."""
    account = f"{ids['consumer_accounts']} + i"
    phone = f"'+9170' || lpad((i % {CONSUMERS})::text, 8, '0')"
    callback = f"{ids['callbacks']} + i"
    # Spread over the year before now, oldest first as they were written.
    at = f"now() - {YEAR} * (1 - i::float / {CLOSED_CALLBACKS})"
    return [
        (
            "consumer_accounts",
            CONSUMERS,
            {"account_number": "'K' || lpad(i::text, 12, '0')"},
        ),
        ("linked_numbers", CONSUMERS, {"phone": phone, "account_id": account}),
        (
            "bills",
            2 * CONSUMERS,
            {
                "account_id": f"{ids['consumer_accounts']} + 1 + i % {CONSUMERS}",
                "bill_date": f"current_date - 30 * (i / {CONSUMERS})",
                "due_date": f"current_date - 30 * (i / {CONSUMERS}) + 15",
            },
        ),
        (
            "callbacks",
            CLOSED_CALLBACKS,
            {
                "phone": phone,
                "due_at": at,
                "first_missed_at": at,
                "last_missed_at": at,
                "created_at": at,
                "closed_at": f"{at} + interval '2 hours'",
            },
        ),
        (
            "callbacks",
            PENDING_CALLBACKS,
            {
                "phone": "'+9180' || lpad(i::text, 8, '0')",
                "status": "'pending'",
                "due_at": "now() - i * interval '1 minute'",
                "first_missed_at": "now() - i * interval '1 minute'",
                "last_missed_at": "now() - i * interval '1 minute'",
                "created_at": "now() - i * interval '1 minute'",
                "closed_at": "NULL",
            },
        ),
        (
            "missed_calls",
            CLOSED_CALLBACKS,
            {"call_sid": "'CA' || i", "phone": phone, "callback_id": callback, "received_at": at},
        ),
        (
            "outbound_messages",
            CLOSED_CALLBACKS,
            {
                "recipient": phone,
                "callback_id": callback,
                "provider_sid": "'SM' || i",
                "created_at": at,
                "next_attempt_at": at,
                "job_queued_at": at,
                "sent_at": at,
            },
        ),
        (
            "call_attempts",
            CLOSED_CALLBACKS,
            {
                "callback_id": callback,
                "call_sid": "'CA-attempt-' || i",
                "created_at": at,
                "status_at": at,
                "answered_at": at,
                "settled_at": at,
            },
        ),
        ("audit_events", 2 * CLOSED_CALLBACKS, {"entity_id": f"{callback} % {CLOSED_CALLBACKS}"}),
        (
            "applications",
            CLOSED_CALLBACKS // 2,
            {
                "number": "'NC-2025-' || lpad(i::text, 6, '0')",
                "phone": phone,
                "account_number": "'K' || lpad((i % " + str(CONSUMERS) + ")::text, 12, '0')",
                "callback_id": callback,
                "created_at": at,
                "updated_at": at,
                "submitted_at": at,
            },
        ),
        ("campaigns", CAMPAIGNS - 1, {"name": "'campaign ' || i"}),
        (
            "campaign_calls",
            CONSUMERS,
            {
                "campaign_id": f"{ids['campaigns']} + i % {CAMPAIGNS}",
                "phone": phone,
                "due_at": at,
            },
        ),
    ]


def _clone(
    connection: Any, table: str, template_id: int, count: int, overrides: dict[str, str]
) -> None:
    """Insert ``count`` copies of the template row, with the columns ``overrides`` computes."""
    columns = [column.name for column in db.metadata.tables[table].columns if column.name != "id"]
    values = ", ".join(overrides.get(name, f"t.{name}") for name in columns)
    connection.execute(
        text(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} "
            f"FROM {table} AS t, generate_series(1, {count}) AS i WHERE t.id = {template_id}"
        )
    )


class Recorder:
    """The statements an engine sends (those that read), with the values they were sent with."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, _conn, _cursor, statement, parameters, _context, executemany) -> None:
        head = statement.lstrip().split(None, 1)[0].upper()
        if not executemany and head in ("SELECT", "UPDATE", "DELETE", "WITH"):
            self.statements.append((statement, parameters))


def _plan_nodes(connection: Any, statement: str, parameters: Any) -> list[dict[str, Any]]:
    """EXPLAIN the statement with its values; return every node of its plan."""
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes, waiting = [], [plan[0]["Plan"]]
    while waiting:
        node = waiting.pop()
        nodes.append(node)
        waiting.extend(node.get("Plans", []))
    return nodes


def _scans_of_large_tables(connection: Any, nodes: list[dict[str, Any]]) -> list[str]:
    """Return the large tables a plan reads from end to end."""
    scanned = [node["Relation Name"] for node in nodes if node["Node Type"] == "Seq Scan"]
    return [table for table in scanned if _rows(connection, table) > LARGE_TABLE_ROWS]


def _rows(connection: Any, table: str) -> int:
    return connection.execute(
        text("SELECT reltuples::bigint FROM pg_class WHERE relname = :t"), {"t": table}
    ).scalar_one()


def test_the_hot_queries_use_indexes(app: Flask, discom_scale: dict[str, int]) -> None:
    recorder = Recorder()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", recorder)
    try:
        _run_the_hot_paths(app, discom_scale)
    finally:
        event.remove(engine, "before_cursor_execute", recorder)

    assert len(recorder.statements) > 20  # the paths really ran
    with app.app_context(), db.engine.connect() as connection:
        sequential = {}
        takes = []
        for statement, parameters in recorder.statements:
            nodes = _plan_nodes(connection, statement, parameters)
            scanned = _scans_of_large_tables(connection, nodes)
            if scanned:
                sequential[" ".join(statement.split())] = scanned
            if statement.startswith("UPDATE callbacks") and "callbacks.priority DESC" in statement:
                takes.append((statement, nodes))
        # The IVR's bill step runs on a bare connection, outside the engine's events.
        sql, bind = accounts._BILL_FOR_CALLER._for(db.engine)
        values = {"account_id": discom_scale["consumer_accounts"] + 7, "phone": "+917000000007"}
        scanned = _scans_of_large_tables(connection, _plan_nodes(connection, sql, bind(values)))
        if scanned:
            sequential["bill step: " + " ".join(sql.split())] = scanned
    assert not sequential, "sequential scans of large tables:\n" + "\n".join(
        f"{tables}: {statement[:300]}" for statement, tables in sequential.items()
    )
    # Take-next walks the queue's index in its order and stops at the first callback it may
    # take: no sort of every pending callback, however long the queue.
    assert takes
    for statement, nodes in takes:
        kinds = [(node["Node Type"], node.get("Index Name")) for node in nodes]
        assert ("Sort", None) not in kinds, (statement, kinds)
        assert ("Index Scan", "ix_callbacks_take_next") in kinds, (statement, kinds)


def _run_the_hot_paths(app: Flask, ids: dict[str, int]) -> None:
    """Do what operators, supervisors, workers and callers do every day."""
    operator = app.test_client()
    assert login(operator, "asha").status_code == 302
    assert operator.get("/console/").status_code == 200
    assert operator.get("/console/queue.json").status_code == 200
    taken = post_form(operator, "/console/", "/console/take-next")
    assert taken.status_code == 302, taken.get_data(as_text=True)
    with app.app_context():
        held = db.session.scalar(
            text("SELECT id FROM callbacks WHERE status = 'claimed' ORDER BY id LIMIT 1")
        )
    assert held is not None
    assert operator.get(f"/console/callbacks/{held}").status_code == 200
    past = ids["callbacks"] + 1000  # a closed callback, with its history
    assert operator.get(f"/console/callbacks/{past}").status_code == 200
    assert operator.get("/console/applications/lookup?number=NC-2025-000042").status_code == 303

    supervisor = app.test_client()
    assert login(supervisor, "sunil").status_code == 302
    assert supervisor.get("/console/dashboard/").status_code == 200
    assert supervisor.get("/console/outbox").status_code == 200
    assert supervisor.get("/console/campaigns").status_code == 200
    with app.app_context():
        last_week = f"from={today() - timedelta(days=7)}&to={today()}"
    for export in ("callbacks", "applications"):
        exported = supervisor.get(f"/console/dashboard/export/{export}.csv?{last_week}")
        assert exported.status_code == 200
        exported.get_data()  # the rows are read as the response streams

    with app.app_context():
        caller_history("+917000000042")
        dashboard_figures(db.session, today())
        sweep()
        accounts.caller_accounts("+917000000042")
        accounts.account_by_number("K000000000042")
        accounts.linked_to_someone_else(ids["consumer_accounts"] + 42, "+917000000042")
        accounts.application_by_keys("2025000042", "+917000000042")
        db.session.remove()
