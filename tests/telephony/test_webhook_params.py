"""Webhook parameters: read on the hot path, the same as Flask's own form parsing."""

from __future__ import annotations

import pytest
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from telephony.inbound import webhook_params

URLENCODED = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "body",
    [
        b"CallSid=CA123&From=%2B919812345678&To=%2B911800180000",
        b"Digits=1&Digits=2&Empty=&Flag",  # repeated, blank and bare names
        b"SpeechResult=%E0%A4%AC%E0%A4%BF%E0%A4%B2+%E0%A4%95%E0%A5%8D%E0%A4%AF%E0%A4%BE",
        b"Broken=%FF%FE&Plus=a+b%2Bc",  # escapes that are not UTF-8
        b"Raw=\xff\xfe",  # bytes that are not UTF-8 at all: no parameters
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


def test_a_form_over_the_size_limit_is_refused_as_flask_refuses_it(make_app):
    app = make_app(MAX_FORM_MEMORY_SIZE=100)
    body = b"Junk=" + b"x" * 200
    with app.test_request_context("/ivr/voice", method="POST", data=body, content_type=URLENCODED):
        with pytest.raises(RequestEntityTooLarge):
            webhook_params()
