"""Stages after payment: the clock a payment starts, the allowed order, alerts when overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from connections import stages
from connections.alerts import alert_overdue
from connections.exceptions import BadStage, NotPaid, NotYourArea, StageConflict
from core import housekeeping
from core.audit import audit_trail
from core.extensions import db
from core.models import OutboundMessage, Role, User, utcnow
from core.models.applications import Application
from core.models.connections import ConnectionClock, ConnectionStage
from tests.connections.support import (
    clock_of,
    make_application,
    make_engineer,
    paid_application,
    pay,
)


@pytest.fixture()
def engineer_id(app):
    return make_engineer(app, "jeetu", "Raipur/Abhanpur")


def record(app, application_id, user_id, stage, seen, reason=""):
    with app.app_context():
        user = db.session.get(User, user_id)
        clock = stages.record_stage(
            application_id, user, stage=stage, seen_stage=seen, reason=reason
        )
        return clock.stage


def stage_rows(app, application_id):
    with app.app_context():
        return [(row.stage, row.actor_id, row.reason) for row in stages.history(application_id)]


def messages(app, template=None):
    with app.app_context():
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if template:
            query = query.where(OutboundMessage.template == template)
        return [(m.template, m.recipient, m.body) for m in db.session.scalars(query)]


def test_payment_signal_starts_one_clock(app):
    paid_at = utcnow() - timedelta(hours=2)
    application_id = paid_application(app, "NC-2026-000010", paid_at)
    pay(app, application_id, paid_at)  # announced again (a retried webhook)
    with app.app_context():
        assert db.session.scalar(select(func.count(ConnectionClock.id))) == 1
    assert stage_rows(app, application_id) == [("paid", None, None)]
    assert clock_of(app, application_id).stage == "paid"
    # The payment's own SMS is the payments side's: the clock sends none.
    assert messages(app) == []


def test_a_signal_for_an_application_not_paid_or_not_a_connection_starts_nothing(app):
    with app.app_context():
        from core import events

        unpaid = make_application(app, "NC-2026-000011")
        events.application_paid.send(app, application_id=unpaid, paid_at=utcnow())
        events.application_paid.send(app, application_id=99999, paid_at=utcnow())
    other = make_application(app, "NT-2026-000001", service="name_transfer")
    pay(app, other, utcnow())
    assert clock_of(app, unpaid) is None and clock_of(app, other) is None


def test_stages_in_order_to_energised(app, engineer_id):
    application_id = paid_application(app, "NC-2026-000012", utcnow() - timedelta(hours=3))
    for seen, stage in zip(stages.FLOW, stages.FLOW[1:], strict=False):
        assert record(app, application_id, engineer_id, stage, seen) == stage
    clock = clock_of(app, application_id)
    assert clock.energised_by_id == engineer_id and clock.energised_at is not None
    with app.app_context():
        assert db.session.get(Application, application_id).status == "connected"
        trail = audit_trail(db.session, "application", application_id)
        assert [event.changes["status"] for event in trail] == [
            ["paid", "site_inspected"],
            ["site_inspected", "meter_allotted"],
            ["meter_allotted", "meter_installed"],
            ["meter_installed", "connected"],
        ]
        assert {event.actor_id for event in trail} == {engineer_id}
    assert [row[0] for row in stage_rows(app, application_id)] == [
        "paid",
        "site_inspected",
        "meter_allotted",
        "meter_installed",
        "connected",
    ]
    sent = messages(app)
    assert [template for template, _, _ in sent] == [
        "connection_site_inspected",
        "connection_meter_allotted",
        "connection_meter_installed",
        "connection_connected",
    ]
    assert all(to == "+919812345678" and "NC-2026-000012" in body for _, to, body in sent)


@pytest.mark.parametrize(
    ("wanted", "seen", "message"),
    [
        ("meter_allotted", "paid", "stages cannot be skipped"),
        ("connected", "paid", "stages cannot be skipped"),
        ("paid", "paid", "not a stage that can be recorded"),
        ("energized", "paid", "not a stage that can be recorded"),
    ],
)
def test_skipping_or_unknown_stages_are_refused(app, engineer_id, wanted, seen, message):
    application_id = paid_application(app, "NC-2026-000013", utcnow())
    with pytest.raises((StageConflict, BadStage), match=message):
        record(app, application_id, engineer_id, wanted, seen)
    assert clock_of(app, application_id).stage == "paid"
    assert len(stage_rows(app, application_id)) == 1 and messages(app) == []


def test_going_back_repeating_or_a_stale_page_records_nothing(app, engineer_id):
    application_id = paid_application(app, "NC-2026-000014", utcnow())
    record(app, application_id, engineer_id, "site_inspected", "paid")
    record(app, application_id, engineer_id, "meter_allotted", "site_inspected")
    with pytest.raises(StageConflict, match="cannot go back"):
        record(app, application_id, engineer_id, "site_inspected", "meter_allotted")
    with pytest.raises(StageConflict, match="already recorded"):
        record(app, application_id, engineer_id, "meter_allotted", "meter_allotted")
    # The same form sent twice: the second saw "site inspected", which is no longer so.
    with pytest.raises(StageConflict, match="changed"):
        record(app, application_id, engineer_id, "meter_allotted", "site_inspected")
    assert len(stage_rows(app, application_id)) == 3
    assert len(messages(app)) == 2


def test_reject_needs_a_reason_and_closes_the_application(app, engineer_id):
    application_id = paid_application(app, "NC-2026-000015", utcnow())
    for reason in ("", "   ", "no"):
        with pytest.raises(BadStage, match="reason"):
            record(app, application_id, engineer_id, "rejected", "paid", reason)
    assert clock_of(app, application_id).stage == "paid"
    record(app, application_id, engineer_id, "rejected", "paid", "  Premises  not found ")
    clock = clock_of(app, application_id)
    assert (clock.stage, clock.reject_reason) == ("rejected", "Premises not found")
    with pytest.raises(StageConflict, match="closed"):
        record(app, application_id, engineer_id, "site_inspected", "rejected")
    [(template, _, body)] = messages(app)
    assert template == "connection_rejected" and "Premises not found" in body


def test_only_an_engineer_of_the_area_records(app, engineer_id):
    application_id = paid_application(app, "NC-2026-000016", utcnow())
    district_engineer = make_engineer(app, "dinesh", "raipur")  # the whole district
    elsewhere = make_engineer(app, "bhola", "Bastar")
    other_block = make_engineer(app, "kamla", "Raipur/Arang")
    supervisor = make_engineer(app, "sunil", None, role=Role.SUPERVISOR)
    operator = make_engineer(app, "asha", None, role=Role.OPERATOR)
    for user_id in (elsewhere, other_block, supervisor, operator):
        with pytest.raises(NotYourArea):
            record(app, application_id, user_id, "site_inspected", "paid")
    assert record(app, application_id, district_engineer, "site_inspected", "paid")


def test_no_stage_before_payment(app, engineer_id):
    application_id = make_application(app, "NC-2026-000017")
    with pytest.raises(NotPaid, match="not paid"):
        record(app, application_id, engineer_id, "site_inspected", "paid")
    with app.app_context():
        assert db.session.scalar(select(func.count(ConnectionStage.id))) == 0


def test_overdue_alert_goes_once_to_the_areas_engineers(app, engineer_id):
    make_engineer(app, "bhola", "Bastar", phone="+919822222222")
    make_engineer(app, "nophone", "Raipur", phone=None)
    late = paid_application(app, "NC-2026-000018", utcnow() - timedelta(days=6))
    paid_application(app, "NC-2026-000019", utcnow() - timedelta(days=1))  # not due yet
    done = paid_application(app, "NC-2026-000020", utcnow() - timedelta(days=7))
    for seen, stage in zip(stages.FLOW, stages.FLOW[1:], strict=False):
        record(app, done, engineer_id, stage, seen)
    before = len(messages(app))
    with app.app_context():
        [task] = [t for t in housekeeping.tasks(app) if t.name == "connections_overdue_alerted"]
        assert task.run() == 1
        assert alert_overdue() == 0  # never twice
    alerts = messages(app, "connection_overdue_engineer")
    assert len(messages(app)) == before + 1
    [(_, to, body)] = alerts
    assert to == "+919811111111"  # Jeetu's, in Hindi, his first language
    assert "NC-2026-000018" in body and "Raipur / Abhanpur" in body and "देर" in body
    assert clock_of(app, late).overdue_alerted_at is not None
