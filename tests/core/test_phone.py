"""Phone numbers are read into E.164 and masked wherever they are shown or logged."""

from __future__ import annotations

import logging

import pytest

from core.logs import MaskNumbersFilter
from core.phone import mask, mask_in_text, normalise


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+919812345678", "+91******5678"),
        ("9812345678", "******5678"),
        ("+14155550100", "+14*****0100"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_keeps_only_the_last_digits(number, masked):
    assert mask(number) == masked


def test_numbers_in_free_text_are_masked():
    text = "callback for +919812345678 (alt 98123 45679), Aadhaar 2345 6789 0123, ticket 42"
    assert mask_in_text(text) == (
        "callback for +91******5678 (alt ***** *5679), Aadhaar **** **** 0123, ticket 42"
    )


def test_log_filter_masks_arguments_too():
    record = logging.LogRecord(
        "sampark", logging.INFO, __file__, 1, "SMS to %s", ("+919812345678",), None
    )
    MaskNumbersFilter().filter(record)
    assert record.getMessage() == "SMS to +91******5678"


def test_normalise_refuses_what_is_not_a_number():
    assert normalise("098123 45678") == "+919812345678"
    with pytest.raises(ValueError, match="not a valid phone number"):
        normalise("12345")
