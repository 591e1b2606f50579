"""Reading a clock at a moment: days left or late, compensation owed, what the IVR says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connections.timeline import compensation, days_late, days_left
from core.extensions import db
from core.models import utcnow
from core.models.connections import ConnectionClock

OPEN, DUE_TODAY, OVERDUE, ENERGISED, REJECTED = (
    "open",
    "due_today",
    "overdue",
    "energised",
    "rejected",
)

HOUR_SECONDS = 3600


@dataclass(frozen=True)
class Reading:
    """One clock at one moment."""

    state: str
    days_left: int
    days_late: int
    compensation: Decimal
    # For an energised connection: hours from the clock's start, and the two targets met.
    hours_to_energise: float | None = None
    within_limit: bool | None = None
    within_incentive: bool | None = None


def read_clock(clock: ConnectionClock, now: datetime) -> Reading:
    """Read ``clock`` at ``now`` (an energised one is read at its energisation)."""
    if clock.rejected_at is not None:
        return Reading(REJECTED, 0, 0, Decimal(0))
    at = clock.energised_at or now
    late = days_late(clock.due_at, at)
    owed = compensation(clock.due_at, at)
    if clock.energised_at is not None:
        return Reading(
            ENERGISED,
            0,
            late,
            owed,
            hours_to_energise=(clock.energised_at - clock.started_at).total_seconds()
            / HOUR_SECONDS,
            within_limit=clock.energised_at <= clock.due_at,
            within_incentive=clock.energised_at <= clock.incentive_due_at,
        )
    left = days_left(clock.due_at, now)
    if late:
        return Reading(OVERDUE, 0, late, owed)
    return Reading(DUE_TODAY if left <= 0 else OPEN, max(left, 0), 0, owed)


def spoken(clock: ConnectionClock | None, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Return the prompts (key, values) the IVR adds to an open application's status."""
    if clock is None or not clock.is_open:
        return []
    reading = read_clock(clock, now)
    if reading.state == OVERDUE:
        return [("connection_overdue", {"days": reading.days_late})]
    if reading.state == DUE_TODAY:
        return [("connection_due_today", {})]
    return [("connection_days_left", {"days": reading.days_left})]


def connection_clock_prompts(application_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Return what the IVR says of an application's clock now (nothing without one)."""
    clock = db.session.scalar(
        select(ConnectionClock).where(ConnectionClock.application_id == application_id)
    )
    return spoken(clock, utcnow())
