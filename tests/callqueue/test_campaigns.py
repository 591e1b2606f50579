"""Announcement campaigns: whom they call, how the calls are paced, retried and given up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from callqueue.campaigns import (
    RELEASE_AHEAD,
    CampaignError,
    campaign_progress,
    create_campaign,
    job_id,
    paced_times,
    place_campaign_call,
    schedule_calls,
)
from callqueue.queues import CAMPAIGNS_QUEUE, get_queue
from core.extensions import db
from core.hours import CallingHours
from core.models import utcnow
from core.models.applications import Application, ApplicationStatus
from core.models.campaigns import Campaign, CampaignCall, CampaignKind
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from tests.conftest import PUBLIC_BASE_URL, post_webhook

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # 11:30 in India
CALLER_ID = "+911140000001"
ACCOUNT_SID = "AC" + "0" * 31 + "1"


def add_account(
    app,
    number: str,
    phones: list[str],
    bills: list[tuple[date, date, str, date | None]],
    *,
    language: str = "hi",
) -> int:
    """Add an account with linked numbers and bills (bill date, due date, amount, paid on)."""
    with app.app_context():
        account = ConsumerAccount(account_number=number, name="Ramesh Kumar", language=language)
        db.session.add(account)
        db.session.flush()
        for phone in phones:
            db.session.add(LinkedNumber(phone=phone, account_id=account.id))
        for bill_date, due_date, amount, paid_on in bills:
            db.session.add(
                Bill(
                    account_id=account.id,
                    bill_date=bill_date,
                    due_date=due_date,
                    amount_due=Decimal(amount),
                    amount_after_due=Decimal(amount) + 50,
                    paid_amount=Decimal(amount) if paid_on else None,
                    paid_on=paid_on,
                )
            )
        db.session.commit()
        return account.id


def add_application(
    app,
    phone: str,
    *,
    status: str = ApplicationStatus.DEMAND_ISSUED,
    demand: str = "5600.00",
    submitted_days_ago: int = 10,
    language: str = "hi",
    number: str | None = None,
) -> int:
    with app.app_context():
        application = Application(
            number=number or f"NC-2026-{abs(hash(phone)) % 1_000_000:06d}",
            service="new_connection",
            status=status,
            phone=phone,
            language=language,
            data={},
            demand_total=Decimal(demand),
            submitted_at=NOW - timedelta(days=submitted_days_ago),
        )
        db.session.add(application)
        db.session.commit()
        return application.id


def overdue_account(app, phone: str = "+919812345678", *, language: str = "hi") -> int:
    """An account whose latest bill (₹1,234.50, due 10 Nov 2026) is unpaid and overdue."""
    return add_account(
        app,
        "1100" + phone[-6:],
        [phone],
        [(date(2026, 10, 25), date(2026, 11, 10), "1234.50", None)],
        language=language,
    )


def calls_of(app, campaign_id: int) -> list[CampaignCall]:
    with app.app_context():
        rows = db.session.scalars(
            select(CampaignCall)
            .where(CampaignCall.campaign_id == campaign_id)
            .order_by(CampaignCall.due_at, CampaignCall.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def load_call(app, call_id: int) -> CampaignCall:
    with app.app_context():
        call = db.session.get(CampaignCall, call_id)
        assert call is not None
        db.session.expunge(call)
        return call


def scheduled_at(app, job: str) -> datetime | None:
    with app.app_context():
        registry = ScheduledJobRegistry(queue=get_queue(CAMPAIGNS_QUEUE))
        try:
            return registry.get_scheduled_time(job)
        except Exception:  # rq raises NoSuchJobError for a job not scheduled
            return None


def one_call_campaign(app, **options) -> int:
    """Create a campaign of one overdue account's number and return the call's id."""
    overdue_account(app, **options)
    with app.app_context():
        created = create_campaign(CampaignKind.OVERDUE_BILLS, name="one", now=utcnow())
    [call] = calls_of(app, created.id)
    return call.id


def place(app, call_id: int, attempt: int = 1) -> str:
    with app.app_context():
        return place_campaign_call(call_id, attempt)


def status_callback(client, call_id: int, sid: str, status: str, **options):
    params = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "CallStatus": status}
    return post_webhook(client, f"/ivr/announce/{call_id}/status", params, **options)


# -- selection --------------------------------------------------------------------------


def test_overdue_bills_calls_each_number_of_an_unpaid_overdue_latest_bill_once(app):
    overdue = add_account(
        app,
        "1100000001",
        ["+919800000001", "+919800000002"],
        [
            (date(2026, 9, 25), date(2026, 10, 10), "900.00", date(2026, 10, 5)),
            (date(2026, 10, 25), date(2026, 11, 10), "1234.50", None),
        ],
    )
    # Same number, second overdue account: still one call to that number.
    add_account(
        app, "1100000002", ["+919800000001"], [(date(2026, 10, 25), date(2026, 11, 1), "10", None)]
    )
    # An old unpaid bill, but the latest one is paid.
    add_account(
        app,
        "1100000003",
        ["+919800000003"],
        [
            (date(2026, 9, 25), date(2026, 10, 10), "700.00", None),
            (date(2026, 10, 25), date(2026, 11, 10), "800.00", date(2026, 11, 2)),
        ],
    )
    # Unpaid but not yet due.
    add_account(
        app, "1100000004", ["+919800000004"], [(date(2026, 11, 10), date(2026, 11, 25), "5", None)]
    )

    with app.app_context():
        created = create_campaign(CampaignKind.OVERDUE_BILLS, now=NOW)

    assert created.new and created.name == "overdue-bills-2026-11-20"
    calls = calls_of(app, created.id)
    assert sorted(call.phone for call in calls) == ["+919800000001", "+919800000002"]
    assert {call.account_id for call in calls} == {overdue}
    assert {call.status for call in calls} == {"queued"}


def test_unpaid_demand_calls_applicants_whose_demand_note_is_older_than_the_days(app):
    old = add_application(app, "+919800000011", submitted_days_ago=10, language="en")
    add_application(app, "+919800000012", submitted_days_ago=3)
    add_application(app, "+919800000013", submitted_days_ago=30, status=ApplicationStatus.PAID)

    with app.app_context():
        week = create_campaign(CampaignKind.UNPAID_DEMAND, days=7, now=NOW)
        two_days = create_campaign(CampaignKind.UNPAID_DEMAND, days=2, name="two", now=NOW)

    [call] = calls_of(app, week.id)
    assert (call.phone, call.application_id, call.language) == ("+919800000011", old, "en")
    assert sorted(c.phone for c in calls_of(app, two_days.id)) == [
        "+919800000011",
        "+919800000012",
    ]


def test_creating_a_campaign_twice_by_name_records_it_once(app):
    overdue_account(app)
    with app.app_context():
        first = create_campaign(CampaignKind.OVERDUE_BILLS, name="november", now=NOW)
        again = create_campaign(CampaignKind.OVERDUE_BILLS, name="november", now=NOW)
        with pytest.raises(CampaignError):
            create_campaign(CampaignKind.OVERDUE_BILLS, name="bad", rate=0, now=NOW)
    assert (again.id, again.calls, again.new) == (first.id, 1, False)
    assert len(calls_of(app, first.id)) == 1


# -- pacing -----------------------------------------------------------------------------


def test_calls_are_spaced_by_the_rate_and_moved_into_calling_hours(make_app):
    app = make_app(CALLING_HOURS="09:00-21:00", TIMEZONE="Asia/Kolkata")
    for n in range(4):
        overdue_account(app, f"+91980000010{n}")
    start = datetime(2026, 11, 20, 20, 59, 58, tzinfo=IST)

    with app.app_context():
        created = create_campaign(
            CampaignKind.OVERDUE_BILLS, name="late", rate=1.0, now=start.astimezone(UTC)
        )
        scheduled = schedule_calls(created.id)

    calls = calls_of(app, created.id)
    due = [call.due_at.astimezone(IST) for call in calls]
    assert due == [
        datetime(2026, 11, 20, 20, 59, 58, tzinfo=IST),
        datetime(2026, 11, 20, 20, 59, 59, tzinfo=IST),
        # 21:00 is closing time: the rest start at the next opening, still a second apart.
        datetime(2026, 11, 21, 9, 0, 0, tzinfo=IST),
        datetime(2026, 11, 21, 9, 0, 1, tzinfo=IST),
    ]
    assert scheduled == 4
    # RQ's scheduler holds each call's job until a second before its due time (it keeps
    # whole seconds); the job waits the rest itself.
    assert [scheduled_at(app, job_id(call.id, 1)) for call in calls] == [
        call.due_at - RELEASE_AHEAD for call in calls
    ]


def test_a_job_released_ahead_waits_for_its_call_to_be_due(app, twilio_api):
    call_id = one_call_campaign(app)
    due = utcnow() + timedelta(seconds=0.5)
    with app.app_context():
        db.session.execute(
            CampaignCall.__table__.update().where(CampaignCall.id == call_id).values(due_at=due)
        )
        db.session.commit()

    assert place(app, call_id) == "placed"

    assert load_call(app, call_id).updated_at >= due


def test_a_faster_rate_packs_the_calls_closer():
    hours = CallingHours.from_settings("09:00-21:00", "Asia/Kolkata")
    start = datetime(2026, 11, 20, 10, 0, tzinfo=IST)
    times = paced_times(3, start, 4.0, hours)
    assert [t - start for t in times] == [timedelta(seconds=s) for s in (0, 0.25, 0.5)]


# -- the call job -----------------------------------------------------------------------


def test_the_job_places_the_call_with_machine_detection_and_our_webhooks(app, twilio_api):
    call_id = one_call_campaign(app)

    assert place(app, call_id) == "placed"
    assert place(app, call_id) != "placed"  # a second run of the same job rings nobody

    [request] = [r for r in twilio_api.requests if r.method == "POST" and "Calls" in r.path]
    assert request.param("To") == "+919812345678"
    assert request.param("From") == CALLER_ID
    assert request.param("MachineDetection") == "Enable"
    assert request.param("Url") == f"{PUBLIC_BASE_URL}/ivr/announce/{call_id}"
    assert request.param("StatusCallback") == f"{PUBLIC_BASE_URL}/ivr/announce/{call_id}/status"
    call = load_call(app, call_id)
    assert (call.status, call.attempts) == ("calling", 1)
    assert call.call_sid == twilio_api.calls[0]["sid"]


def test_a_job_that_waited_past_closing_time_moves_to_the_next_opening(make_app, twilio_api):
    app = make_app(CALLING_HOURS="00:00-00:00:01")
    call_id = one_call_campaign(app)

    assert place(app, call_id) == "outside calling hours"

    assert twilio_api.calls == []
    call = load_call(app, call_id)
    assert (call.status, call.attempts) == ("queued", 0)
    assert call.due_at > utcnow()
    assert scheduled_at(app, job_id(call_id, 1)) is not None


# -- retries ----------------------------------------------------------------------------


def test_busy_is_called_again_later_and_the_last_attempt_fails(make_app, twilio_api):
    app = make_app(CAMPAIGN_MAX_ATTEMPTS=2, CAMPAIGN_RETRY_MINUTES=20)
    client = app.test_client()
    call_id = one_call_campaign(app)
    place(app, call_id)
    first_sid = load_call(app, call_id).call_sid

    before = utcnow()
    assert status_callback(client, call_id, first_sid, "busy").status_code == 204
    assert status_callback(client, call_id, first_sid, "busy").status_code == 204  # repeated

    call = load_call(app, call_id)
    assert (call.status, call.attempts, call.last_result) == ("retrying", 1, "busy")
    assert before + timedelta(minutes=20) <= call.due_at <= utcnow() + timedelta(minutes=20)
    assert scheduled_at(app, job_id(call_id, 2)) is not None

    assert place(app, call_id, 2) == "placed"
    second_sid = load_call(app, call_id).call_sid
    assert second_sid != first_sid
    status_callback(client, call_id, first_sid, "completed")  # late report of the first call
    assert load_call(app, call_id).status == "calling"
    status_callback(client, call_id, second_sid, "no-answer")

    call = load_call(app, call_id)
    assert (call.status, call.attempts, call.last_result) == ("failed", 2, "no-answer")
    assert scheduled_at(app, job_id(call_id, 3)) is None
    assert len(twilio_api.calls) == 2
    with app.app_context():
        progress = campaign_progress(call.campaign_id)
    assert (progress["failed"], progress["finished"], progress["total"]) == (1, 1, 1)


def test_a_forged_status_callback_is_refused_and_changes_nothing(app, client):
    call_id = one_call_campaign(app)
    place(app, call_id)
    sid = load_call(app, call_id).call_sid

    response = status_callback(client, call_id, sid, "busy", signature="forged")

    assert response.status_code == 403
    assert load_call(app, call_id).status == "calling"


# -- the command line -------------------------------------------------------------------


def test_flask_campaign_create_and_status(app):
    overdue_account(app, "+919800000201")
    overdue_account(app, "+919800000202")
    runner = app.test_cli_runner()

    created = runner.invoke(
        args=["campaign", "create", "--kind", "overdue-bills", "--rate", "2", "--name", "nov"]
    )
    assert created.exit_code == 0, created.output
    with app.app_context():
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.name == "nov"))
    assert f"Campaign {campaign_id} 'nov': 2 number(s) to call." in created.output
    assert "2 call(s) scheduled." in created.output

    again = runner.invoke(args=["campaign", "create", "--kind", "overdue-bills", "--name", "nov"])
    assert again.exit_code == 0
    assert "exists already with 2 call(s)" in again.output

    status = runner.invoke(args=["campaign", "status", str(campaign_id)])
    assert status.exit_code == 0, status.output
    assert (
        f"Campaign {campaign_id} 'nov' (overdue-bills, 2 calls/s): 0 of 2 finished" in status.output
    )
    assert "queued                     2" in status.output
    assert "failed                     0" in status.output

    missing = runner.invoke(args=["campaign", "status", str(campaign_id + 1)])
    assert missing.exit_code != 0
    assert f"There is no campaign {campaign_id + 1}." in missing.output

    wrong = runner.invoke(args=["campaign", "create", "--kind", "everyone"])
    assert wrong.exit_code != 0


def test_the_sweep_schedules_again_calls_whose_job_redis_lost(make_app):
    from callqueue.sweep import sweep
    from core.redis_client import redis_client

    app = make_app(RECONCILE_AFTER_SECONDS=0)
    overdue_account(app, "+919800000401")
    with app.app_context():
        created = create_campaign(CampaignKind.OVERDUE_BILLS, name="lost")
        assert schedule_calls(created.id) == 1
        redis_client().flushdb()  # as after a Redis restart without a dump
        db.session.execute(
            CampaignCall.__table__.update().values(due_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        [call_id] = db.session.scalars(select(CampaignCall.id)).all()

        assert sweep()["campaign_calls_rescheduled"] == 1
        registry = ScheduledJobRegistry(queue=get_queue(CAMPAIGNS_QUEUE))
        assert registry.get_job_ids() == [job_id(call_id, 1)]
        assert sweep()["campaign_calls_rescheduled"] == 0  # its job is there again
