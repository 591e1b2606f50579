"""The missed-call webhook: rejected at once, recorded, queued, acknowledged by SMS."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import BlockedNumber, Callback, MissedCall, OutboundMessage
from tests.conftest import post_webhook, run_jobs

PATH = "/ivr/missed-call"
DISCOM_NUMBER = "+911800180000"


def missed_call(client, caller: str = "+919812345678", sid: str = "CA" + "1" * 32, **extra):
    params = {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 31 + "1",
        "From": caller,
        "To": DISCOM_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        **extra,
    }
    return post_webhook(client, PATH, params)


def assert_rejected(response) -> None:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    # Nothing may answer the call before the rejection: no Say, Play, Gather or Dial.
    assert [child.tag for child in root] == ["Reject"]
    assert root[0].get("reason") == "busy"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_missed_call_is_rejected_recorded_and_acknowledged(app, client, twilio_api):
    response = missed_call(client, "09812345678")

    assert_rejected(response)
    with app.app_context():
        call = db.session.scalars(select(MissedCall)).one()
        callback = db.session.scalars(select(Callback)).one()
        assert (call.phone, call.outcome, call.callback_id) == (
            "+919812345678",
            "queued",
            callback.id,
        )
        assert (callback.phone, callback.status, callback.missed_call_count) == (
            "+919812345678",
            "pending",
            1,
        )
        assert callback.due_at <= datetime.now(UTC)

    run_jobs(app)

    [sms] = twilio_api.messages
    assert sms["To"] == "+919812345678"
    assert sms["From"] == "+911140000000"
    assert "मिस्ड कॉल" in sms["Body"]
    with app.app_context():
        message = db.session.scalars(select(OutboundMessage)).one()
        assert (message.status, message.provider, message.provider_sid) == (
            "sent",
            "twilio",
            sms["sid"],
        )
        assert message.attempts == 1


@pytest.mark.parametrize("raw", ["09812345678", "9812345678", "+91 98123 45678", "+919812345678"])
def test_caller_number_is_stored_in_e164(app, client, raw):
    missed_call(client, raw)
    with app.app_context():
        assert db.session.scalars(select(MissedCall.phone)).one() == "+919812345678"


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        ("anonymous", "withheld"),
        ("Restricted", "withheld"),
        ("+266696687", "withheld"),
        ("", "withheld"),
        ("12345", "invalid"),
        ("not-a-number<script>", "invalid"),
        ("+14155550100", "not_allowed"),
    ],
)
def test_unusable_caller_ids_are_recorded_without_callback_or_sms(
    app, client, twilio_api, raw, outcome
):
    assert_rejected(missed_call(client, raw))
    run_jobs(app)
    with app.app_context():
        call = db.session.scalars(select(MissedCall)).one()
        assert (call.outcome, call.callback_id, call.caller_raw) == (outcome, None, raw)
        assert count(Callback) == 0
        assert count(OutboundMessage) == 0
    assert twilio_api.messages == []


def test_missing_from_is_recorded_as_withheld(app, client):
    params = {"CallSid": "CA" + "2" * 32, "To": DISCOM_NUMBER}
    assert_rejected(post_webhook(client, PATH, params))
    with app.app_context():
        assert db.session.scalars(select(MissedCall.outcome)).one() == "withheld"


def test_missing_call_sid_is_rejected_and_not_recorded(app, client):
    assert_rejected(post_webhook(client, PATH, {"From": "+919812345678"}))
    with app.app_context():
        assert count(MissedCall) == 0


def test_same_call_sid_twice_is_one_missed_call(app, client, twilio_api):
    for _ in range(3):
        assert_rejected(missed_call(client, sid="CA" + "3" * 32))
    run_jobs(app)
    with app.app_context():
        assert count(MissedCall) == 1
        assert db.session.scalars(select(Callback.missed_call_count)).one() == 1
    assert len(twilio_api.messages) == 1


def test_repeat_caller_joins_the_open_callback(app, client, twilio_api):
    for n in range(3):
        missed_call(client, sid=f"CA{n:032d}")
    run_jobs(app)
    with app.app_context():
        callback = db.session.scalars(select(Callback)).one()
        assert callback.missed_call_count == 3
        assert callback.last_missed_at > callback.first_missed_at
        outcomes = db.session.scalars(select(MissedCall.outcome).order_by(MissedCall.id)).all()
        assert outcomes == ["queued", "merged", "merged"]
    assert len(twilio_api.messages) == 1, "one acknowledgement per callback"


def test_a_closed_callback_does_not_swallow_the_next_missed_call(app, client):
    missed_call(client, sid="CA" + "4" * 32)
    with app.app_context():
        db.session.scalars(select(Callback)).one().status = "done"
        db.session.commit()
    missed_call(client, sid="CA" + "5" * 32)
    with app.app_context():
        statuses = db.session.scalars(select(Callback.status).order_by(Callback.id)).all()
        assert statuses == ["done", "pending"]


def test_number_over_the_hourly_limit_is_flagged_and_not_queued_again(make_app):
    app = make_app(MISSED_CALLS_PER_HOUR_LIMIT=3)
    client = app.test_client()
    for n in range(5):
        assert_rejected(missed_call(client, sid=f"CA{n:032d}"))
    with app.app_context():
        outcomes = db.session.scalars(select(MissedCall.outcome).order_by(MissedCall.id)).all()
        assert outcomes == ["queued", "merged", "merged", "rate_limited", "rate_limited"]
        assert db.session.scalars(select(Callback.missed_call_count)).one() == 3


def test_blocked_number_is_recorded_but_not_queued(app, client, twilio_api):
    with app.app_context():
        db.session.add(BlockedNumber(phone="+919812345678", reason="abusive"))
        db.session.commit()
    assert_rejected(missed_call(client))
    run_jobs(app)
    with app.app_context():
        assert db.session.scalars(select(MissedCall.outcome)).one() == "blocked"
        assert count(Callback) == 0
    assert twilio_api.messages == []


def test_english_number_gets_an_english_acknowledgement(make_app, twilio_api):
    app = make_app(LANGUAGE_BY_DIALLED_NUMBER=f"{DISCOM_NUMBER}=en")
    missed_call(app.test_client())
    run_jobs(app)
    [sms] = twilio_api.messages
    assert "missed call" in sms["Body"]
    with app.app_context():
        assert db.session.scalars(select(Callback.language)).one() == "en"


def test_dlt_template_id_setting_is_kept_on_the_message(make_app):
    app = make_app(DLT_TEMPLATE_MISSED_CALL_ACK="1107161234567890123")
    missed_call(app.test_client())
    with app.app_context():
        assert (
            db.session.scalars(select(OutboundMessage.dlt_template_id)).one()
            == "1107161234567890123"
        )


def test_phone_numbers_are_masked_in_logs(app, client, caplog):
    with caplog.at_level(logging.DEBUG, logger="sampark"):
        missed_call(client, "+919812345678")
    assert "+91******5678" in caplog.text
    assert "9812345678" not in caplog.text
