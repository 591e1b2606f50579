"""Calling: an attempt rings the operator first, retries are spaced, the last one gives up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callqueue.calls import (
    AlreadyCalling,
    NotYourCallback,
    OperatorUnavailable,
    OutsideCallingHours,
    QueueUnavailable,
    place_call,
    record_dial_outcome,
    recover_calls,
    start_call,
)
from core.extensions import db
from core.models import Callback, OutboundMessage, User, utcnow
from core.models.attempts import CallAttempt
from core.models.console import AuditEvent
from core.redis_client import redis_client
from tests.conftest import PUBLIC_BASE_URL, run_jobs

IST = ZoneInfo("Asia/Kolkata")
CONSUMER = "+919812345678"
OPERATOR_PHONE = "+919900011122"
CALLER_ID = "+911140000001"


def add_operator(
    app, *, username: str = "asha", phone: str | None = OPERATOR_PHONE, languages: str = "hi,en"
) -> int:
    with app.app_context():
        user = User(
            username=username,
            name=username.title(),
            password_hash="not-a-real-hash",
            phone=phone,
            languages=languages,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def add_callback(
    app,
    operator_id: int | None,
    *,
    status: str = "claimed",
    attempts: int = 0,
    phone: str = CONSUMER,
    language: str = "hi",
) -> int:
    with app.app_context():
        now = utcnow()
        callback = Callback(
            phone=phone,
            language=language,
            status=status,
            due_at=now - timedelta(minutes=5),
            first_missed_at=now - timedelta(minutes=5),
            last_missed_at=now - timedelta(minutes=5),
            attempts=attempts,
        )
        callback.claimed_by_id = operator_id
        db.session.add(callback)
        db.session.commit()
        return callback.id


def claimed_callback(app, **options) -> tuple[int, int]:
    """Return (callback id, operator id) of a callback the operator has claimed."""
    operator_id = add_operator(app)
    return add_callback(app, operator_id, **options), operator_id


def placed_call(app, twilio_api) -> tuple[int, int, str]:
    """Start a call and run its job; return (callback id, attempt id, the call's sid)."""
    callback_id, operator_id = claimed_callback(app)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
    run_jobs(app)
    [call] = twilio_api.calls
    return callback_id, attempt_id, call["sid"]


def load(app, model, row_id):
    with app.app_context():
        row = db.session.get(model, row_id)
        db.session.expunge(row)
        return row


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST).astimezone(UTC)


def test_start_call_rings_the_operator_first_with_the_bridge_and_status_urls(app, twilio_api):
    callback_id, operator_id = claimed_callback(app)

    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
        assert db.session.get(Callback, callback_id).status == "calling"
    run_jobs(app)

    [call] = twilio_api.calls
    assert (call["To"], call["From"]) == (OPERATOR_PHONE, CALLER_ID)
    answer = urlsplit(call["Url"])
    assert (answer.scheme, answer.netloc) == ("https", urlsplit(PUBLIC_BASE_URL).netloc)
    assert answer.path == f"/ivr/bridge/{attempt_id}"
    assert call["StatusCallback"] == f"{PUBLIC_BASE_URL}/ivr/call-status?attempt_id={attempt_id}"
    assert "completed" in call["StatusCallbackEvent"]
    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.callback_id, attempt.operator_id, attempt.number) == (
        callback_id,
        operator_id,
        1,
    )
    assert (attempt.provider, attempt.call_sid, attempt.status) == ("twilio", call["sid"], "queued")
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == callback_id)
        ).all()
        assert actions == ["call_started"]


def test_the_place_call_job_is_safe_to_run_twice(app, twilio_api):
    _, attempt_id, sid = placed_call(app, twilio_api)

    with app.app_context():
        assert place_call(attempt_id).startswith("not waiting")
        assert place_call(attempt_id + 1000).startswith("not waiting")

    assert [call["sid"] for call in twilio_api.calls] == [sid]


def test_start_call_refuses_outside_calling_hours_and_changes_nothing(make_app, twilio_api):
    app = make_app(CALLING_HOURS="09:00-21:00")
    callback_id, operator_id = claimed_callback(app)

    with app.app_context(), pytest.raises(OutsideCallingHours, match="09:00"):
        start_call(callback_id, operator_id, now=ist(2026, 11, 23, 22, 30))
    run_jobs(app)

    assert twilio_api.calls == []
    assert load(app, Callback, callback_id).status == "claimed"
    with app.app_context():
        assert db.session.scalars(select(CallAttempt)).all() == []


def test_start_call_refuses_a_callback_claimed_by_someone_else(app, twilio_api):
    callback_id, _owner = claimed_callback(app)
    other = add_operator(app, username="ravi", phone="+919900099988")

    with app.app_context(), pytest.raises(NotYourCallback):
        start_call(callback_id, other)
    run_jobs(app)

    assert twilio_api.calls == []
    assert load(app, Callback, callback_id).status == "claimed"


def test_start_call_refuses_a_callback_that_is_not_claimed(app):
    operator_id = add_operator(app)
    callback_id = add_callback(app, None, status="pending")

    with app.app_context(), pytest.raises(NotYourCallback):
        start_call(callback_id, operator_id)


def test_start_call_refuses_an_operator_without_a_phone(app):
    operator_id = add_operator(app, phone=None)
    callback_id = add_callback(app, operator_id)

    with app.app_context(), pytest.raises(OperatorUnavailable, match="phone"):
        start_call(callback_id, operator_id)
    assert load(app, Callback, callback_id).status == "claimed"


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, 20500), (400, 21211)],
    ids=["twilio-down", "refused"],
)
def test_a_failing_provider_marks_the_attempt_failed_and_requeues_the_callback(
    app, twilio_api, status, code
):
    callback_id, operator_id = claimed_callback(app)
    twilio_api.fail_next(status=status, code=code, resource="calls")

    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
    run_jobs(app)

    assert twilio_api.calls == []
    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.status, attempt.outcome, attempt.call_sid) == ("failed", "not_placed", None)
    assert str(code) in attempt.error
    callback = load(app, Callback, callback_id)
    # The consumer's phone never rang: back in the queue at once, and not counted.
    assert (callback.status, callback.claimed_by_id, callback.attempts) == ("pending", None, 0)
    assert callback.due_at <= utcnow()


def test_an_unanswered_attempt_is_retried_after_the_backoff(make_app):
    app = make_app(CALLING_HOURS="09:00-21:00", CALL_RETRY_BACKOFF="15,60", CALL_MAX_ATTEMPTS=3)
    callback_id, operator_id = claimed_callback(app)
    now = ist(2026, 11, 23, 11, 0)

    with app.app_context():
        attempt_id = start_call(callback_id, operator_id, now=now)
        record_dial_outcome(attempt_id, "no-answer", now=now)

    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts, callback.claimed_by_id) == ("pending", 1, None)
    assert callback.due_at == now + timedelta(minutes=15)
    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.consumer_status, attempt.outcome) == ("no-answer", "unanswered")


def test_the_second_retry_waits_longer_and_never_outside_calling_hours(make_app):
    app = make_app(CALLING_HOURS="09:00-21:00", CALL_RETRY_BACKOFF="15,60", CALL_MAX_ATTEMPTS=3)
    operator_id = add_operator(app)
    callback_id = add_callback(app, operator_id, attempts=1)
    late_evening = ist(2026, 11, 23, 20, 30)

    with app.app_context():
        attempt_id = start_call(callback_id, operator_id, now=late_evening)
        record_dial_outcome(attempt_id, "busy", now=late_evening)

    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts) == ("pending", 2)
    # 60 minutes later is 21:30, after closing: the retry waits for 09:00 the next day.
    assert callback.due_at == ist(2026, 11, 24, 9, 0)
    assert load(app, CallAttempt, attempt_id).number == 2


def test_after_the_last_attempt_the_callback_closes_and_the_consumer_gets_one_sms(
    make_app, twilio_api
):
    app = make_app(CALL_MAX_ATTEMPTS=3)
    operator_id = add_operator(app)
    callback_id = add_callback(app, operator_id, attempts=2)

    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
        record_dial_outcome(attempt_id, "failed")
        record_dial_outcome(attempt_id, "failed")  # Twilio retrying its request
    run_jobs(app)

    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts, callback.claimed_by_id) == ("unreachable", 3, None)
    assert callback.closed_at is not None
    # The job queued before the outcome arrived places no call for a closed callback.
    assert twilio_api.calls == []
    [sms] = twilio_api.messages
    assert sms["To"] == CONSUMER
    assert "मिस्ड कॉल" in sms["Body"]
    with app.app_context():
        message = db.session.scalars(select(OutboundMessage)).one()
        assert (message.template, message.callback_id, message.status) == (
            "call_unreachable",
            callback_id,
            "sent",
        )


def test_an_answered_call_leaves_the_callback_with_the_operator(app):
    callback_id, operator_id = claimed_callback(app)

    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
        result = record_dial_outcome(attempt_id, "completed", duration=95)

    assert result is not None and result.answered
    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts, callback.claimed_by_id) == (
        "calling",
        1,
        operator_id,
    )
    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.consumer_status, attempt.consumer_duration, attempt.outcome) == (
        "completed",
        95,
        "answered",
    )


def test_a_second_call_while_one_is_under_way_is_refused(app, twilio_api):
    callback_id, operator_id = claimed_callback(app)
    with app.app_context():
        start_call(callback_id, operator_id)

        with pytest.raises(AlreadyCalling):
            start_call(callback_id, operator_id)
    run_jobs(app)

    assert len(twilio_api.calls) == 1
    with app.app_context():
        assert len(db.session.scalars(select(CallAttempt)).all()) == 1


def test_when_redis_is_down_nothing_is_called_and_the_operator_keeps_the_callback(
    make_app, own_redis
):
    app = make_app(REDIS_URL=own_redis.url)
    callback_id, operator_id = claimed_callback(app)
    own_redis.stop()

    with app.app_context(), pytest.raises(QueueUnavailable):
        start_call(callback_id, operator_id)

    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.claimed_by_id) == ("claimed", operator_id)
    with app.app_context():
        attempt = db.session.scalars(select(CallAttempt)).one()
        assert (attempt.status, attempt.outcome) == ("failed", "not_placed")


def test_a_call_whose_job_redis_lost_is_queued_again_by_the_recovery(app, twilio_api):
    callback_id, operator_id = claimed_callback(app)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
        redis_client().flushdb()  # Redis restarted without its data
        assert recover_calls() == 0  # too early: the job may still be on its way
        assert recover_calls(now=utcnow() + timedelta(minutes=2)) == 1
        assert recover_calls(now=utcnow() + timedelta(minutes=2)) == 0  # queued now
    run_jobs(app)

    [call] = twilio_api.calls
    assert call["To"] == OPERATOR_PHONE
    assert load(app, CallAttempt, attempt_id).call_sid == call["sid"]


def test_a_call_held_by_a_dead_worker_that_the_provider_never_took_is_requeued(app, twilio_api):
    callback_id, operator_id = claimed_callback(app)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
        redis_client().flushdb()
        attempt = db.session.get(CallAttempt, attempt_id)
        attempt.status = "placing"  # as a worker leaves it when it dies mid-request
        db.session.commit()

        assert recover_calls(now=utcnow() + timedelta(minutes=1)) == 0
        assert recover_calls(now=utcnow() + timedelta(minutes=6)) == 1

    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.status, attempt.outcome) == ("failed", "not_placed")
    assert attempt.error == "the provider took no call for it"  # Twilio was asked
    assert [(r.method, r.query["To"]) for r in twilio_api.requests] == [("GET", [OPERATOR_PHONE])]
    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.claimed_by_id, callback.attempts) == ("pending", None, 0)
