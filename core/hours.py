"""Calling hours: consumers are called (and SMS-ed about calls) only inside a daily window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.config import settings, split_list
from core.models import utcnow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MAX_DAYS_AHEAD = 366
"""Look this far ahead for an open day before calling the configuration impossible."""


class CallingHoursError(ValueError):
    """The calling-hours settings cannot be read."""


@dataclass(frozen=True)
class CallingHours:
    """A daily window in local time, minus weekly days off and holidays."""

    opens: time
    closes: time
    zone: ZoneInfo
    days_off: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(
        cls, window: str, zone: str, days_off: str = "", holidays: str = ""
    ) -> CallingHours:
        """Read ``"09:00-21:00"``, ``"sun"`` and ``"2026-01-26,2026-08-15"`` style settings."""
        try:
            opens, closes = (time.fromisoformat(part.strip()) for part in window.split("-"))
        except ValueError as exc:
            message = f"CALLING_HOURS must look like 09:00-21:00, not {window!r}"
            raise CallingHoursError(message) from exc
        if closes <= opens:
            raise CallingHoursError(f"CALLING_HOURS closes before it opens: {window!r}")
        try:
            off = frozenset(WEEKDAYS.index(day.lower()[:3]) for day in split_list(days_off))
        except ValueError as exc:
            raise CallingHoursError(f"CALLING_DAYS_OFF takes weekday names: {days_off!r}") from exc
        try:
            dates = frozenset(date.fromisoformat(day) for day in split_list(holidays))
        except ValueError as exc:
            message = f"CALLING_HOLIDAYS takes YYYY-MM-DD dates: {holidays!r}"
            raise CallingHoursError(message) from exc
        if len(off) == len(WEEKDAYS):
            raise CallingHoursError("CALLING_DAYS_OFF leaves no day to call on")
        return cls(opens, closes, ZoneInfo(zone), off, dates)

    def day_is_open(self, day: date) -> bool:
        """Tell whether ``day`` (a local date) is a calling day: no day off, no holiday."""
        return day.weekday() not in self.days_off and day not in self.holidays

    def is_open(self, at: datetime) -> bool:
        """Tell whether ``at`` falls inside calling hours."""
        local = at.astimezone(self.zone)
        return self.day_is_open(local.date()) and self.opens <= local.time() < self.closes

    def next_open(self, at: datetime) -> datetime:
        """Return ``at`` if calling hours are open then, else when they next open (in UTC)."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.zone)
        day = local.date() if local.time() < self.opens else local.date() + timedelta(days=1)
        for _ in range(MAX_DAYS_AHEAD):
            if self.day_is_open(day):
                return datetime.combine(day, self.opens, self.zone).astimezone(at.tzinfo)
            day += timedelta(days=1)
        raise CallingHoursError("no open day in the coming year; check CALLING_HOLIDAYS")


def calling_hours() -> CallingHours:
    """Return the app's calling hours (``CALLING_HOURS`` and the days off)."""
    return settings().calling_hours


def next_calling_time(at: datetime | None = None) -> datetime:
    """Return when a consumer may next be called, from ``at`` (now by default)."""
    return calling_hours().next_open(at or utcnow())
