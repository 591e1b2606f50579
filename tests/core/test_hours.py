"""Calling hours in Asia/Kolkata decide when a callback falls due."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.extensions import db
from core.hours import CallingHours, CallingHoursError
from core.models import Callback
from ivr.intake import record_missed_call
from telephony.records import InboundCall

IST = ZoneInfo("Asia/Kolkata")


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)


HOURS = CallingHours.from_settings("09:00-21:00", "Asia/Kolkata", "sun", "2026-01-26")


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (ist(2026, 12, 15, 10, 30), ist(2026, 12, 15, 10, 30)),  # inside: now
        (ist(2026, 12, 15, 23, 0), ist(2026, 12, 16, 9, 0)),  # late evening: next morning
        (ist(2026, 12, 15, 6, 45), ist(2026, 12, 15, 9, 0)),  # early morning: same day
        (ist(2026, 12, 15, 21, 0), ist(2026, 12, 16, 9, 0)),  # closing time is closed
        (ist(2026, 12, 19, 22, 0), ist(2026, 12, 21, 9, 0)),  # Saturday night: Sunday is off
        (ist(2026, 1, 25, 21, 30), ist(2026, 1, 27, 9, 0)),  # Sunday, then Republic Day
    ],
)
def test_next_calling_time(at, due):
    assert HOURS.next_open(at) == due


def test_answers_in_the_zone_it_was_asked_in():
    at = datetime(2026, 12, 15, 17, 30, tzinfo=UTC)  # 23:00 in India
    assert HOURS.next_open(at) == datetime(2026, 12, 16, 3, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "days_off", "holidays"),
    [
        ("9-21", "", ""),
        ("21:00-09:00", "", ""),
        ("09:00-21:00", "funday", ""),
        ("09:00-21:00", "", "26/01/2026"),
        ("09:00-21:00", "mon,tue,wed,thu,fri,sat,sun", ""),
    ],
)
def test_unreadable_settings_get_a_clear_error(window, days_off, holidays):
    with pytest.raises(CallingHoursError):
        CallingHours.from_settings(window, "Asia/Kolkata", days_off, holidays)


def test_missed_call_at_eleven_at_night_is_due_when_the_window_opens(make_app):
    app = make_app(CALLING_HOURS="09:00-21:00")
    call = InboundCall("CA" + "7" * 32, "+919812345678", "+911800180000", "ringing")
    with app.app_context():
        record_missed_call(call, now=ist(2026, 12, 15, 23, 0).astimezone(UTC))
        callback = db.session.scalars(select(Callback)).one()
        assert callback.due_at == ist(2026, 12, 16, 9, 0)
