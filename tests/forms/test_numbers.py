"""Application numbers: NC-2026-000123, formatted from a sequence and parsed back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from forms import (
    SERVICES,
    ApplicationNumber,
    format_application_number,
    parse_application_number,
)
from forms.exceptions import ApplicationNumberError


@pytest.mark.parametrize(
    ("prefix", "sequence", "year", "expected"),
    [
        ("NC", 123, 2026, "NC-2026-000123"),
        ("NT", 1, 2026, "NT-2026-000001"),
        ("TF", 999999, 2027, "TF-2027-999999"),
        ("CC", 1000000, 2030, "CC-2030-1000000"),
    ],
)
def test_format(prefix, sequence, year, expected):
    assert format_application_number(prefix, sequence, year) == expected


def test_year_defaults_to_the_current_year_in_india():
    india = ZoneInfo("Asia/Kolkata")
    before = datetime.now(india).year
    number = format_application_number("MR", 42)
    after = datetime.now(india).year

    assert number in {f"MR-{before}-000042", f"MR-{after}-000042"}


@pytest.mark.parametrize(
    ("prefix", "sequence", "year", "complaint"),
    [
        ("XX", 1, 2026, "unknown application-number prefix 'XX'"),
        ("nc", 1, 2026, "unknown application-number prefix 'nc'"),
        ("NC", 0, 2026, "sequence must be a whole number from 1"),
        ("NC", -5, 2026, "sequence must be a whole number from 1"),
        ("NC", "7", 2026, "sequence must be a whole number from 1"),
        ("NC", True, 2026, "sequence must be a whole number from 1"),
        ("NC", 1, 1999, "year must be a whole number from 2000 to 9999"),
        ("NC", 1, 10000, "year must be a whole number from 2000 to 9999"),
    ],
)
def test_format_refuses_bad_parts(prefix, sequence, year, complaint):
    with pytest.raises(ApplicationNumberError, match=complaint):
        format_application_number(prefix, sequence, year)


@pytest.mark.parametrize("prefix", ["NC", "NT", "MR", "DC", "TF", "LC", "CC"])
def test_every_prefix_round_trips(prefix):
    number = format_application_number(prefix, 314, 2026)

    parsed = parse_application_number(number)

    assert parsed == ApplicationNumber(prefix, 2026, 314)
    assert str(parsed) == number
    assert parsed.service is SERVICES[parsed.service.code]
    assert parsed.service.prefix == prefix


def test_parse_forgives_case_and_surrounding_spaces():
    assert parse_application_number("  nc-2026-000123 ") == ApplicationNumber("NC", 2026, 123)


def test_parse_reads_numbers_past_six_digits():
    assert parse_application_number("LC-2031-1234567") == ApplicationNumber("LC", 2031, 1234567)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NC-2026-123",
        "NC-26-000123",
        "NC2026000123",
        "NC-2026-000123-1",
        "NC 2026 000123",
        "NC-2026-00012A",
        "N-2026-000123",
        "NC-2026-0000123",
        "NC-2026-000000",
        "NC-1999-000001",
        None,
    ],
)
def test_parse_rejects_malformed_numbers(text):
    with pytest.raises(ApplicationNumberError) as caught:
        parse_application_number(text)

    assert caught.value.msg_id == "application_number.invalid"


def test_parse_names_an_unknown_prefix_clearly():
    with pytest.raises(ApplicationNumberError) as caught:
        parse_application_number("ZZ-2026-000123")

    assert caught.value.localized("en") == (
        "'ZZ' is not the prefix of any service; expected one of NC, NT, MR, DC, TF, LC, CC."
    )


def test_parse_error_in_both_languages():
    with pytest.raises(ApplicationNumberError) as caught:
        parse_application_number("NC-26-1")

    assert caught.value.localized("en") == (
        "'NC-26-1' is not an application number; expected, for example, NC-2026-000123."
    )
    assert caught.value.localized("hi") == (
        "'NC-26-1' आवेदन क्रमांक नहीं है; सही रूप है, जैसे NC-2026-000123।"
    )
