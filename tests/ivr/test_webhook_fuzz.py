"""Never a 500 from a webhook: random signed requests to every webhook, for each provider.

Each request is signed as the provider signs it, so it passes the signature check and
reaches the view with random parameters, keys, durations (Unicode digits among them),
ids beyond what the id columns hold in the path and the query, and multipart bodies with
nameless parts.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st
from sqlalchemy import select

from core.extensions import db
from core.models import Callback, CallbackStatus
from telephony import caller_side
from telephony.inbound import WebhookParams
from tests.callcenter.conftest import make_callback
from tests.conftest import PUBLIC_BASE_URL, post_as, provider_settings
from tests.support.fuzz import (
    Probe,
    fill_path,
    multipart,
    params,
    probe_each_route,
    routes_under,
    some_of,
    urlencoded,
)

EXAMPLES = 6
"""Random requests per route and provider (some 35 routes)."""

WEBHOOK_PREFIXES = ("/ivr/", "/sms/")

PARAM_NAMES = [
    "CallSid", "CallUUID", "RequestUUID", "From", "To", "Caller", "Called", "CallStatus",
    "Digits", "CallDuration", "Duration", "DialCallStatus", "DialStatus", "DialCallDuration",
    "DialBLegDuration", "RecordingUrl", "RecordUrl", "AnsweredBy", "Machine", "MessageSid",
    "SmsSid", "MessageUUID", "MessageStatus", "SmsStatus", "Status", "ErrorCode", "Direction",
    "CallFrom", "CallTo", "digits", "DigitsPressed", "Legs[1][Status]", "Legs[1][OnCallDuration]",
    "ConversationDuration", "DetailedStatusCode",
]  # fmt: skip
"""What Twilio, Plivo and Exotel post, as the dialects read it."""

QUERY_NAMES = ["lang", "attempt", "account", "application", "v"]
"""What the flows put in their own step URLs."""

KNOWN_VALUES = {
    "CallDuration": ["²", "١٢", "99999999999999999999", "12"],
    "DialCallDuration": ["²", "١٢", "-1", "30"],
    "From": ["+919812345678", "9812345678", "anonymous", "+266696687", ""],
    "CallStatus": ["completed", "busy", "no-answer", "in-progress", "ringing", "failed"],
    "Digits": ["1", "2", "9", "0", "*", "#", "12345678", "²", "١"],
    "digits": ['"1"', '"', '""', '"²"', '1"'],
    "ConversationDuration": ["²", "١٢", "99999999999999999999"],
    "AnsweredBy": ["human", "machine_start", "fax", "unknown"],
    "lang": ["hi", "en", "xx"],
    "account": ["99999999999999999999", "1", "²"],
    "application": ["99999999999999999999", "2026000001", "²"],
}


def webhook_requests(method: str, rule: str) -> st.SearchStrategy[dict[str, Any]]:
    return _webhook_request(method, rule)


@st.composite
def _webhook_request(draw: Any, method: str, rule: str) -> dict[str, Any]:
    path = fill_path(rule, draw)
    query = draw(some_of(QUERY_NAMES, KNOWN_VALUES))
    if query:
        path = f"{path}?{urlencoded(query)}"
    body = draw(some_of(PARAM_NAMES, KNOWN_VALUES)) + draw(params(PARAM_NAMES))
    nameless = draw(st.lists(st.text(max_size=8), max_size=2))
    as_multipart = draw(st.sampled_from([False, False, False, True]))
    return {
        "method": method,
        "path": path,
        "body": body,
        "nameless": nameless,
        "multipart": as_multipart,
    }


def _send(probe: Probe, client, side, request: dict[str, Any]) -> None:
    method, path, body = request["method"], side.path(request["path"]), request["body"]
    signed = WebhookParams(body if method == "POST" else [])
    headers = side.sign(PUBLIC_BASE_URL + path, signed)
    if method != "POST":
        probe.send(client, method, path, headers=headers)
    elif request["multipart"]:
        data, content_type = multipart(body, request["nameless"])
        probe.send(client, method, path, data=data, content_type=content_type, headers=headers)
    else:
        probe.send(
            client,
            method,
            path,
            data=urlencoded(body),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )


def test_no_signed_webhook_answers_5xx(make_app, provider_apis, provider_name):
    app = make_app(**provider_settings(provider_name, provider_apis))
    # A few rows, so small ids in paths reach real records.
    for n in range(3):
        make_callback(app, f"+9198000000{n:02d}", status=CallbackStatus.PENDING)
    side, client, probe = caller_side(app), app.test_client(), Probe(app)
    rules = routes_under(app, WEBHOOK_PREFIXES)
    assert ("POST", "/ivr/announce/<int:call_id>") in rules

    probe_each_route(
        rules,
        EXAMPLES,
        webhook_requests,
        lambda request: _send(probe, client, side, request),
        salt=provider_name,
    )
    probe.check()


# ------------------------------------------------------------------ what fuzzing found


@pytest.fixture()
def provider_app(make_app, provider_apis, provider_name):
    return make_app(**provider_settings(provider_name, provider_apis))


@pytest.mark.parametrize(
    "path",
    [
        "/ivr/announce/10000000000000000000",
        "/ivr/announce/2147483648/choice",
        "/ivr/bridge/99999999999999999999",
        "/ivr/bridge/99999999999999999999/dialled",
    ],
)
def test_a_webhook_for_an_id_the_database_cannot_hold_is_not_found(provider_app, path):
    side = caller_side(provider_app)
    params = side.call("call-0001", "+919812345678", "+911800180000", "in-progress")

    assert post_as(provider_app.test_client(), side, path, params).status_code == 404


@pytest.mark.parametrize("account", ["99999999999999999999", "%C2%B2", "-1"])
def test_a_bill_for_an_account_id_no_row_can_have_goes_back_to_the_menu(provider_app, account):
    side = caller_side(provider_app)
    params = side.call("call-0001", "+919812345678", "+911800180000", "in-progress")

    answer = post_as(provider_app.test_client(), side, f"/ivr/voice/bill?account={account}", params)

    assert answer.status_code == 200
    verbs = side.read(answer.get_data(as_text=True))
    assert verbs[-1].kind == "redirect" and "/ivr/voice/menu" in verbs[-1].text


def test_a_multipart_webhook_with_a_nameless_part_is_read_without_it(provider_app):
    side = caller_side(provider_app)
    params = side.call("call-0001", "+919812345678", "+911800180000", "ringing")
    data, content_type = multipart(list(params.items()), ["no name"])

    path = side.path("/ivr/missed-call")
    answer = provider_app.test_client().post(
        path,
        data=data,
        content_type=content_type,
        headers=side.sign(PUBLIC_BASE_URL + path, params),
    )

    # Refused unanswered, each provider its own way.
    assert answer.status_code == 200 and not any(
        verb.kind in ("say", "play", "gather") for verb in side.read(answer.get_data(as_text=True))
    )
    with provider_app.app_context():
        assert [c.phone for c in db.session.scalars(select(Callback))] == ["+919812345678"]


@pytest.mark.parametrize("seconds", ["²", "١٢", "99999999999999999999"])
def test_a_duration_in_digits_int_refuses_is_no_duration(provider_app, seconds):
    side = caller_side(provider_app)
    params = {**side.call("call-0001", "+919812345678", "+911800180000", "completed")}
    params.update(side.call_ended("completed"))
    params.update({"CallDuration": seconds, "Duration": seconds, "DialCallDuration": seconds})

    answer = post_as(provider_app.test_client(), side, "/ivr/call-status", params)

    assert answer.status_code == 204
