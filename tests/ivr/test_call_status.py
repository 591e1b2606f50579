"""Status callbacks of the calls we place: recorded on their attempt, idempotent, in order."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import Callback
from core.models.attempts import CallAttempt
from tests.callqueue.test_calls import load, placed_call
from tests.conftest import post_webhook

PATH = "/ivr/call-status"


def status(client, sid: str, call_status: str, **extra: str):
    params = {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 31 + "1",
        "CallStatus": call_status,
        "Direction": "outbound-api",
        **extra,
    }
    return post_webhook(client, PATH, params)


def snapshot(app) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(select(CallAttempt)).all()
        return [{c.name: getattr(row, c.name) for c in CallAttempt.__table__.c} for row in rows]


def test_each_status_of_a_call_is_recorded_on_its_attempt(app, client, twilio_api):
    _, attempt_id, sid = placed_call(app, twilio_api)
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE2"

    codes = [
        status(client, sid, "initiated").status_code,
        status(client, sid, "ringing").status_code,
        status(client, sid, "in-progress").status_code,
        status(client, sid, "completed", CallDuration="61", RecordingUrl=recording).status_code,
    ]

    assert codes == [204] * 4
    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.status, attempt.duration, attempt.recording_url) == (
        "completed",
        61,
        recording,
    )
    assert attempt.ringing_at <= attempt.answered_at <= attempt.ended_at


def test_the_same_status_callback_twice_changes_nothing_more(app, client, twilio_api):
    _, _, sid = placed_call(app, twilio_api)
    status(client, sid, "ringing")
    status(client, sid, "completed", CallDuration="12")
    before = snapshot(app)

    assert status(client, sid, "completed", CallDuration="12").status_code == 204
    assert status(client, sid, "ringing").status_code == 204

    assert snapshot(app) == before


def test_a_late_earlier_status_never_moves_an_attempt_back(app, client, twilio_api):
    _, attempt_id, sid = placed_call(app, twilio_api)

    status(client, sid, "in-progress")
    status(client, sid, "ringing")
    assert load(app, CallAttempt, attempt_id).status == "in-progress"
    status(client, sid, "completed", CallDuration="30")
    status(client, sid, "in-progress")

    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.status, attempt.duration) == ("completed", 30)


def test_an_operator_who_does_not_pick_up_returns_the_callback_uncounted(app, client, twilio_api):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)

    status(client, sid, "ringing")
    status(client, sid, "no-answer")

    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.status, attempt.outcome) == ("no-answer", "operator_unreached")
    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts, callback.claimed_by_id) == ("pending", 0, None)


def test_a_failed_operator_leg_counts_as_an_unanswered_attempt(app, client, twilio_api):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)

    status(client, sid, "failed")

    assert load(app, CallAttempt, attempt_id).outcome == "unanswered"
    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts) == ("pending", 1)


def test_an_answered_operator_leg_waits_for_the_dial_outcome(app, client, twilio_api):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)

    status(client, sid, "in-progress")
    status(client, sid, "completed", CallDuration="40")

    assert load(app, CallAttempt, attempt_id).settled_at is None
    assert load(app, Callback, callback_id).status == "calling"


def test_an_unknown_call_is_acknowledged_and_changes_nothing(app, client, twilio_api):
    placed_call(app, twilio_api)
    before = snapshot(app)

    response = status(client, "CA" + "7" * 32, "completed", CallDuration="5")

    assert response.status_code == 204
    assert snapshot(app) == before


def test_a_forged_status_callback_is_refused_and_changes_nothing(app, client, twilio_api):
    _, _, sid = placed_call(app, twilio_api)
    before = snapshot(app)

    params = {"CallSid": sid, "CallStatus": "completed", "CallDuration": "99"}
    response = post_webhook(client, PATH, params, signature="forged")

    assert response.status_code == 403
    assert snapshot(app) == before
