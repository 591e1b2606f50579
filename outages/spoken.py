"""Times and reasons as people say them, for outage SMS and the IVR.

A restoration time is promised to the next quarter hour, never earlier than the record
says, and said the way people say it: "शाम साढ़े पाँच बजे" / "half past five in the
evening", with "today", "tomorrow" or the date before it. Hindi says 1:30 and 2:30 as
डेढ़ and ढाई, and a quarter to the hour with पौने and the next hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from voice_prompts.spoken import month_name

REASONS: dict[str, dict[str, str]] = {
    "maintenance": {"hi": "रखरखाव कार्य", "en": "maintenance work"},
    "line_fault": {"hi": "लाइन में खराबी", "en": "a line fault"},
    "transformer": {"hi": "ट्रांसफार्मर में खराबी", "en": "a transformer fault"},
    "tree_trimming": {"hi": "लाइन के पास पेड़ों की छँटाई", "en": "tree trimming near the lines"},
    "weather": {"hi": "खराब मौसम", "en": "bad weather"},
    "load_shedding": {"hi": "लोड शेडिंग", "en": "load shedding"},
    "other": {"hi": "तकनीकी कारण", "en": "technical reasons"},
}
"""Reason codes a supervisor chooses from, with the words the SMS says (DLT templates
take a reason as a value; free text would not match a registered template)."""

REASON_LABELS = {code: f"{words['en']} / {words['hi']}" for code, words in REASONS.items()}

DAY_PARTS_HI = {"morning": "सुबह", "afternoon": "दोपहर", "evening": "शाम", "night": "रात"}
DAY_PARTS_EN = {"morning": "am", "afternoon": "pm", "evening": "pm", "night": "pm"}


def day_part(hour: int) -> str:
    """Return the part of the day an hour (0–23) falls in, as Hindi speakers divide it."""
    if 4 <= hour < 12:
        return "morning"
    if 12 <= hour < 16:
        return "afternoon"
    if 16 <= hour < 20:
        return "evening"
    return "night"


def promised(at: datetime, zone: ZoneInfo) -> datetime:
    """Return ``at`` in local time, moved up to the next quarter hour."""
    local = at.astimezone(zone).replace(second=0, microsecond=0)
    if at.astimezone(zone).second or at.microsecond:
        local += timedelta(minutes=1)
    extra = (-local.minute) % 15
    return local + timedelta(minutes=extra)


def _twelve(hour: int) -> int:
    return hour % 12 or 12


def sms_time(at: datetime, zone: ZoneInfo, lang: str) -> str:
    """Return a date and time for an SMS: "5 दिसंबर शाम 5:30" / "5 December, 5:30 pm"."""
    local = promised(at, zone)
    clock = f"{_twelve(local.hour)}:{local.minute:02d}"
    month = month_name(local.month, lang)
    if lang == "hi":
        return f"{local.day} {month} {DAY_PARTS_HI[day_part(local.hour)]} {clock}"
    suffix = "am" if local.hour < 12 else "pm"
    return f"{local.day} {month}, {clock} {suffix}"


def reason_words(code: str, lang: str) -> str:
    """Return the reason's words in ``lang`` (English when the language has none)."""
    words = REASONS.get(code, REASONS["other"])
    return words.get(lang, words["en"])


@dataclass(frozen=True)
class Said:
    """One prompt of the catalogue and its values."""

    key: str
    values: dict[str, Any]


def restoration_prompts(at: datetime, now: datetime, zone: ZoneInfo) -> list[Said]:
    """Return the prompts that say when supply is expected back (``outage_back_*``)."""
    if at <= now:
        return [Said("outage_back_soon", {})]
    local = promised(at, zone)
    today = now.astimezone(zone).date()
    if local.date() == today:
        day = Said("outage_back_today", {})
    elif local.date() == today + timedelta(days=1):
        day = Said("outage_back_tomorrow", {})
    else:
        day = Said("outage_back_on", {"restore_date": local.date()})
    return [day, clock_prompt(local)]


def clock_prompt(local: datetime) -> Said:
    """Return the ``clock_*`` prompt saying a local time on the quarter hour."""
    part = day_part(local.hour)
    hour = _twelve(local.hour)
    if local.minute == 30 and hour in (1, 2):
        return Said(f"clock_{part}_{'one' if hour == 1 else 'two'}_thirty", {})
    if local.minute == 45:
        return Said(f"clock_{part}_quarter_to", {"hour": _twelve(local.hour + 1)})
    form = {0: "oclock", 15: "quarter_past", 30: "half_past"}[local.minute]
    return Said(f"clock_{part}_{form}", {"hour": hour})
