"""The same flows on every provider, each through its own stand-in and its own dialect.

Each test runs once per provider (``provider_name``): the webhooks are posted with that
provider's parameters and signature (``telephony.caller_side``), the answers are read in
its dialect, and SMS and calls leave through its REST API to a local stand-in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from callqueue.calls import start_call
from core.extensions import db
from core.models import Callback, MissedCall, OutboundMessage
from core.models.attempts import CallAttempt
from telephony import TelephonySettingsError, caller_side
from tests.callqueue.test_calls import CALLER_ID, CONSUMER, OPERATOR_PHONE, claimed_callback, load
from tests.conftest import (
    DLT_ENTITY_ID,
    PUBLIC_BASE_URL,
    post_as,
    provider_settings,
    run_jobs,
)

CALLER = "+919812345678"
MISSED_CALL_NUMBER = "+911800180000"

REFUSED_UNANSWERED = {"twilio": ["reject"], "plivo": ["reject"], "exotel": []}
"""How each provider's missed-call answer reads: Exotel's flow has ended the call itself,
and its Passthru reads only the answer's status."""


@pytest.fixture()
def app(make_app, provider_name, provider_apis):
    return make_app(
        CALL_RECORDING=True,
        DLT_TEMPLATE_MISSED_CALL_ACK="1107161234567890123",
        **provider_settings(provider_name, provider_apis),
    )


def sent_messages(provider_name, twilio_api, provider_apis) -> list[dict]:
    """Return the SMS the provider's stand-in took, as (to, sender, body) and DLT ids."""
    if provider_name == "exotel":
        return [
            {
                "to": each["To"],
                "sender": each["From"],
                "body": each["Body"],
                "dlt": (each.get("DltEntityId"), each.get("DltTemplateId")),
            }
            for each in provider_apis["exotel"].messages
        ]
    if provider_name == "plivo":
        return [
            {
                "to": each["dst"],
                "sender": each["src"],
                "body": each["text"],
                "dlt": (each.get("dlt_entity_id"), each.get("dlt_template_id")),
            }
            for each in provider_apis["plivo"].messages
        ]
    return [
        {"to": each["To"], "sender": each["From"], "body": each["Body"], "dlt": (None, None)}
        for each in twilio_api.messages
    ]


def placed_calls(provider_name, twilio_api, provider_apis) -> list[dict]:
    """Return the calls the provider's stand-in fired: to, from, answer URL, call id."""
    if provider_name == "exotel":  # Calls/connect: the operator, then the consumer
        return [
            {"to": each["From"], "from": each["CallerId"], "then": each["To"], "id": each["Sid"]}
            for each in provider_apis["exotel"].calls
        ]
    if provider_name == "plivo":
        return [
            {
                "to": each["to"],
                "from": each["from"],
                "answer": each["answer_url"],
                "id": each["request_uuid"],
            }
            for each in provider_apis["plivo"].calls
        ]
    return [
        {"to": each["To"], "from": each["From"], "answer": each["Url"], "id": each["sid"]}
        for each in twilio_api.calls
    ]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_missed_call_is_refused_unanswered_recorded_and_acknowledged_by_sms(
    app, provider_name, twilio_api, provider_apis
):
    side = caller_side(app)
    params = side.call("call-0001", CALLER, MISSED_CALL_NUMBER, "ringing")

    answer = post_as(app.test_client(), side, "/ivr/missed-call", params)

    assert answer.status_code == 200
    kinds = [verb.kind for verb in side.read(answer.get_data(as_text=True))]
    assert kinds == REFUSED_UNANSWERED[provider_name]
    with app.app_context():
        (callback,) = db.session.scalars(select(Callback)).all()
        assert callback.phone == CALLER
    run_jobs(app)
    (sms,) = sent_messages(provider_name, twilio_api, provider_apis)
    assert sms["to"] == CALLER
    if provider_name != "twilio":
        # Indian SMS carry the DLT entity and template ids and the registered header.
        assert sms["sender"] == "CSPDCL"
        assert sms["dlt"] == (DLT_ENTITY_ID, "1107161234567890123")

    # The same call reported again (a provider's retry) is one missed call.
    post_as(app.test_client(), side, "/ivr/missed-call", params)
    assert count(app, MissedCall) == 1


def test_a_forged_webhook_is_refused_and_records_nothing(app, provider_name):
    side = caller_side(app)
    params = side.call("call-0002", CALLER, MISSED_CALL_NUMBER, "ringing")
    if provider_name == "exotel":
        # Exotel signs nothing: its webhooks' secret is their path.
        for path in ("/exotel/wrong-token/ivr/missed-call", "/exotel//ivr/missed-call"):
            assert app.test_client().get(path, query_string=params).status_code == 404
        assert count(app, MissedCall) == 0
        return
    headers = side.sign(PUBLIC_BASE_URL + "/ivr/missed-call", params)
    tampered = {**params, next(k for k in params if params[k].endswith("9812345678")): "1"}

    answer = app.test_client().post("/ivr/missed-call", data=tampered, headers=headers)

    assert answer.status_code == 403
    assert b"signature" in answer.data
    assert count(app, MissedCall) == 0


def test_the_operator_bridge_rings_the_operator_dials_the_consumer_and_settles_once(
    app, provider_name, twilio_api, provider_apis
):
    side, client = caller_side(app), app.test_client()
    callback_id, operator_id = claimed_callback(app)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
    run_jobs(app)
    (call,) = placed_calls(provider_name, twilio_api, provider_apis)
    assert (call["to"], call["from"]) == (OPERATOR_PHONE, CALLER_ID)
    if provider_name == "exotel":
        # Exotel bridges the two itself and reports both legs to the status callback.
        assert call["then"] == CONSUMER
        leg = side.call(call["id"], CALLER_ID, OPERATOR_PHONE, "in-progress")
        for _ in range(2):
            report = {**leg, **side.bridge_ended("completed", "completed", 42)}
            assert post_as(client, side, "/ivr/call-status", report).status_code == 204
        attempt = load(app, CallAttempt, attempt_id)
        assert (attempt.outcome, attempt.consumer_duration) == ("answered", 42)
        assert load(app, Callback, callback_id).attempts == 1
        return
    answer_path = urlsplit(call["answer"]).path
    assert answer_path == f"/ivr/bridge/{attempt_id}"

    leg = side.call(call["id"], CALLER_ID, OPERATOR_PHONE, "in-progress")
    script = side.read(post_as(client, side, answer_path, leg).get_data(as_text=True))

    assert [verb.kind for verb in script] == ["say", "dial"]
    whisper, dial = script
    assert whisper.language == "hi" and "ग्राहक" in whisper.text
    assert dial.text == CONSUMER
    assert urlsplit(dial.action).path == f"/ivr/bridge/{attempt_id}/dialled"

    ended = {**leg, **side.dial_ended("completed", 42)}
    goodbye = side.read(post_as(client, side, urlsplit(dial.action).path, ended).get_data(True))
    assert [verb.kind for verb in goodbye] == ["say", "hangup"]
    # The status callbacks settle the attempt once, and a late one never moves it back.
    for status in ("completed", "completed", "ringing"):
        report = {**leg, **side.call_ended(status, 60)}
        assert post_as(client, side, "/ivr/call-status", report).status_code == 204
    attempt = load(app, CallAttempt, attempt_id)
    assert (attempt.status, attempt.consumer_status) == ("completed", "completed")
    assert (attempt.outcome, attempt.consumer_duration) == ("answered", 42)
    callback = load(app, Callback, callback_id)
    # Answered once: the operator records the disposition.
    assert (callback.status, callback.attempts) == ("calling", 1)


def test_sms_delivery_reports_are_read_in_the_providers_words(
    app, provider_name, twilio_api, provider_apis
):
    side, client = caller_side(app), app.test_client()
    post_as(
        client, side, "/ivr/missed-call", side.call("c3", CALLER, MISSED_CALL_NUMBER, "ringing")
    )
    run_jobs(app)
    with app.app_context():
        (message,) = db.session.scalars(select(OutboundMessage)).all()
        sid = message.provider_sid

    for status in ("delivered", "sent"):  # a late "sent" never undoes "delivered"
        answer = post_as(client, side, "/sms/status", side.message_status(sid, status))
        assert answer.status_code == 204
    assert load(app, OutboundMessage, message.id).status == "delivered"


def test_an_sms_reply_moves_the_callback_to_its_slot_in_each_providers_words(
    app, provider_name, twilio_api, provider_apis
):
    side, client = caller_side(app), app.test_client()
    post_as(
        client, side, "/ivr/missed-call", side.call("c5", CALLER, MISSED_CALL_NUMBER, "ringing")
    )
    params = side.incoming_sms("sms-0001", CALLER, MISSED_CALL_NUMBER, "CALL EVENING")
    for _ in range(2):  # delivered twice: taken once
        if provider_name == "exotel":  # the SMS app's "Send a Reply" applet asks with GET
            path = side.path("/sms/inbound")
            headers = side.sign(PUBLIC_BASE_URL + path, {})
            answer = client.get(path, query_string=params, headers=headers)
            assert (answer.status_code, answer.data, answer.mimetype) == (200, b"", "text/plain")
        else:
            answer = post_as(client, side, "/sms/inbound", params)
            assert answer.status_code == 200
            assert side.read(answer.get_data(as_text=True)) == []  # no reply in the answer
    with app.app_context():
        (callback,) = db.session.scalars(select(Callback)).all()
        assert (callback.phone, callback.slot) == (CALLER, "evening")
    run_jobs(app)
    # The missed call's acknowledgement and the slot's confirmation, in either order.
    sent = sent_messages(provider_name, twilio_api, provider_apis)
    assert [each["to"] for each in sent] == [CALLER, CALLER]
    assert sum("शाम 16:00 से 21:00" in each["body"] for each in sent) == 1


def test_a_webhook_of_a_provider_not_taken_is_refused(make_app, provider_name, provider_apis):
    app = make_app(**provider_settings(provider_name, provider_apis))
    other = caller_side(app, "twilio" if provider_name == "plivo" else "plivo")
    params = other.call("call-0004", CALLER, MISSED_CALL_NUMBER, "ringing")

    answer = post_as(app.test_client(), other, "/ivr/missed-call", params)

    assert answer.status_code == 403
    assert b"no signature of a provider this deployment takes" in answer.data
    assert count(app, MissedCall) == 0


def test_during_a_migration_both_providers_are_answered_each_in_its_own_dialect(
    make_app, provider_apis
):
    app = make_app(**provider_settings("plivo", provider_apis), TELEPHONY_ALSO_ACCEPT="twilio")
    client = app.test_client()
    for n, name in enumerate(("plivo", "twilio")):
        side = caller_side(app, name)
        params = side.call(f"call-000{n}", f"+91981234567{n}", MISSED_CALL_NUMBER, "ringing")
        answer = post_as(client, side, "/ivr/missed-call", params)
        kinds = [verb.kind for verb in side.read(answer.get_data(as_text=True))]
        assert kinds == REFUSED_UNANSWERED[name]
    assert b'<Hangup reason="rejected" />' not in answer.data  # Twilio's answer is TwiML
    assert count(app, MissedCall) == 2


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"TELEPHONY_PROVIDER": "exotelx"}, "TELEPHONY_PROVIDER"),
        ({"TELEPHONY_ALSO_ACCEPT": "ozonetel"}, "TELEPHONY_ALSO_ACCEPT"),
        ({"DLT_ENTITY_ID": ""}, "DLT_ENTITY_ID"),
        ({"SMS_SENDER_ID": "", "SMS_FROM": ""}, "SMS_SENDER_ID"),
        ({"CALLER_ID": ""}, "CALLER_ID"),
        ({"PLIVO_AUTH_ID": ""}, "PLIVO_AUTH_ID"),
    ],
)
def test_settings_that_cannot_work_refuse_to_start_naming_the_setting(
    make_app, provider_apis, settings, named
):
    with pytest.raises(TelephonySettingsError, match=named):
        make_app(**{**provider_settings("plivo", provider_apis), **settings})


def test_twilio_credentials_without_a_sender_refuse_to_start(make_app):
    with pytest.raises(TelephonySettingsError, match="SMS_SENDER_ID"):
        make_app(SMS_FROM="")


def test_missing_parameters_and_unknown_statuses_change_nothing(
    app, provider_name, twilio_api, provider_apis
):
    side, client = caller_side(app), app.test_client()
    callback_id, operator_id = claimed_callback(app)
    with app.app_context():
        attempt_id = start_call(callback_id, operator_id)
    run_jobs(app)
    (call,) = placed_calls(provider_name, twilio_api, provider_apis)
    leg = side.call(call["id"], CALLER_ID, OPERATOR_PHONE, "in-progress")
    before = load(app, CallAttempt, attempt_id).status

    for status in ("teleported", "²", ""):
        report = {**leg, **side.call_ended(status)}
        assert post_as(client, side, "/ivr/call-status", report).status_code == 204
    assert load(app, CallAttempt, attempt_id).status == before

    # A missed call that names no call id is still refused unanswered, and not recorded.
    nameless = {k: v for k, v in side.call("x", CALLER, MISSED_CALL_NUMBER, "ringing").items()
                if v != "x"}  # fmt: skip
    answer = post_as(client, side, "/ivr/missed-call", nameless)
    kinds = [verb.kind for verb in side.read(answer.get_data(as_text=True))]
    assert kinds == REFUSED_UNANSWERED[provider_name]
    assert count(app, MissedCall) == 0
