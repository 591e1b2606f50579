"""Application numbers: NC-2026-000123 (service prefix, year, sequence).

The sequence value comes from the database (one sequence, so numbers are unique); this
module only turns it into the number read to consumers and sent by SMS, and back.
Each number has exactly one spelling: upper-case prefix, four-digit year, and the sequence
zero-padded to six digits (wider only once it passes 999999).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from forms.exceptions import ApplicationNumberError
from forms.registry import PREFIXES, ServiceSpec, service_for_prefix

SEQUENCE_WIDTH = 6
"""Digits the sequence is padded to; six fit a DISCOM's yearly applications comfortably."""

MIN_YEAR = 2000
MAX_YEAR = 9999

INDIA_TIME = ZoneInfo("Asia/Kolkata")
"""The year of a number is the year in India when it was issued."""

APPLICATION_NUMBER_PATTERN = re.compile(
    rf"(?P<prefix>[A-Z]{{2}})-(?P<year>[0-9]{{4}})-(?P<sequence>[0-9]{{{SEQUENCE_WIDTH},}})"
)


class ApplicationNumber(NamedTuple):
    """The parts of an application number."""

    prefix: str
    year: int
    sequence: int

    @property
    def service(self) -> ServiceSpec:
        """Return the service the number belongs to."""
        return service_for_prefix(self.prefix)

    def __str__(self) -> str:
        return format_application_number(self.prefix, self.sequence, self.year)


def format_application_number(prefix: str, sequence: int, year: int | None = None) -> str:
    """Return the application number for ``sequence``, e.g. NC-2026-000123.

    ``year`` defaults to the current year in India.
    """
    if prefix not in PREFIXES:
        raise ApplicationNumberError(
            f"unknown application-number prefix {prefix!r}; known: {', '.join(PREFIXES)}",
            msg_id="application_number.unknown_prefix",
            prefix=prefix,
            prefixes=", ".join(PREFIXES),
        )
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise ApplicationNumberError(f"sequence must be a whole number from 1, not {sequence!r}")
    if year is None:
        year = datetime.now(INDIA_TIME).year
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ApplicationNumberError(
            f"year must be a whole number from {MIN_YEAR} to {MAX_YEAR}, not {year!r}"
        )
    return f"{prefix}-{year:04d}-{sequence:0{SEQUENCE_WIDTH}d}"


def parse_application_number(text: str) -> ApplicationNumber:
    """Return the parts of an application number, as typed or read out by a consumer.

    Surrounding spaces and lower case are forgiven; anything else malformed raises
    ApplicationNumberError.
    """
    candidate = text.strip().upper() if isinstance(text, str) else ""
    match = APPLICATION_NUMBER_PATTERN.fullmatch(candidate)
    if match is None:
        raise ApplicationNumberError(
            f"{text!r} is not an application number like NC-2026-000123",
            msg_id="application_number.invalid",
            text=text,
        )
    prefix, year, sequence = match["prefix"], int(match["year"]), int(match["sequence"])
    try:
        canonical = format_application_number(prefix, sequence, year)
    except ApplicationNumberError as exc:
        if exc.msg_id is not None:
            raise
        raise ApplicationNumberError(
            f"{text!r} is not an application number: {exc}",
            msg_id="application_number.invalid",
            text=text,
        ) from exc
    if canonical != candidate:
        # Extra leading zeros (NC-2026-0000123) would give one application two numbers.
        raise ApplicationNumberError(
            f"{text!r} is not written as issued; expected {canonical}",
            msg_id="application_number.invalid",
            text=text,
        )
    return ApplicationNumber(prefix, year, sequence)
