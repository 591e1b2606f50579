"""Webhook signatures: forged or unsigned requests are refused and leave no record."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import Flask, request
from sqlalchemy import func, select

from core.extensions import db
from core.models import MissedCall
from telephony.inbound import signed_url
from telephony.twilio import TwilioWebhooks
from tests.conftest import PUBLIC_BASE_URL, post_webhook, sign

PATH = "/ivr/missed-call"
PARAMS = {"CallSid": "CA" + "9" * 32, "From": "+919812345678", "To": "+911800180000"}

# Twilio's published example of a signed request.
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_TOKEN = "12345"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def recorded_calls(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(MissedCall))


def test_twilio_published_vector_is_accepted_behind_public_base_url(make_app):
    app = make_app(PUBLIC_BASE_URL="https://mycompany.com", TWILIO_AUTH_TOKEN=VECTOR_TOKEN)
    with app.test_request_context(
        "/myapp.php?foo=1&bar=2",
        method="POST",
        base_url="http://10.0.0.5:8000",  # what the app sees behind the proxy
        data=VECTOR_PARAMS,
        headers={"X-Twilio-Signature": VECTOR_SIGNATURE},
    ):
        assert signed_url() == VECTOR_URL
        assert TwilioWebhooks(VECTOR_TOKEN).signature_is_valid(request, signed_url())


def test_published_vector_with_one_parameter_changed_is_refused(make_app):
    app = make_app(PUBLIC_BASE_URL="https://mycompany.com", TWILIO_AUTH_TOKEN=VECTOR_TOKEN)
    with app.test_request_context(
        "/myapp.php?foo=1&bar=2",
        method="POST",
        data={**VECTOR_PARAMS, "Digits": "1235"},
        headers={"X-Twilio-Signature": VECTOR_SIGNATURE},
    ):
        assert not TwilioWebhooks(VECTOR_TOKEN).signature_is_valid(request, signed_url())


@pytest.mark.parametrize(
    "signature",
    [
        "",  # unsigned
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",  # someone else's signature
        sign(PUBLIC_BASE_URL + PATH, PARAMS, token="not-our-token"),
        sign("http://localhost" + PATH, PARAMS),  # signed for another URL
    ],
)
def test_forged_or_unsigned_webhook_gets_403_and_records_nothing(app, client, signature):
    response = post_webhook(client, PATH, PARAMS, signature=signature)
    assert response.status_code == 403
    assert b"signature" in response.data
    assert recorded_calls(app) == 0


def test_tampered_parameters_are_refused(app, client):
    signature = sign(PUBLIC_BASE_URL + PATH, PARAMS)
    tampered = {**PARAMS, "From": "+919800000000"}
    assert post_webhook(client, PATH, tampered, signature=signature).status_code == 403
    assert recorded_calls(app) == 0


def test_behind_a_tls_proxy_the_forwarded_https_url_is_checked(make_app):
    app = make_app(PUBLIC_BASE_URL="")
    public = "https://calls.discom.example" + PATH
    response = app.test_client().post(
        PATH,
        data=urlencode(PARAMS),
        content_type="application/x-www-form-urlencoded",
        base_url="http://127.0.0.1:8000",
        headers={
            "X-Twilio-Signature": sign(public, PARAMS),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "calls.discom.example",
            "X-Forwarded-Port": "443",
        },
    )
    assert response.status_code == 200
    assert recorded_calls(app) == 1


def test_switching_the_check_off_takes_a_setting_and_warns_at_start(make_app, caplog):
    app = make_app(TELEPHONY_VALIDATE_SIGNATURES="false")
    assert "TELEPHONY_VALIDATE_SIGNATURES is off" in caplog.text
    response = post_webhook(app.test_client(), PATH, PARAMS, signature="")
    assert response.status_code == 200
    assert recorded_calls(app) == 1


def test_no_auth_token_refuses_every_webhook(make_app, caplog):
    app = make_app(TWILIO_AUTH_TOKEN="", TWILIO_ACCOUNT_SID="")
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
    assert post_webhook(app.test_client(), PATH, PARAMS).status_code == 403


def test_body_over_one_mebibyte_gets_413_and_records_nothing(app, client):
    params = {**PARAMS, "Padding": "x" * (1024 * 1024)}
    response = post_webhook(client, PATH, params)
    assert response.status_code == 413
    assert recorded_calls(app) == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x00\xff\xfe garbage \x81=%%%&&=", "application/x-www-form-urlencoded"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b'{"CallSid": "CA1"}', "application/json"),
    ],
)
def test_junk_bytes_get_a_clear_refusal_not_a_server_error(app, client, body, content_type):
    response = client.post(PATH, data=body, content_type=content_type)
    assert response.status_code == 403
    assert recorded_calls(app) == 0


def test_junk_in_signed_fields_is_recorded_cleanly(app, client):
    params = {**PARAMS, "From": "\x00\x01" + "9" * 500}
    response = post_webhook(client, PATH, params)
    assert response.status_code == 200
    with app.app_context():
        call = db.session.scalars(select(MissedCall)).one()
        assert call.outcome == "invalid"
        assert "\x00" not in call.caller_raw and len(call.caller_raw) <= 64
