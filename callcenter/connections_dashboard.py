"""The connection clock's part of the supervisor dashboard: figures, overdue lines, CSV.

Definitions (the page shows them too):

- **Due today**: open applications (neither energised nor rejected) whose deadline falls
  on today's date in the DISCOM's time zone and has not passed. **Overdue**: open ones
  past their deadline.
- **Time to energise**: hours from the clock's start (``CONNECTION_CLOCK_STARTS``) to
  energisation, over the applications energised within the chosen days; median and
  90th percentile.
- **Within the limit**: energised by the deadline (days of the application's area class).
  **Within the incentive window**: energised within ``CONNECTION_INCENTIVE_HOURS`` of the
  start (12 h urban, 24 h rural by default). Shares are of the applications energised.
- Figures are given overall, per area (district / subdivision) and per engineer (who
  recorded the energisation).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from callcenter.dashboard import (
    _amount,
    _csv_line,
    _local,
    day_bounds,
    percentile,
    today,
)
from connections.reading import DUE_TODAY, OVERDUE, REJECTED, Reading, read_clock
from connections.stages import area_label
from core.models import User, utcnow
from core.models.applications import Application
from core.models.connections import ConnectionClock

DEFAULT_DAYS = 30
"""Days the connection figures cover unless a range is chosen (ending today)."""

ALERT_LINES = 20
"""Overdue applications named on the main dashboard; the rest are counted."""


@dataclass
class Group:
    """The figures of one area, one engineer, or all."""

    name: str
    energised: int = 0
    within_limit: int = 0
    within_incentive: int = 0
    open: int = 0
    overdue: int = 0
    compensation: Decimal = Decimal(0)
    hours: list[float] = field(default_factory=list)

    @property
    def median_hours(self) -> float | None:
        return percentile(self.hours, 0.5)

    @property
    def p90_hours(self) -> float | None:
        return percentile(self.hours, 0.9)

    @property
    def limit_share(self) -> float | None:
        return self.within_limit / self.energised if self.energised else None

    @property
    def incentive_share(self) -> float | None:
        return self.within_incentive / self.energised if self.energised else None

    def count(self, reading: Reading) -> None:
        """Add one application read now."""
        self.compensation += reading.compensation
        if reading.hours_to_energise is not None:
            self.energised += 1
            self.hours.append(reading.hours_to_energise)
            self.within_limit += bool(reading.within_limit)
            self.within_incentive += bool(reading.within_incentive)
        elif reading.state != REJECTED:
            self.open += 1
            self.overdue += reading.state == OVERDUE


@dataclass
class OverdueLine:
    """One overdue application as the dashboard names it."""

    application_id: int
    number: str
    area: str
    due_at: datetime
    days_late: int
    compensation: Decimal


@dataclass
class ConnectionFigures:
    """What the connection clock's dashboard shows."""

    first: date
    last: date
    due_today: int
    overdue: list[OverdueLine]
    overall: Group
    per_area: list[Group]
    per_engineer: list[Group]


def default_range() -> tuple[date, date]:
    """Return the days shown unless chosen: the last DEFAULT_DAYS, today included."""
    last = today()
    return last - timedelta(days=DEFAULT_DAYS - 1), last


def _population(first: date, last: date):  # type: ignore[no-untyped-def]
    """Clocks open now, or energised or rejected within the days (with their application)."""
    start, end = day_bounds(first, last)
    return (
        select(ConnectionClock, Application.number, User.name)
        .join(Application, Application.id == ConnectionClock.application_id)
        .outerjoin(User, User.id == ConnectionClock.energised_by_id)
        .where(
            or_(
                and_(ConnectionClock.energised_at.is_(None), ConnectionClock.rejected_at.is_(None)),
                and_(ConnectionClock.energised_at >= start, ConnectionClock.energised_at < end),
                and_(ConnectionClock.rejected_at >= start, ConnectionClock.rejected_at < end),
            )
        )
        .order_by(ConnectionClock.due_at, ConnectionClock.id)
    )


def connection_figures(
    session: Session, first: date, last: date, now: datetime | None = None
) -> ConnectionFigures:
    """Count the connection clock's figures for local days ``first`` to ``last``."""
    now = now or utcnow()
    overall = Group("All areas")
    areas: dict[str, Group] = {}
    engineers: dict[str, Group] = {}
    due_today = 0
    overdue: list[OverdueLine] = []
    for clock, number, engineer in session.execute(_population(first, last)):
        reading = read_clock(clock, now)
        area = area_label(clock)
        overall.count(reading)
        areas.setdefault(area, Group(area)).count(reading)
        if reading.hours_to_energise is not None:
            name = engineer or "—"
            engineers.setdefault(name, Group(name)).count(reading)
        due_today += reading.state == DUE_TODAY
        if reading.state == OVERDUE:
            overdue.append(
                OverdueLine(
                    clock.application_id,
                    number or str(clock.application_id),
                    area,
                    clock.due_at,
                    reading.days_late,
                    reading.compensation,
                )
            )
    return ConnectionFigures(
        first,
        last,
        due_today,
        overdue,
        overall,
        sorted(areas.values(), key=lambda group: group.name),
        sorted(engineers.values(), key=lambda group: group.name),
    )


def overdue_lines(session: Session, now: datetime | None = None) -> tuple[list[OverdueLine], int]:
    """Return the most overdue applications (ALERT_LINES at most) and how many there are."""
    now = now or utcnow()
    lines = []
    query = (
        select(ConnectionClock, Application.number)
        .join(Application, Application.id == ConnectionClock.application_id)
        .where(
            ConnectionClock.energised_at.is_(None),
            ConnectionClock.rejected_at.is_(None),
            ConnectionClock.due_at < now,
        )
        .order_by(ConnectionClock.due_at, ConnectionClock.id)
    )
    rows = session.execute(query).all()
    for clock, number in rows[:ALERT_LINES]:
        reading = read_clock(clock, now)
        lines.append(
            OverdueLine(
                clock.application_id,
                number or str(clock.application_id),
                area_label(clock),
                clock.due_at,
                reading.days_late,
                reading.compensation,
            )
        )
    return lines, len(rows)


CONNECTION_COLUMNS = (
    "application",
    "district",
    "subdivision",
    "area_type",
    "area_class",
    "clock_starts",
    "started_at",
    "due_at",
    "stage",
    "stage_at",
    "state",
    "energised_at",
    "engineer",
    "hours_to_energise",
    "within_limit",
    "within_incentive",
    "days_late",
    "compensation",
)


def connections_csv(session: Session, first: date, last: date) -> Iterator[str]:
    """Yield the CSV of the applications behind the figures: open now, or closed in the days."""
    now = utcnow()
    yield _csv_line(CONNECTION_COLUMNS)
    for clock, number, engineer in session.execute(_population(first, last)):
        reading = read_clock(clock, now)
        yield _csv_line(
            (
                number or clock.application_id,
                clock.district,
                clock.subdivision,
                clock.area_type,
                clock.area_class,
                clock.start_event,
                _local(clock.started_at),
                _local(clock.due_at),
                clock.stage,
                _local(clock.stage_at),
                reading.state,
                _local(clock.energised_at),
                engineer or "",
                "" if reading.hours_to_energise is None else f"{reading.hours_to_energise:.2f}",
                _yes_no(reading.within_limit),
                _yes_no(reading.within_incentive),
                reading.days_late,
                _amount(reading.compensation),
            )
        )
    session.rollback()


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")
