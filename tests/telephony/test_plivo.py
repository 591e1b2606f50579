"""Plivo's dialect: its V3 signature as its SDK checks it, its XML, its REST errors."""

from __future__ import annotations

import pytest
from plivo.utils.signature_v3 import validate_v3_signature
from werkzeug.datastructures import MultiDict

from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError
from telephony.plivo import PlivoProvider, PlivoScript, v3_signature
from tests.conftest import PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN, post_as, provider_settings
from tests.support.plivo_standin import PlivoStandin

URLS = [
    "https://sampark.example.in/ivr/voice",
    "https://sampark.example.in/ivr/voice/menu/answer?lang=hi&attempt=2",
    "https://sampark.example.in/ivr/voice/bill?account=7&lang=en&lang=hi",
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"CallUUID": "a6c6-11e9", "From": "919812345678", "Digits": "1"},
        {"Digits": "", "Text": "बिल & <due>", "Z": "last"},
    ],
)
def test_our_v3_signature_is_the_one_plivos_sdk_checks(url, params):
    nonce = "12345678901234567890"
    signature = v3_signature(PLIVO_AUTH_TOKEN, url, params, nonce)
    assert validate_v3_signature("POST", url, nonce, PLIVO_AUTH_TOKEN, signature, dict(params))


def test_repeated_parameters_are_signed_as_the_sdk_signs_lists():
    url, nonce = URLS[0], "nonce"
    params = MultiDict([("Tag", "b"), ("Tag", "a"), ("From", "919812345678")])
    signature = v3_signature(PLIVO_AUTH_TOKEN, url, params, nonce)
    as_lists = {"Tag": ["b", "a"], "From": "919812345678"}
    assert validate_v3_signature("POST", url, nonce, PLIVO_AUTH_TOKEN, signature, as_lists)


def test_a_header_with_several_signatures_passes_when_one_is_ours(make_app, provider_apis):
    app = make_app(**provider_settings("plivo", provider_apis))
    params = {"CallUUID": "c-1", "From": "919812345678", "To": "911800180000"}
    path = "/ivr/missed-call"
    ours = v3_signature(PLIVO_AUTH_TOKEN, "https://sampark.example.in" + path, params, "n1")
    for header, expected in ((f"forged=, {ours}", 200), ("forged=,also-forged=", 403)):
        answer = app.test_client().post(
            path,
            data=params,
            headers={"X-Plivo-Signature-V3": header, "X-Plivo-Signature-V3-Nonce": "n1"},
        )
        assert answer.status_code == expected


def test_a_signature_without_its_nonce_is_refused(make_app, provider_apis):
    app = make_app(**provider_settings("plivo", provider_apis))
    params = {"CallUUID": "c-2", "From": "919812345678"}
    signature = v3_signature(PLIVO_AUTH_TOKEN, "https://sampark.example.in/ivr/voice", params, "")
    answer = app.test_client().post(
        "/ivr/voice", data=params, headers={"X-Plivo-Signature-V3": signature}
    )
    assert answer.status_code == 403


def test_the_script_is_plivo_xml_with_absolute_urls():
    script = PlivoScript("https://sampark.example.in")
    gather = script.gather("/ivr/voice/menu/answer?lang=hi&attempt=1", timeout=6, max_keys=1)
    gather.say("बिल के लिए 1 दबाएँ।", "hi")
    script.redirect("/ivr/voice/menu/answer?lang=hi&attempt=1")
    script.dial("+919812345678", action="/ivr/bridge/1/dialled", timeout=30, record=True)

    assert script.render().decode() == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<GetDigits action="https://sampark.example.in/ivr/voice/menu/answer?lang=hi&amp;'
        'attempt=1" method="POST" timeout="6" numDigits="1" retries="1" redirect="true">'
        '<Speak language="hi-IN" voice="Polly.Aditi">बिल के लिए 1 दबाएँ।</Speak></GetDigits>'
        '<Redirect method="POST">https://sampark.example.in/ivr/voice/menu/answer?lang=hi'
        "&amp;attempt=1</Redirect>"
        '<Record recordSession="true" startOnDialAnswer="true" redirect="false" '
        'maxLength="14400" callbackUrl="https://sampark.example.in/ivr/bridge/1/dialled" '
        'callbackMethod="POST" />'
        '<Dial action="https://sampark.example.in/ivr/bridge/1/dialled" method="POST" '
        'redirect="true" timeout="30"><Number>+919812345678</Number></Dial></Response>'
    )


def test_a_missed_call_is_refused_with_a_rejected_hangup_first():
    script = PlivoScript("https://sampark.example.in")
    script.reject()
    assert b'<Response><Hangup reason="rejected" /></Response>' in script.render()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, TransientTelephonyError),
        (503, TransientTelephonyError),
        (429, TransientTelephonyError),
        (400, PermanentTelephonyError),
        (401, PermanentTelephonyError),
    ],
)
def test_rest_errors_say_whether_a_retry_can_help(plivo_api: PlivoStandin, status, kind):
    plivo_api.reset()
    provider = PlivoProvider(PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN, api_base_url=plivo_api.base_url)
    plivo_api.fail_next(status, "refused by the stand-in")
    with pytest.raises(kind, match=f"Plivo {status}"):
        provider.send_sms("+919812345678", "x", sender="CSPDCL", status_callback=None,
                          dlt_template_id=None)  # fmt: skip
    assert plivo_api.messages == []


def test_wrong_credentials_are_a_permanent_refusal(plivo_api: PlivoStandin):
    provider = PlivoProvider(PLIVO_AUTH_ID, "wrong", api_base_url=plivo_api.base_url)
    with pytest.raises(PermanentTelephonyError, match="401"):
        provider.place_call(
            "+919812345678",
            caller_id="+911140000001",
            answer_url="https://x/a",
            status_callback=None,
        )


def test_an_unreachable_api_is_a_passing_fault():
    provider = PlivoProvider(PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN, api_base_url="http://127.0.0.1:9")
    with pytest.raises(TransientTelephonyError, match="unreachable"):
        provider.send_sms("+919812345678", "x", sender="CSPDCL", status_callback=None,
                          dlt_template_id=None)  # fmt: skip


def test_plivo_numbers_without_the_plus_are_read_as_indian_numbers(make_app, provider_apis):
    from sqlalchemy import select

    from core.extensions import db
    from core.models import MissedCall
    from telephony import caller_side

    app = make_app(**provider_settings("plivo", provider_apis))
    side = caller_side(app)
    params = side.call("c-3", "+919812345678", "+911800180000", "ringing")
    assert params["From"] == "919812345678"
    assert post_as(app.test_client(), side, "/ivr/missed-call", params).status_code == 200
    with app.app_context():
        (call,) = db.session.scalars(select(MissedCall)).all()
        assert call.outcome == "queued"
