"""Callback slots: the next start of a morning, afternoon or evening inside the calling hours."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.callback_slots import CallbackSlots, callback_slots
from core.config import SettingsError
from core.hours import CallingHours

IST = ZoneInfo("Asia/Kolkata")
DEFAULT = "morning=09:00-12:00,afternoon=12:00-16:00,evening=16:00-21:00"
HOURS = CallingHours.from_settings("09:00-21:00", "Asia/Kolkata", "sun", "2026-01-26")
SLOTS = CallbackSlots.from_settings(DEFAULT, HOURS)


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)


@pytest.mark.parametrize(
    ("slot", "at", "due"),
    [
        # 15 December 2026 is a Tuesday.
        ("morning", ist(2026, 12, 15, 8, 0), ist(2026, 12, 15, 9, 0)),  # before: its start
        ("morning", ist(2026, 12, 15, 10, 30), ist(2026, 12, 15, 10, 30)),  # inside: now
        ("morning", ist(2026, 12, 15, 11, 59), ist(2026, 12, 15, 11, 59)),
        ("morning", ist(2026, 12, 15, 12, 0), ist(2026, 12, 16, 9, 0)),  # ended: tomorrow's
        ("afternoon", ist(2026, 12, 15, 9, 0), ist(2026, 12, 15, 12, 0)),
        ("evening", ist(2026, 12, 15, 10, 0), ist(2026, 12, 15, 16, 0)),
        ("evening", ist(2026, 12, 15, 22, 0), ist(2026, 12, 16, 16, 0)),  # after hours
        ("morning", ist(2026, 12, 19, 13, 0), ist(2026, 12, 21, 9, 0)),  # Saturday: Sunday off
        ("morning", ist(2026, 12, 20, 8, 0), ist(2026, 12, 21, 9, 0)),  # on the day off
        ("afternoon", ist(2026, 1, 25, 10, 0), ist(2026, 1, 27, 12, 0)),  # Sunday, Republic Day
        (None, ist(2026, 12, 15, 23, 0), ist(2026, 12, 16, 9, 0)),  # no slot: next calling time
        (None, ist(2026, 12, 15, 17, 0), ist(2026, 12, 15, 17, 0)),
        ("midnight", ist(2026, 12, 15, 17, 0), ist(2026, 12, 15, 17, 0)),  # not on offer: soonest
    ],
)
def test_next_start_of_a_slot(slot, at, due):
    assert SLOTS.next_start(slot, at) == due


def test_answers_in_the_zone_it_was_asked_in():
    at = datetime(2026, 12, 15, 2, 30, tzinfo=UTC)  # 08:00 in India
    assert SLOTS.next_start("morning", at) == datetime(2026, 12, 15, 3, 30, tzinfo=UTC)


def test_slots_are_clipped_to_the_calling_hours_and_one_outside_is_not_offered():
    hours = CallingHours.from_settings("10:00-18:00", "Asia/Kolkata")
    slots = CallbackSlots.from_settings(DEFAULT.replace("16:00-21:00", "19:00-21:00"), hours)
    assert slots.names == ("morning", "afternoon")
    morning = slots.get("morning")
    assert (morning.opens, morning.closes) == (time(10), time(12))
    assert slots.next_start("morning", ist(2026, 12, 15, 8, 0)) == ist(2026, 12, 15, 10, 0)
    assert slots.get("evening") is None
    assert slots.next_start("evening", ist(2026, 12, 15, 8, 0)) == ist(2026, 12, 15, 10, 0)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("night=21:00-23:00", "night=21:00-23:00"),
        ("morning", "'morning'"),
        ("morning=9-12x", "morning must look like 09:00-12:00"),
        ("morning=12:00-09:00", "morning must look like 09:00-12:00"),
        ("morning=09:00-12:00,Morning=10:00-11:00", "names morning twice"),
    ],
)
def test_unreadable_slots_get_a_clear_error(value, named):
    with pytest.raises(SettingsError, match=named):
        CallbackSlots.from_settings(value, HOURS)


def test_bad_slots_stop_the_app_from_starting(make_app):
    with pytest.raises(SettingsError, match="CALLBACK_SLOTS"):
        make_app(CALLBACK_SLOTS="lunch=12:00-13:00")


def test_the_default_setting_offers_three_slots(app):
    with app.app_context():
        assert callback_slots().names == ("morning", "afternoon", "evening")
