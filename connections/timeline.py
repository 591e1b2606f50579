"""How long a connection may take: presets, area classes, deadlines, delay and compensation.

A timeline is read once from the settings (``CONNECTION_*``) when the app starts, and
checked then: a class without days or an unknown preset stops the start, not a payment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from core.config import mapping_setting, settings

URBAN, RURAL = "urban", "rural"
AREA_TYPES = (URBAN, RURAL)
"""The form's area types (forms.codes.AREA_TYPES): they choose the incentive window."""

DAY = timedelta(days=1)

START_EVENTS = ("payment", "submission", "demand")
"""Events the clock may count from. Today a demand note is priced when the application is
submitted, so "demand" and "submission" read the same time (``submitted_at``)."""


@dataclass(frozen=True)
class Preset:
    """A regulator's days per area class, and the class of each of the form's area types."""

    days: dict[str, int]
    class_of_area_type: dict[str, str]


PRESETS: dict[str, Preset] = {
    # CSPDCL's own target after payment.
    "cspdcl": Preset({URBAN: 3, RURAL: 5}, {URBAN: URBAN, RURAL: RURAL}),
    # The Electricity (Rights of Consumers) Rules 2020 as amended in February 2024. The form
    # says only urban or rural: a town is "municipal" unless CONNECTION_AREA_CLASSES names
    # its district metro, and a hilly rural area is named there too.
    "rights_rules_2024": Preset(
        {"metro": 3, "municipal": 7, RURAL: 15, "hilly_rural": 30},
        {URBAN: "municipal", RURAL: RURAL},
    ),
}


@dataclass(frozen=True)
class Timeline:
    """The settings of the connection clock, read and checked."""

    preset: str
    days: dict[str, int]
    class_of_area_type: dict[str, str]
    # Keys are "district" or "district/subdivision", case-folded.
    area_classes: dict[str, str]
    starts: str
    incentive_hours: dict[str, int]
    compensation_per_day: Decimal

    @classmethod
    def from_config(cls, config: Any) -> Timeline:
        """Read the ``CONNECTION_*`` settings; raise ``ValueError`` naming a bad one."""
        name = str(config["CONNECTION_TIMELINE"]).strip()
        if name not in PRESETS:
            raise ValueError(f"CONNECTION_TIMELINE must be one of {sorted(PRESETS)}, not {name!r}")
        preset = PRESETS[name]
        days = {**preset.days, **_counts(config["CONNECTION_DAYS"], "CONNECTION_DAYS")}
        area_classes = {
            _area_key(*split_area(key)): value.strip()
            for key, value in mapping_setting(config["CONNECTION_AREA_CLASSES"]).items()
        }
        unknown = sorted(
            {c for c in [*area_classes.values(), *preset.class_of_area_type.values()]} - set(days)
        )
        if unknown:
            raise ValueError(
                f"CONNECTION_AREA_CLASSES: no days for {unknown} in timeline {name!r} "
                f"(it has {sorted(days)}; add them to CONNECTION_DAYS)"
            )
        starts = str(config["CONNECTION_CLOCK_STARTS"]).strip()
        if starts not in START_EVENTS:
            raise ValueError(
                f"CONNECTION_CLOCK_STARTS must be one of {START_EVENTS}, not {starts!r}"
            )
        incentive = _counts(config["CONNECTION_INCENTIVE_HOURS"], "CONNECTION_INCENTIVE_HOURS")
        if set(incentive) != set(AREA_TYPES):
            raise ValueError("CONNECTION_INCENTIVE_HOURS must give hours for urban and rural")
        try:
            rate = Decimal(str(config["CONNECTION_COMPENSATION_PER_DAY"]).strip())
        except InvalidOperation:
            rate = Decimal(-1)
        if not rate.is_finite() or rate < 0:
            raise ValueError("CONNECTION_COMPENSATION_PER_DAY must be rupees, 0 or more")
        return cls(
            name, days, dict(preset.class_of_area_type), area_classes, starts, incentive, rate
        )

    def area_class(self, area_type: str, district: str, subdivision: str = "") -> str:
        """Return the class an area's days are counted for: named in the settings, else by type."""
        for key in (_area_key(district, subdivision), _area_key(district, "")):
            if key in self.area_classes:
                return self.area_classes[key]
        return self.class_of_area_type.get(area_type, self.class_of_area_type[RURAL])

    def allowed(self, area_class: str) -> timedelta:
        """Return the time allowed to energise a connection in ``area_class``."""
        return self.days[area_class] * DAY

    def incentive_window(self, area_type: str) -> timedelta:
        """Return the time within which staff earn incentive points."""
        return timedelta(hours=self.incentive_hours.get(area_type, self.incentive_hours[RURAL]))


def _counts(value: str | dict[str, str], setting: str) -> dict[str, int]:
    counts = {}
    for key, text in mapping_setting(value).items():
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise ValueError(f"{setting}: {key}={text!r} is not a whole number of 1 or more")
        counts[key] = int(text)
    return counts


def split_area(area: str) -> tuple[str, str]:
    """Split "District/Subdivision" (or "District") into its two parts, trimmed."""
    district, _, subdivision = area.partition("/")
    return district.strip(), subdivision.strip()


def _area_key(district: str, subdivision: str) -> str:
    return f"{district}/{subdivision}".casefold() if subdivision else district.casefold()


def init_app(app: Flask) -> None:
    """Read and check the timeline (a bad setting stops the app from starting)."""
    app.extensions["connection_timeline"] = Timeline.from_config(app.config)


def timeline() -> Timeline:
    """Return the app's timeline."""
    return current_app.extensions["connection_timeline"]


def zone() -> ZoneInfo:
    """Return the DISCOM's time zone: days are counted on its calendar."""
    return settings().zone


def days_late(due_at: datetime, at: datetime) -> int:
    """Return the days of delay at ``at``: each day begun after the deadline counts."""
    if at <= due_at:
        return 0
    return math.ceil((at - due_at) / DAY)


def compensation(due_at: datetime, at: datetime) -> Decimal:
    """Return the compensation owed at ``at`` for a connection due at ``due_at``."""
    return timeline().compensation_per_day * days_late(due_at, at)


def local_day(at: datetime) -> date:
    """Return the DISCOM's calendar date at ``at``."""
    return at.astimezone(zone()).date()


def days_left(due_at: datetime, now: datetime) -> int:
    """Return the calendar days from today to the deadline's day (0: due today)."""
    return (local_day(due_at) - local_day(now)).days
