"""Webhook parameters: read on the hot path, the same as Flask's own form parsing."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl

import pytest
from flask import request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from telephony.inbound import WebhookParams, webhook_params, webhook_query

URLENCODED = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "body",
    [
        b"CallSid=CA123&From=%2B919812345678&To=%2B911800180000",
        b"Digits=1&Digits=2&Empty=&Flag",  # repeated, blank and bare names
        b"SpeechResult=%E0%A4%AC%E0%A4%BF%E0%A4%B2+%E0%A4%95%E0%A5%8D%E0%A4%AF%E0%A4%BE",
        b"Broken=%FF%FE&Plus=a+b%2Bc",  # escapes that are not UTF-8
        b"Raw=\xff\xfe",  # bytes that are not UTF-8 at all: no parameters
        b"a=1&&b=2&=x&&",  # empty fields, a blank name
        b"Sp+ace+d=a+%2b+b&x=1=2",  # pluses in names, a lower-case escape, a second =
        b"",
    ],
)
def test_parameters_are_the_ones_request_form_gives(app, body):
    with app.test_request_context("/ivr/voice", method="POST", data=body, content_type=URLENCODED):
        ours = webhook_params()
    with app.test_request_context("/ivr/voice", method="POST", data=body, content_type=URLENCODED):
        assert list(ours.items(multi=True)) == list(request.form.items(multi=True))


def test_other_bodies_are_left_to_flask(app):
    data = {"CallSid": "CA1", "From": "+919812345678"}
    with app.test_request_context("/ivr/voice", method="POST", data=data):  # multipart
        assert webhook_params().to_dict() == data


@pytest.mark.parametrize("limit", ["MAX_FORM_MEMORY_SIZE", "MAX_CONTENT_LENGTH"])
def test_a_body_over_a_size_limit_is_refused_as_flask_refuses_it(make_app, limit):
    app = make_app(**{limit: 100})
    body = b"Junk=" + b"x" * 200
    with app.test_request_context("/ivr/voice", method="POST", data=body, content_type=URLENCODED):
        with pytest.raises(RequestEntityTooLarge):
            webhook_params()


def test_a_body_shorter_than_declared_is_a_bad_request(app):
    body = b"CallSid=CA1&From=%2B919812345678"
    with app.test_request_context(
        "/ivr/voice",
        method="POST",
        input_stream=io.BytesIO(body[:10]),
        content_type=URLENCODED,
        environ_overrides={"CONTENT_LENGTH": str(len(body))},
    ):
        with pytest.raises(ClientDisconnected):
            webhook_params()


def test_the_body_stays_readable_after_the_parameters(app):
    body = b"CallSid=CA1&From=%2B919812345678"
    with app.test_request_context("/ivr/voice", method="POST", data=body, content_type=URLENCODED):
        params = webhook_params()
        assert request.get_data() == body
        assert request.form.to_dict() == params.to_dict() == {
            "CallSid": "CA1",
            "From": "+919812345678",
        }


def test_a_body_without_a_declared_length_is_read_by_werkzeug(app):
    body = b"CallSid=CA1&Digits=12"
    with app.test_request_context(
        "/ivr/voice",
        method="POST",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True},
        content_type=URLENCODED,
    ):
        assert webhook_params().to_dict() == {"CallSid": "CA1", "Digits": "12"}


def test_the_validator_reads_repeated_parameters_as_from_a_multidict():
    body = "Digits=1&Digits=2&CallSid=CA1&From=%2B919812345678"
    pairs = parse_qsl(body)
    validator = RequestValidator("token")
    url = "https://example.test/ivr/voice?lang=hi"
    ours = validator.compute_signature(url, WebhookParams(pairs))
    assert ours == validator.compute_signature(url, MultiDict(pairs))
    assert ours != validator.compute_signature(url, MultiDict(pairs[1:]))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "lang=hi&attempt=2&account=12",
        "lang=en&attempt=",  # a blank value
        "attempt=1&attempt=3",  # repeated: the first value, as request.args gives
        "name=a+b&x=%E0%A4%AC&y=%ZZ",  # escapes, a plus, a broken escape
        "flag&lang=hi",  # a bare name
        "a=1&&b=2",  # an empty pair
        "attempt=-1&account=%31",
    ],
)
def test_query_parameters_are_the_ones_request_args_gives(app, query):
    names = {name.partition("=")[0] for name in query.split("&")} | {"missing"}
    with app.test_request_context(f"/ivr/voice?{query}", method="POST"):
        ours = webhook_query()
        assert {name: ours.get(name) for name in names} == {
            name: request.args.get(name) for name in names
        }
