"""The timeline: days per area class from the presets and settings, delay and compensation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connections.timeline import Timeline, compensation, days_late, days_left
from core.config import DEFAULTS
from tests.connections.support import clock_of, make_application, paid_application, pay

PAID_AT = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)  # 10:00 in Asia/Kolkata


def settings(**changes: object) -> dict[str, object]:
    return {**DEFAULTS, **changes}


def test_cspdcl_is_the_default_three_days_urban_five_rural():
    rules = Timeline.from_config(settings())
    assert rules.area_class("urban", "Raipur") == "urban"
    assert rules.allowed("urban") == timedelta(days=3)
    assert rules.allowed(rules.area_class("rural", "Bastar")) == timedelta(days=5)
    assert rules.incentive_window("urban") == timedelta(hours=12)
    assert rules.incentive_window("rural") == timedelta(hours=24)


def test_the_2024_rules_preset_and_named_areas():
    rules = Timeline.from_config(
        settings(
            CONNECTION_TIMELINE="rights_rules_2024",
            CONNECTION_AREA_CLASSES="Raipur=metro, Bastar/Bakawand=hilly_rural",
        )
    )
    # A town the settings do not name is a municipal area; a village a rural one.
    assert rules.allowed(rules.area_class("urban", "Durg")) == timedelta(days=7)
    assert rules.allowed(rules.area_class("rural", "Durg")) == timedelta(days=15)
    # Named districts and subdivisions, whatever the case the form used.
    assert rules.allowed(rules.area_class("urban", "raipur", "Abhanpur")) == timedelta(days=3)
    assert rules.allowed(rules.area_class("rural", "Bastar", "bakawand")) == timedelta(days=30)
    assert rules.area_class("rural", "Bastar", "Jagdalpur") == "rural"


def test_days_can_be_changed_per_class():
    rules = Timeline.from_config(settings(CONNECTION_DAYS="urban=2"))
    assert rules.allowed("urban") == timedelta(days=2)
    assert rules.allowed("rural") == timedelta(days=5)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"CONNECTION_TIMELINE": "delhi"}, "CONNECTION_TIMELINE"),
        ({"CONNECTION_AREA_CLASSES": "Raipur=metro"}, "CONNECTION_AREA_CLASSES"),
        ({"CONNECTION_DAYS": "urban=three"}, "CONNECTION_DAYS"),
        ({"CONNECTION_DAYS": "urban=0"}, "CONNECTION_DAYS"),
        ({"CONNECTION_CLOCK_STARTS": "inspection"}, "CONNECTION_CLOCK_STARTS"),
        ({"CONNECTION_INCENTIVE_HOURS": "urban=12"}, "CONNECTION_INCENTIVE_HOURS"),
        ({"CONNECTION_COMPENSATION_PER_DAY": "-5"}, "CONNECTION_COMPENSATION_PER_DAY"),
        ({"CONNECTION_COMPENSATION_PER_DAY": "fifty"}, "CONNECTION_COMPENSATION_PER_DAY"),
    ],
)
def test_a_bad_setting_stops_the_app_from_starting(make_app, changes, named):
    with pytest.raises(ValueError, match=named):
        make_app(**changes)


def test_each_day_begun_after_the_deadline_counts():
    due = PAID_AT + timedelta(days=5)
    assert days_late(due, due) == 0
    assert days_late(due, due + timedelta(minutes=1)) == 1
    assert days_late(due, due + timedelta(hours=24)) == 1
    assert days_late(due, due + timedelta(hours=25)) == 2


def test_compensation_is_the_rate_times_days_late(make_app):
    app = make_app(CONNECTION_COMPENSATION_PER_DAY="75.50")
    due = PAID_AT + timedelta(days=3)
    with app.app_context():
        assert compensation(due, due) == Decimal(0)
        assert compensation(due, due + timedelta(days=2, hours=1)) == Decimal("226.50")


def test_days_left_are_counted_on_the_discoms_calendar(app):
    with app.app_context():
        # 10:00 IST on the 2nd, due 23:00 IST on the 2nd: due today; at 01:00 IST on the 3rd
        # (still the 2nd in UTC) it is late, not "today".
        due = PAID_AT + timedelta(hours=13)
        assert days_left(due, PAID_AT) == 0
        assert days_left(PAID_AT + timedelta(days=5), PAID_AT) == 5
        assert days_left(due, datetime(2026, 3, 2, 19, 30, tzinfo=UTC)) == -1


def test_clock_from_payment_by_area_type(app):
    rural = paid_application(app, "NC-2026-000001", PAID_AT, area_type="rural")
    urban = paid_application(app, "NC-2026-000002", PAID_AT, area_type="urban", block="")
    clock = clock_of(app, rural)
    assert (clock.area_type, clock.area_class, clock.start_event) == ("rural", "rural", "payment")
    assert (clock.district, clock.subdivision) == ("Raipur", "Abhanpur")
    assert clock.due_at == PAID_AT + timedelta(days=5)
    assert clock.incentive_due_at == PAID_AT + timedelta(hours=24)
    assert clock_of(app, urban).due_at == PAID_AT + timedelta(days=3)
    assert clock_of(app, urban).incentive_due_at == PAID_AT + timedelta(hours=12)


def test_clock_from_submission_when_set(make_app):
    app = make_app(CONNECTION_CLOCK_STARTS="submission", CONNECTION_TIMELINE="rights_rules_2024")
    submitted = PAID_AT - timedelta(days=4)
    application_id = make_application(app, "NC-2026-000003", submitted_at=submitted)
    pay(app, application_id, PAID_AT)
    clock = clock_of(app, application_id)
    assert (clock.start_event, clock.started_at, clock.paid_at) == (
        "submission",
        submitted,
        PAID_AT,
    )
    assert clock.due_at == submitted + timedelta(days=15)
