"""A call is placed at most once per attempt, even when its worker dies or the provider answers
late: the provider is asked what it took, and what it cannot tell is left to a person."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from callqueue.calls import job_id, place_call, recover_calls, start_call
from callqueue.campaigns import place_campaign_call, settle_stuck_calls
from callqueue.queues import CALLS_QUEUE, CAMPAIGNS_QUEUE, enqueue, get_queue
from core.extensions import db
from core.models import Callback, utcnow
from core.models.attempts import CallAttempt
from core.models.campaigns import CampaignCall
from core.models.console import AuditEvent
from telephony.outbound import REST_TIMEOUT_SECONDS
from tests.callcenter.conftest import create_user, login
from tests.callqueue.test_calls import OPERATOR_PHONE, add_callback, claimed_callback, load
from tests.callqueue.test_campaigns import load_call, one_call_campaign, status_callback
from tests.conftest import post_webhook
from tests.support.processes import wait_until
from tests.support.workers import asking, kill_worker, start_worker, stop_worker


def _attempt(app) -> CallAttempt:
    with app.app_context():
        attempt = db.session.scalars(select(CallAttempt)).one()
        db.session.expunge(attempt)
        return attempt


def _call_status(client, attempt_id: int, sid: str, status: str):
    # As the provider reports on a call we placed: the URL names the attempt.
    params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "CallStatus": status}
    return post_webhook(client, f"/ivr/call-status?attempt_id={attempt_id}", params)


def test_a_worker_killed_while_the_provider_takes_a_call_never_rings_the_operator_twice(
    make_app, app_config, twilio_api, tmp_path
):
    config = {**app_config, "RECONCILE_AFTER_SECONDS": 0}
    app = make_app(**config)
    callback_id, operator_id = claimed_callback(app)
    twilio_api.delay(3)  # a slow provider: the worker dies while it places the call
    worker = start_worker(config, tmp_path / "first.log")
    try:
        with app.app_context():
            attempt_id = start_call(callback_id, operator_id)
        wait_until(lambda: _attempt(app).status == "placing", timeout=10)
        wait_until(lambda: asking(worker, twilio_api.base_url), timeout=10)
        kill_worker(worker)
    finally:
        stop_worker(worker)
    # The provider placed it anyway: the operator's phone rang.
    [call] = twilio_api.wait_for_calls(1, timeout=10)
    assert call["To"] == OPERATOR_PHONE
    twilio_api.delay(0)
    assert _attempt(app).call_sid is None  # the dead worker never heard the call's id

    # The dead attempt's job runs again (as after a Redis restore), on a new worker: it
    # finds the attempt placing, not waiting, and rings nobody.
    second = start_worker(config, tmp_path / "second.log")
    try:
        with app.app_context():
            get_queue(CALLS_QUEUE).remove(job_id(attempt_id))
            assert enqueue(CALLS_QUEUE, place_call, attempt_id, job_id=job_id(attempt_id))
        wait_until(lambda: _queued_calls(app) == 0, timeout=10)
        time.sleep(1)
    finally:
        stop_worker(second)
    assert len(twilio_api.calls) == 1

    with app.app_context():
        # Five minutes on, the sweep asks Twilio what it took, and records that call.
        assert recover_calls(now=utcnow() + timedelta(minutes=1)) == 0  # a slow worker, maybe
        assert recover_calls(now=utcnow() + timedelta(minutes=6)) == 1
        assert recover_calls(now=utcnow() + timedelta(minutes=6)) == 0
    attempt = _attempt(app)
    assert (attempt.call_sid, attempt.status, attempt.provider) == (call["sid"], "queued", "twilio")
    assert load(app, Callback, callback_id).status == "calling"
    assert len(twilio_api.calls) == 1
    requests = [(r.method, r.path.rsplit("/", 1)[-1]) for r in twilio_api.requests]
    assert requests == [("POST", "Calls.json"), ("GET", "Calls.json")]

    # The operator did not pick up: the callback goes back to the queue, not counted.
    assert _call_status(app.test_client(), attempt_id, call["sid"], "no-answer").status_code == 204
    attempt = _attempt(app)
    assert (attempt.status, attempt.outcome) == ("no-answer", "operator_unreached")
    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts) == ("pending", 0)


def _queued_calls(app) -> int:
    with app.app_context():
        return get_queue(CALLS_QUEUE).count


def test_a_provider_that_answers_after_the_timeout_is_asked_not_told_again(app, twilio_api):
    callback_id, operator_id = claimed_callback(app)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
    twilio_api.delay(REST_TIMEOUT_SECONDS + 0.5)
    started = time.monotonic()
    with app.app_context():
        assert place_call(attempt_id) == "unanswered"
    assert time.monotonic() - started < REST_TIMEOUT_SECONDS + 2
    [call] = twilio_api.wait_for_calls(1, timeout=5)  # it took the call after all
    twilio_api.delay(0)
    attempt = _attempt(app)
    assert (attempt.status, attempt.call_sid) == ("placing", None)
    assert "ReadTimeout" in attempt.error and "may have placed it" in attempt.error
    with app.app_context():
        assert place_call(attempt_id).startswith("not waiting")
    assert len(twilio_api.calls) == 1

    # Its status callbacks name the attempt: they record the call on it and settle it.
    client = app.test_client()
    assert _call_status(client, attempt_id, call["sid"], "ringing").status_code == 204
    attempt = _attempt(app)
    assert (attempt.status, attempt.call_sid) == ("ringing", call["sid"])
    with app.app_context():
        assert recover_calls(now=utcnow() + timedelta(minutes=6)) == 0  # nothing left to ask
    assert _call_status(client, attempt_id, call["sid"], "busy").status_code == 204
    attempt = _attempt(app)
    assert (attempt.status, attempt.outcome) == ("busy", "operator_unreached")
    assert load(app, Callback, callback_id).status == "pending"
    # A report naming another attempt's call is not taken for this one.
    assert _call_status(client, attempt_id, "CA" + "f" * 32, "completed").status_code == 204
    assert _attempt(app).call_sid == call["sid"]
    assert len(twilio_api.calls) == 1


def test_a_provider_that_cannot_tell_leaves_the_attempt_unknown_with_its_operator(
    make_app, app_config
):
    # The outbox keeps no record of the calls it took: like Plivo and Exotel, it cannot tell.
    app = make_app(TWILIO_ACCOUNT_SID="")
    operator_id = create_user(app, "asha", phone=OPERATOR_PHONE)
    callback_id = add_callback(app, operator_id)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
        db.session.execute(update(CallAttempt).values(status="placing"))  # its worker died
        db.session.commit()
        assert recover_calls(now=utcnow() + timedelta(minutes=6)) == 1
        assert recover_calls(now=utcnow() + timedelta(minutes=6)) == 0  # asked once
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == callback_id)
        ).all()
    attempt = _attempt(app)
    assert (attempt.status, attempt.outcome, attempt.settled_at) == ("unknown", None, None)
    assert "may have placed the call" in attempt.error
    callback = load(app, Callback, callback_id)
    # Back with its operator, who knows whether their phone rang: to call again or not.
    assert (callback.status, callback.claimed_by_id, callback.attempts) == (
        "claimed",
        operator_id,
        0,
    )
    assert actions == ["call_started", "call_unknown"]

    # The console shows it on the callback's page.
    operator = app.test_client()
    assert login(operator, "asha").status_code == 302
    page = operator.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)
    assert "— unknown" in page

    # The operator calls again; the first call's late report settles its attempt only.
    with app.app_context():
        second = start_call(callback_id, operator_id)
    client = app.test_client()
    assert _call_status(client, attempt_id, "CA" + "1" * 32, "completed").status_code == 204
    attempt = _attempt_of(app, attempt_id)
    assert (attempt.status, attempt.call_sid) == ("completed", "CA" + "1" * 32)
    assert load(app, Callback, callback_id).status == "calling"  # the second call goes on
    assert _attempt_of(app, second).status == "created"


def _attempt_of(app, attempt_id: int) -> CallAttempt:
    return load(app, CallAttempt, attempt_id)


def test_a_campaign_call_the_provider_answered_late_is_not_retried_and_settles_later(
    app, twilio_api
):
    call_id = one_call_campaign(app)
    twilio_api.delay(REST_TIMEOUT_SECONDS + 0.5)
    with app.app_context():
        assert place_campaign_call(call_id, 1) == "unanswered"
    [placed] = twilio_api.wait_for_calls(1, timeout=5)
    twilio_api.delay(0)
    call = load_call(app, call_id)
    assert (call.status, call.attempts, call.call_sid) == ("unknown", 1, None)
    with app.app_context():
        assert place_campaign_call(call_id, 2).startswith("not waiting")
        assert place_campaign_call(call_id, 1).startswith("not waiting")
    assert len(twilio_api.calls) == 1

    # Its status callback (the URL names the campaign call) settles it.
    assert (
        status_callback(app.test_client(), call_id, placed["sid"], "no-answer").status_code == 204
    )
    call = load_call(app, call_id)
    assert (call.status, call.call_sid, call.last_result) == (
        "retrying",
        placed["sid"],
        "no-answer",
    )


def test_a_campaign_call_whose_worker_died_placing_it_is_named_and_not_rung_again(
    make_app, app_config, twilio_api, tmp_path
):
    config = {**app_config, "RECONCILE_AFTER_SECONDS": 0}
    app = make_app(**config)
    twilio_api.delay(3)  # a slow provider: the worker dies while it places the call
    worker = start_worker(config, tmp_path / "worker.log")
    try:
        call_id = one_call_campaign(app)
        with app.app_context():
            enqueue(CAMPAIGNS_QUEUE, place_campaign_call, call_id, 1, job_id=f"place-{call_id}")
        wait_until(lambda: load_call(app, call_id).status == "calling", timeout=15)
        wait_until(lambda: asking(worker, twilio_api.base_url), timeout=10)
        kill_worker(worker)
    finally:
        stop_worker(worker)
    [placed] = twilio_api.wait_for_calls(1, timeout=10)  # the consumer's phone rang
    twilio_api.delay(0)
    assert (load_call(app, call_id).status, load_call(app, call_id).call_sid) == ("calling", None)

    with app.app_context():
        assert settle_stuck_calls(now=utcnow() + timedelta(minutes=1)) == 0  # slow, maybe
        assert settle_stuck_calls(now=utcnow() + timedelta(minutes=6)) == 1
        assert settle_stuck_calls(now=utcnow() + timedelta(minutes=6)) == 0
    call = load_call(app, call_id)
    # Named, and left to its status callbacks while it rings; never placed again.
    assert (call.status, call.call_sid, call.attempts) == ("calling", placed["sid"], 1)
    assert (
        status_callback(app.test_client(), call_id, placed["sid"], "completed").status_code == 204
    )
    assert load_call(app, call_id).status == "done"
    assert len(twilio_api.calls) == 1


def test_a_campaign_call_the_provider_never_took_is_tried_again_later(app, twilio_api):
    call_id = one_call_campaign(app)
    with app.app_context():
        # Its worker died after marking it calling, before asking the provider.
        db.session.execute(update(CampaignCall).values(status="calling", attempts=1))
        db.session.commit()
        assert settle_stuck_calls(now=utcnow() + timedelta(minutes=6)) == 1
    call = load_call(app, call_id)
    assert (call.status, call.attempts, call.call_sid) == ("retrying", 1, None)
    assert twilio_api.calls == []
    with app.app_context():
        assert place_campaign_call(call_id, 2) == "placed"  # the retry, when it comes
    assert len(twilio_api.calls) == 1


def test_a_campaign_call_the_provider_cannot_account_for_is_left_unknown(make_app):
    app = make_app(TWILIO_ACCOUNT_SID="")  # the outbox, like Plivo and Exotel, cannot tell
    call_id = one_call_campaign(app)
    with app.app_context():
        db.session.execute(update(CampaignCall).values(status="calling", attempts=1))
        db.session.commit()
        assert settle_stuck_calls(now=utcnow() + timedelta(minutes=6)) == 1
        assert settle_stuck_calls(now=utcnow() + timedelta(minutes=6)) == 0
    call = load_call(app, call_id)
    assert (call.status, call.last_result) == ("unknown", "provider-timeout")
