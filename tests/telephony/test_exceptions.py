"""Telephony errors say whether the provider may have acted on a request it never answered."""

from __future__ import annotations

import pytest
import requests

from telephony.exceptions import TransientTelephonyError


def _raised_from(cause: Exception) -> TransientTelephonyError:
    try:
        try:
            raise cause
        except requests.RequestException as exc:
            raise TransientTelephonyError(f"unreachable: {type(exc).__name__}") from exc
    except TransientTelephonyError as error:
        return error
    raise AssertionError("not raised")


@pytest.mark.parametrize(
    ("cause", "may_have_been_taken"),
    [
        (requests.ReadTimeout("read timed out"), True),  # the request went out whole
        (requests.ConnectTimeout("connect timed out"), False),  # it never left
        (requests.ConnectionError("refused"), False),
    ],
)
def test_only_a_read_timeout_may_have_been_taken(cause, may_have_been_taken):
    assert _raised_from(cause).may_have_been_taken is may_have_been_taken


def test_an_error_the_provider_answered_was_not_taken():
    assert TransientTelephonyError("Twilio 503", status=503).may_have_been_taken is False
