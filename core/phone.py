"""Phone numbers: parse what a caller ID says into E.164, and mask numbers for logs and screens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from core.models import MissedCallOutcome

WITHHELD_CALLER_IDS = frozenset(
    {"", "anonymous", "restricted", "private", "unknown", "unavailable", "blocked", "withheld"}
)
"""What carriers and Twilio put in ``From`` when the caller hides their number."""

TWILIO_ANONYMOUS = "+266696687"
"""Twilio's stand-in for a withheld number: 266696687 spells ANONYMOUS on a keypad."""

VISIBLE_DIGITS = 4
"""Digits left visible at the end of a masked number."""


@dataclass(frozen=True, slots=True)
class CallerNumber:
    """A caller ID read: the E.164 number when usable, else why not."""

    e164: str | None
    problem: MissedCallOutcome | None = None
    region: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


@lru_cache(maxsize=65_536)
def read_caller_id(raw: str, default_region: str, allowed_regions: frozenset[str]) -> CallerNumber:
    """Read a caller ID; ``09812345678`` and ``9812345678`` become ``+919812345678``."""
    text = raw.strip()
    if text.lower() in WITHHELD_CALLER_IDS or text == TWILIO_ANONYMOUS:
        return CallerNumber(None, MissedCallOutcome.WITHHELD)
    if _is_e164_indian_mobile(text):
        # The shape nearly every caller ID arrives in. Same answer as the general path
        # below, checked against the same phonenumbers metadata, for a tenth of the work.
        if allowed_regions and "IN" not in allowed_regions:
            return CallerNumber(text, MissedCallOutcome.NOT_ALLOWED, "IN")
        return CallerNumber(text, None, "IN")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return CallerNumber(None, MissedCallOutcome.INVALID)
    if not phonenumbers.is_valid_number(number):
        return CallerNumber(None, MissedCallOutcome.INVALID)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    region = phonenumbers.region_code_for_number(number)
    if allowed_regions and region not in allowed_regions:
        return CallerNumber(e164, MissedCallOutcome.NOT_ALLOWED, region)
    return CallerNumber(e164, None, region)


_E164_INDIA = re.compile(r"\+91(\d{10})")


@lru_cache(maxsize=1)
def _indian_mobile_pattern() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("IN")
    return re.compile(metadata.mobile.national_number_pattern)


def _is_e164_indian_mobile(text: str) -> bool:
    """Tell whether ``text`` is ``+91`` and a number phonenumbers' metadata calls mobile."""
    match = _E164_INDIA.fullmatch(text)
    return bool(match) and _indian_mobile_pattern().fullmatch(match.group(1)) is not None


def normalise(raw: str, default_region: str = "IN") -> str:
    """Return ``raw`` in E.164, or raise ``ValueError`` saying why it is not a number."""
    read = read_caller_id(raw, default_region, frozenset())
    if read.e164 is None:
        raise ValueError(f"not a valid phone number: {mask(raw)!r}")
    return read.e164


def mask(number: str | None) -> str:
    """Hide all but the last digits of a number: ``+91******5678``."""
    if not number:
        return ""
    digits = sum(ch.isdigit() for ch in number)
    keep = VISIBLE_DIGITS if digits > VISIBLE_DIGITS + 2 else max(digits - 2, 0)
    # A leading country code stays readable: it tells nothing about the person.
    shown_prefix = 2 if number.startswith("+") else 0
    seen = 0
    out = []
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - keep or seen <= shown_prefix else "*")
        else:
            out.append(ch)
    return "".join(out)


# A run of 8 or more digits (spaces and dashes allowed inside) not glued to letters, so a
# CallSid's hex stays readable.
_LONG_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\d[\d \-]{6,}\d(?!\w)")


def mask_in_text(text: str) -> str:
    """Mask every phone-number-like run of digits in free text (log lines)."""
    return _LONG_DIGIT_RUN.sub(lambda match: mask(match.group(0)), text)
