"""A caller on a feeder with a current outage hears of it, before the menu and at menu 3."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import utcnow
from core.models.consumers import SupplyFault
from core.models.outages import OutageKind, OutageState
from outages.records import close_outage
from outages.spoken import Said, clock_prompt, promised, restoration_prompts, sms_time
from tests.ivr.test_voice import answer, said, webhook
from tests.outages.conftest import new_outage, phone, planned, record

ZONE = ZoneInfo("Asia/Kolkata")
ON_FEEDER = phone(1)  # a Hindi-speaking consumer on FEEDER
ELSEWHERE = phone(101)  # on OTHER_FEEDER


@pytest.fixture()
def app(make_app, tmp_path):
    # No rendered prompts: every prompt is said with <Say>, whose text the tests read.
    return make_app(VOICE_PROMPTS_DIR=str(tmp_path / "prompts"))


def choose_language(client, key: str, caller: str):
    return answer(client, webhook(client, "/ivr/voice", caller=caller), key, caller=caller)


def at_local(hours_ahead: int, minute: int) -> datetime:
    """A time a few hours ahead, at ``minute`` past, kept on today's or tomorrow's date."""
    local = (utcnow() + timedelta(hours=hours_ahead)).astimezone(ZONE)
    return local.replace(minute=minute, second=0, microsecond=0)


def test_a_caller_on_the_feeder_hears_the_outage_before_the_menu(app, client, feeders):
    back = at_local(3, 30)
    record(app, new_outage(expected_restoration_at=back))
    english = choose_language(client, "2", phone(0))  # phone(0) speaks English, asks in English
    text = said(english)
    assert "Power is off in your area, and we know about it." in text
    day = "today" if back.date() == utcnow().astimezone(ZONE).date() else "tomorrow"
    assert f"Power is expected back {day}" in text
    assert "by half past" in text
    assert english.find("Redirect").text.startswith("/ivr/voice/menu")

    hindi = said(choose_language(client, "1", ON_FEEDER))
    assert "आपके इलाके में बिजली बंद है" in hindi
    assert "साढ़े" in hindi or "डेढ़" in hindi or "ढाई" in hindi

    # Somebody on another feeder hears only the welcome.
    assert "we know about it" not in said(choose_language(client, "2", ELSEWHERE))


def test_a_restored_or_future_outage_is_not_announced(app, client, feeders):
    outage_id = record(app, new_outage())
    with app.app_context():
        close_outage(outage_id, OutageState.RESTORED, None)
    record(app, planned(timedelta(days=1), 2, submission_key="c" * 32))
    assert "Power" not in said(choose_language(client, "2", phone(0)))


def test_a_fault_report_from_the_feeder_is_told_of_the_outage_and_may_still_be_made(
    app, client, feeders
):
    record(app, new_outage(OutageKind.PLANNED, reason_code="maintenance"))
    heard = webhook(client, "/ivr/voice/fault?lang=en", caller=phone(0))
    text = said(heard)
    assert "switched off for maintenance work" in text
    assert "You need not report it separately" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SupplyFault)) == 0
    # Their own fault (a burnt meter, say): 1 still records it.
    recorded = said(answer(client, heard, "1", caller=phone(0)))
    assert "Your complaint has been registered" in recorded
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SupplyFault)) == 1
    # From another feeder the fault step is as it always was.
    assert "To report that your power is off" in said(
        webhook(client, "/ivr/voice/fault?lang=en", caller=phone(101))
    )


def test_an_area_outage_reaches_callers_of_every_feeder_in_it(app, client, feeders):
    record(app, new_outage(scope="area", place="Ward 4", submission_key="d" * 32))
    assert "we know about it" in said(choose_language(client, "2", phone(100)))  # OTHER_FEEDER


@pytest.mark.parametrize(
    "hour, minute, key, values",
    [
        (17, 30, "clock_evening_half_past", {"hour": 5}),
        (13, 30, "clock_afternoon_one_thirty", {}),
        (2, 30, "clock_night_two_thirty", {}),
        (9, 0, "clock_morning_oclock", {"hour": 9}),
        (11, 45, "clock_morning_quarter_to", {"hour": 12}),
        (23, 45, "clock_night_quarter_to", {"hour": 12}),
        (12, 15, "clock_afternoon_quarter_past", {"hour": 12}),
        (0, 0, "clock_night_oclock", {"hour": 12}),
    ],
)
def test_times_are_said_as_people_say_them(hour, minute, key, values):
    assert clock_prompt(datetime(2026, 12, 5, hour, minute, tzinfo=ZONE)) == Said(key, values)


def test_restoration_is_promised_on_the_next_quarter_hour_never_earlier():
    now = datetime(2026, 12, 5, 10, 0, tzinfo=ZONE)
    assert promised(datetime(2026, 12, 5, 17, 31, tzinfo=ZONE), ZONE).strftime("%H:%M") == "17:45"
    assert promised(datetime(2026, 12, 5, 17, 30, tzinfo=ZONE), ZONE).strftime("%H:%M") == "17:30"
    assert restoration_prompts(datetime(2026, 12, 6, 8, 5, tzinfo=ZONE), now, ZONE) == [
        Said("outage_back_tomorrow", {}),
        Said("clock_morning_quarter_past", {"hour": 8}),
    ]
    assert restoration_prompts(now - timedelta(minutes=1), now, ZONE) == [
        Said("outage_back_soon", {})
    ]
    later = restoration_prompts(datetime(2026, 12, 8, 18, 0, tzinfo=ZONE), now, ZONE)
    assert later[0] == Said("outage_back_on", {"restore_date": datetime(2026, 12, 8).date()})
    at = datetime(2026, 12, 5, 17, 30, tzinfo=ZONE)
    assert sms_time(at, ZONE, "hi") == "5 दिसंबर शाम 5:30"
    assert sms_time(at, ZONE, "en") == "5 December, 5:30 pm"
