"""The bridge: the operator who answers hears a whisper, then the consumer is dialled."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from callqueue.calls import start_call
from core.extensions import db
from core.models import Callback
from core.models.attempts import CallAttempt
from tests.callqueue.test_calls import (
    CALLER_ID,
    CONSUMER,
    add_callback,
    add_operator,
    load,
    placed_call,
)
from tests.conftest import post_webhook, run_jobs

ACCOUNT = "AC" + "0" * 31 + "1"


def answer(client, attempt_id: int, sid: str, **options):
    params = {
        "CallSid": sid,
        "AccountSid": ACCOUNT,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
    }
    return post_webhook(client, f"/ivr/bridge/{attempt_id}", params, **options)


def dialled(client, attempt_id: int, sid: str, dial_status: str, **extra: str):
    params = {
        "CallSid": sid,
        "AccountSid": ACCOUNT,
        "CallStatus": "in-progress",
        "DialCallStatus": dial_status,
        "DialCallSid": "CA" + "d" * 32,
        **extra,
    }
    return post_webhook(client, f"/ivr/bridge/{attempt_id}/dialled", params)


def twiml(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def test_the_operator_hears_a_whisper_in_their_language_then_the_consumer_is_dialled(
    app, client, twilio_api
):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)

    root = twiml(answer(client, attempt_id, sid))

    assert [child.tag for child in root] == ["Say", "Dial"]
    say, dial = root
    assert say.get("language") == "hi-IN"
    assert "ग्राहक से जोड़ा जा रहा है" in say.text
    assert dial.get("callerId") == CALLER_ID
    assert dial.get("action") == f"/ivr/bridge/{attempt_id}/dialled"
    assert dial.get("record") is None  # recording is off unless configured
    [number] = dial
    assert (number.tag, number.text) == ("Number", CONSUMER)
    attempt = load(app, CallAttempt, attempt_id)
    assert attempt.status == "in-progress"
    assert attempt.answered_at is not None


def test_an_english_speaking_operator_is_whispered_to_in_english_and_calls_are_recorded(
    make_app, twilio_api
):
    app = make_app(CALL_RECORDING=True)
    client = app.test_client()
    operator_id = add_operator(app, languages="en")
    callback_id = add_callback(app, operator_id)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)

    root = twiml(answer(client, attempt_id, "CA" + "e" * 32))

    say, dial = root
    assert (say.get("language"), say.text) == ("en-IN", "Connecting you to the consumer.")
    assert dial.get("record") == "record-from-answer-dual"


def test_a_callback_closed_meanwhile_is_not_dialled(app, client, twilio_api):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)
    with app.app_context():
        db.session.get(Callback, callback_id).status = "done"
        db.session.commit()

    root = twiml(answer(client, attempt_id, sid))

    assert [child.tag for child in root] == ["Say", "Hangup"]


def test_an_answered_consumer_leg_is_recorded_once_and_the_operator_is_told_goodbye(
    app, client, twilio_api
):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)
    answer(client, attempt_id, sid)
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"

    first = twiml(
        dialled(client, attempt_id, sid, "completed", DialCallDuration="75", RecordingUrl=recording)
    )
    again = twiml(dialled(client, attempt_id, sid, "completed", DialCallDuration="75"))

    assert [child.tag for child in first] == ["Say", "Hangup"]
    assert "कंसोल" in first[0].text
    assert again[0].text == first[0].text
    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.consumer_status, attempt.consumer_duration, attempt.recording_url) == (
        "completed",
        75,
        recording,
    )
    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts) == ("calling", 1)


def test_a_busy_consumer_sends_the_callback_back_to_the_queue(app, client, twilio_api):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)
    answer(client, attempt_id, sid)

    root = twiml(dialled(client, attempt_id, sid, "busy"))

    assert "दोबारा" in root[0].text
    assert root[-1].tag == "Hangup"
    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts, callback.claimed_by_id) == ("pending", 1, None)
    attempt = load(app, CallAttempt, attempt_id)
    assert callback.due_at > attempt.settled_at


def test_a_forged_dial_action_is_refused_and_changes_nothing(app, client, twilio_api):
    callback_id, attempt_id, sid = placed_call(app, twilio_api)
    params = {"CallSid": sid, "AccountSid": ACCOUNT, "DialCallStatus": "no-answer"}

    response = post_webhook(client, f"/ivr/bridge/{attempt_id}/dialled", params, signature="forged")
    forged_answer = answer(client, attempt_id, sid, signature="forged")

    assert (response.status_code, forged_answer.status_code) == (403, 403)
    assert load(app, Callback, callback_id).status == "calling"
    with app.app_context():
        attempt = db.session.scalars(select(CallAttempt)).one()
        assert (attempt.consumer_status, attempt.answered_at) == (None, None)


def test_a_dial_action_for_an_unknown_attempt_ends_the_call_politely(client):
    root = twiml(dialled(client, 999, "CA" + "9" * 32, "completed"))

    assert [child.tag for child in root] == ["Say", "Hangup"]


def test_the_last_unanswered_attempt_closes_the_callback_and_texts_the_consumer(
    make_app, twilio_api
):
    app = make_app(CALL_MAX_ATTEMPTS=2)
    client = app.test_client()
    operator_id = add_operator(app)
    callback_id = add_callback(app, operator_id, attempts=1, language="en")
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
    run_jobs(app)
    [call] = twilio_api.calls

    answer(client, attempt_id, call["sid"])
    dialled(client, attempt_id, call["sid"], "no-answer")
    dialled(client, attempt_id, call["sid"], "no-answer")
    run_jobs(app)

    callback = load(app, Callback, callback_id)
    assert (callback.status, callback.attempts) == ("unreachable", 2)
    [sms] = twilio_api.messages
    assert sms["To"] == CONSUMER
    assert "missed call again" in sms["Body"]
