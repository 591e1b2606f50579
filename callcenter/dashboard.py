"""The supervisor dashboard's figures and charts, and the CSV exports.

Definitions (the dashboard shows them too):

- **A day** is a calendar day in the call centre's time zone (setting ``TIMEZONE``); the
  day's callbacks are those whose first missed call fell on it.
- **Wait** runs from a callback's first missed call to the moment the consumer was first
  reached: the ``answered_at`` of its first call attempt whose outcome is "answered".
  The median and 90th percentile are over the day's callbacks reached so far, in clock
  minutes. **Wait to claim** is the same up to an operator's first claim of the callback
  (the audit trail's first "claim"), shown beside it: it tells queue delay from calling delay.
- **Reached within the SLA**: the share of the day's callbacks reached within ``SLA_MINUTES``
  (default 120) *working* minutes, working time being calling hours (``CALLING_HOURS``,
  days off and holidays). A callback not reached yet counts against the SLA once its
  working wait passes the SLA, and is left out while it still has time.
- **Attempts per callback**: the mean of the day's callbacks' attempt counters (calls that
  rang the consumer).
- **Queue length** at a moment: callbacks open then (created, not yet closed).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session

from core.config import settings
from core.hours import CallingHours, calling_hours
from core.models import (
    OPEN_CALLBACK_STATUSES,
    Callback,
    CallbackStatus,
    MissedCall,
    User,
    utcnow,
)
from core.models.applications import Application
from core.models.attempts import AttemptOutcome, CallAttempt
from core.models.console import AuditEvent
from core.phone import mask

MAX_EXPORT_DAYS = 366
"""Longest date range one CSV export may cover."""

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
"""The dates a dashboard or an export may ask for: records of this century's systems, and
days whose bounds in UTC stay within what a datetime holds (9999-12-31 has no next day)."""

EXPORT_BATCH = 500
"""Rows read from the database at a time while a CSV streams."""

VISIBLE_ACCOUNT_DIGITS = 4
"""Characters of an account number left readable in exports."""

HOURS_IN_DAY = 24
CLAIM_ACTION = "claim"
"""The audit action the console records when an operator claims a callback."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a cell as a formula."""


class DashboardError(ValueError):
    """A date or range a supervisor asked for cannot be used; the message says why."""


# ---------------------------------------------------------------- settings and days


def zone() -> ZoneInfo:
    """Return the call centre's time zone."""
    return settings().zone


def sla_minutes() -> int:
    """Return the SLA in working minutes (setting SLA_MINUTES)."""
    return settings().SLA_MINUTES


def parse_day(text: str | None, *, name: str = "day") -> date:
    """Read a YYYY-MM-DD date; DashboardError with a clear message otherwise."""
    if not text:
        raise DashboardError(
            _("'%(name)s' is missing; give a date as YYYY-MM-DD, e.g. 2026-01-31", name=name)
        )
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise DashboardError(
            _(
                "'%(name)s' must be a date as YYYY-MM-DD, e.g. 2026-01-31, not %(text)r",
                name=name,
                text=text,
            )
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DashboardError(
            _(
                "'%(name)s' must be a date from %(first)s to %(last)s, not %(day)s",
                name=name,
                first=FIRST_DAY,
                last=LAST_DAY,
                day=day,
            )
        )
    return day


def parse_range(start: str | None, end: str | None) -> tuple[date, date]:
    """Read a from/to pair of dates (both included); DashboardError when unusable."""
    first = parse_day(start, name="from")
    last = parse_day(end, name="to")
    if last < first:
        raise DashboardError(
            _("'to' (%(last)s) is before 'from' (%(first)s)", last=last, first=first)
        )
    if (last - first).days + 1 > MAX_EXPORT_DAYS:
        raise DashboardError(_("a range may cover at most %(days)s days", days=MAX_EXPORT_DAYS))
    return first, last


def day_bounds(first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """Return the UTC instants where local day ``first`` starts and ``last`` (or it) ends."""
    tz = zone()
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine((last or first) + timedelta(days=1), time(0), tz)
    return start, end


def today() -> date:
    """Return today's date in the call centre's time zone."""
    return utcnow().astimezone(zone()).date()


# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the ``fraction`` percentile of ``values`` by linear interpolation (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def working_minutes(start: datetime, end: datetime, hours: CallingHours) -> float:
    """Return the minutes between ``start`` and ``end`` that fall inside calling hours."""
    if end <= start:
        return 0.0
    total = timedelta()
    day = start.astimezone(hours.zone).date()
    last_day = end.astimezone(hours.zone).date()
    while day <= last_day:
        if day.weekday() not in hours.days_off and day not in hours.holidays:
            opens = datetime.combine(day, hours.opens, hours.zone)
            closes = datetime.combine(day, hours.closes, hours.zone)
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 60


# ---------------------------------------------------------------- figures


@dataclass
class DashboardFigures:
    """What the dashboard shows for one day."""

    day: date
    missed_calls: int
    pending_callbacks: int
    callbacks: int
    reached: int
    median_wait: float | None
    p90_wait: float | None
    median_wait_to_claim: float | None
    p90_wait_to_claim: float | None
    sla_minutes: int
    within_sla: int
    sla_counted: int
    attempts_per_callback: float | None
    applications_per_operator: list[tuple[str, int]]
    missed_per_hour: list[int]
    queue_length: list[tuple[datetime, int]] = field(default_factory=list)

    @property
    def sla_share(self) -> float | None:
        """Return the share reached within the SLA, among the callbacks that count."""
        return self.within_sla / self.sla_counted if self.sla_counted else None


def first_answers(session: Session, callback_ids: Iterable[int]) -> dict[int, datetime]:
    """Return, per callback, when its consumer first answered one of our calls."""
    ids = list(callback_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(CallAttempt.callback_id, func.min(CallAttempt.answered_at))
        .where(
            CallAttempt.callback_id.in_(ids),
            CallAttempt.outcome == AttemptOutcome.ANSWERED,
            CallAttempt.answered_at.is_not(None),
        )
        .group_by(CallAttempt.callback_id)
    ).all()
    return {callback_id: _aware(at) for callback_id, at in rows if at is not None}


def first_claims(session: Session, callback_ids: Iterable[int]) -> dict[int, datetime]:
    """Return, per callback, when an operator first claimed it (from the audit trail)."""
    ids = list(callback_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(AuditEvent.entity_id, func.min(AuditEvent.at))
        .where(
            AuditEvent.entity == "callback",
            AuditEvent.entity_id.in_(ids),
            AuditEvent.action == CLAIM_ACTION,
        )
        .group_by(AuditEvent.entity_id)
    ).all()
    return {callback_id: _aware(at) for callback_id, at in rows if at is not None}


def _aware(value: datetime | str) -> datetime:
    # min() keeps the column's type on both databases; this is a guard, should a driver
    # ever hand back SQLite's text or a naive value.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def dashboard_figures(session: Session, day: date, now: datetime | None = None) -> DashboardFigures:
    """Compute the dashboard's figures for local ``day``."""
    now = now or utcnow()
    start, end = day_bounds(day)
    hours = calling_hours()
    sla = sla_minutes()

    missed_times = session.scalars(
        select(MissedCall.received_at).where(
            MissedCall.received_at >= start, MissedCall.received_at < end
        )
    ).all()
    tz = zone()
    missed_per_hour = [0] * HOURS_IN_DAY
    for received in missed_times:
        missed_per_hour[received.astimezone(tz).hour] += 1

    pending = session.scalar(
        select(func.count(Callback.id)).where(Callback.status == CallbackStatus.PENDING)
    )

    callbacks = session.scalars(
        select(Callback).where(Callback.first_missed_at >= start, Callback.first_missed_at < end)
    ).all()
    ids = [callback.id for callback in callbacks]
    answers = first_answers(session, ids)
    claims = first_claims(session, ids)

    waits: list[float] = []
    claim_waits: list[float] = []
    within = counted = 0
    for callback in callbacks:
        reached_at = answers.get(callback.id)
        claimed_at = claims.get(callback.id)
        if claimed_at is not None:
            claim_waits.append(_minutes(claimed_at - callback.first_missed_at))
        if reached_at is not None:
            waits.append(_minutes(reached_at - callback.first_missed_at))
            counted += 1
            if working_minutes(callback.first_missed_at, reached_at, hours) <= sla:
                within += 1
        elif not callback.is_open or working_minutes(callback.first_missed_at, now, hours) > sla:
            # Closed without being reached, or out of time: a miss. Otherwise it may yet make it.
            counted += 1

    attempts = [callback.attempts for callback in callbacks]
    per_operator = session.execute(
        select(func.coalesce(User.name, "—"), func.count(Application.id))
        .select_from(Application)
        .outerjoin(User, User.id == Application.operator_id)
        .where(Application.submitted_at >= start, Application.submitted_at < end)
        .group_by(User.name)
        .order_by(func.count(Application.id).desc(), User.name)
    ).all()

    return DashboardFigures(
        day=day,
        missed_calls=len(missed_times),
        pending_callbacks=pending or 0,
        callbacks=len(callbacks),
        reached=len(waits),
        median_wait=percentile(waits, 0.5),
        p90_wait=percentile(waits, 0.9),
        median_wait_to_claim=percentile(claim_waits, 0.5),
        p90_wait_to_claim=percentile(claim_waits, 0.9),
        sla_minutes=sla,
        within_sla=within,
        sla_counted=counted,
        attempts_per_callback=sum(attempts) / len(attempts) if attempts else None,
        applications_per_operator=[(str(name), int(count)) for name, count in per_operator],
        missed_per_hour=missed_per_hour,
        queue_length=queue_length_over_day(session, day, now),
    )


def _minutes(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0) / 60


def queue_length_over_day(
    session: Session, day: date, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """Return the number of open callbacks at each hour of ``day`` (up to now), and now.

    Each sample is taken at the top of its hour; for today a last sample is taken now, so
    callbacks that came in during the hour under way are counted.
    """
    now = now or utcnow()
    start, end = day_bounds(day)
    # The callbacks open at some moment of the day, in three parts each read through an
    # index (one condition over a year of callbacks would read them all): opened during
    # the day, opened before it and closed after its start, and opened before it and open.
    # A callback opens with its first missed call (the intake writes both times as one).
    opened_at = Callback.first_missed_at
    opened_before = opened_at < start
    columns = (opened_at, Callback.closed_at)
    rows = session.execute(
        union_all(
            select(*columns).where(opened_at >= start, opened_at < end),
            select(*columns).where(opened_before, Callback.closed_at > start),
            select(*columns).where(
                opened_before,
                Callback.status.in_(OPEN_CALLBACK_STATUSES),
                Callback.closed_at.is_(None),
            ),
        )
    ).all()
    samples = []
    moments = [start + timedelta(hours=hour) for hour in range(HOURS_IN_DAY + 1)]
    if start <= now < end:
        # Today: the hours begun so far and this very moment, so the chart ends where the
        # "pending now" figure stands instead of at the top of the hour.
        moments = [at for at in moments if at <= now] + [now]
    for at in moments:
        if at > now:
            break
        open_then = sum(
            1 for created, closed in rows if created <= at and (closed is None or closed > at)
        )
        samples.append((at, open_then))
    return samples


# ---------------------------------------------------------------- charts (inline SVG)

CHART_WIDTH = 480
"""Narrow enough that the labels stay legible when a phone shrinks the chart to its width."""
CHART_HEIGHT = 240
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 40, 8, 14, 26
"""Room around the plot: the scale on the left, the hours below."""
LABEL_SIZE = 13
HOUR_LABEL_EVERY = 3
"""With a label under every hour, 24 of them crowd each other; every third is enough."""


def nice_scale(peak: int, ticks: int = 4) -> list[int]:
    """Return round tick values from 0 up to at least ``peak`` (about ``ticks`` steps)."""
    if peak <= 0:
        return [0, 1]
    rough = peak / ticks
    magnitude = 10 ** max(math.floor(math.log10(rough)), 0)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    top = math.ceil(peak / step) * step
    return list(range(0, top + 1, step))


def sample_label(at: datetime) -> str:
    """Name a queue-length sample: its hour, or hour and minute for the one taken now."""
    local = at.astimezone(zone())
    on_the_hour = local.minute == 0 and local.second == 0 and local.microsecond == 0
    return local.strftime("%H" if on_the_hour else "%H:%M")


def _plot() -> tuple[float, float, float]:
    """Return the plot's bottom, width and height inside the chart."""
    width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    return PLOT_TOP + height, width, height


def _scale_svg(scale: list[int]) -> str:
    """Draw the value scale: a labelled gridline per tick, and the axes."""
    bottom, width, height = _plot()
    parts = []
    for value in scale:
        y = bottom - height * value / scale[-1]
        parts.append(
            f'<line x1="{PLOT_LEFT}" y1="{y:.1f}" x2="{PLOT_LEFT + width}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text class="tick" x="{PLOT_LEFT - 4}" y="{y + 4:.1f}" '
            f'font-size="{LABEL_SIZE}" text-anchor="end">{value}</text>'
        )
    parts.append(
        f'<line x1="{PLOT_LEFT}" y1="{bottom}" x2="{PLOT_LEFT + width}" y2="{bottom}" '
        f'stroke="#333"/><line x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_LEFT}" '
        f'y2="{bottom}" stroke="#333"/>'
    )
    return "".join(parts)


def _x_label(x: float, label: str, index: int, count: int) -> str:
    last = index == count - 1
    if count > 12 and index % HOUR_LABEL_EVERY and not last:
        return ""
    # The last label (the sample taken now, "16:52") ends at its point, inside the chart.
    anchor = "end" if last and count > 1 else "middle"
    return (
        f'<text x="{x:.1f}" y="{CHART_HEIGHT - 8}" font-size="{LABEL_SIZE}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def bar_chart_svg(values: Sequence[int], labels: Sequence[str], title: str) -> Markup:
    """Draw ``values`` as an SVG bar chart, one bar per label, with ``title`` for screen readers."""
    scale = nice_scale(max(values, default=0))
    bottom, width, height = _plot()
    slot = width / max(len(values), 1)
    parts = [_svg_open(title), _scale_svg(scale)]
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar = height * value / scale[-1]
        x = PLOT_LEFT + index * slot
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{bottom - bar:.1f}" width="{max(slot - 2, 1):.1f}" '
            f'height="{bar:.1f}" fill="#2b6cb0"><title>{escape(label)}: {value}</title></rect>'
        )
        parts.append(_x_label(x + slot / 2, label, index, len(values)))
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart_svg(points: Sequence[tuple[str, int]], title: str) -> Markup:
    """Draw (label, value) points as an SVG line, with ``title`` for screen readers."""
    scale = nice_scale(max((value for _, value in points), default=0))
    bottom, width, height = _plot()
    step = width / max(len(points) - 1, 1)
    coords = [
        (PLOT_LEFT + index * step, bottom - height * value / scale[-1])
        for index, (_, value) in enumerate(points)
    ]
    parts = [_svg_open(title), _scale_svg(scale)]
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#c05621" stroke-width="2"/>')
    for index, ((x, y), (label, value)) in enumerate(zip(coords, points, strict=True)):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#c05621">'
            f"<title>{escape(label)}: {value}</title></circle>"
        )
        parts.append(_x_label(x, label, index, len(points)))
    parts.append("</svg>")
    return Markup("".join(parts))


def _svg_open(title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    )


# ---------------------------------------------------------------- CSV exports

CALLBACK_COLUMNS = (
    "callback_id",
    "phone",
    "language",
    "status",
    "priority",
    "missed_calls",
    "attempts",
    "first_missed_at",
    "last_missed_at",
    "first_claimed_at",
    "first_answered_at",
    "wait_minutes",
    "closed_at",
    "slot",
)

APPLICATION_COLUMNS = (
    "application_number",
    "service",
    "status",
    "phone",
    "account_number",
    "language",
    "operator",
    "demand_total",
    "callback_id",
    "created_at",
    "submitted_at",
)


def mask_account(value: str | None) -> str:
    """Hide all but the last characters of an account number."""
    if not value:
        return ""
    keep = min(VISIBLE_ACCOUNT_DIGITS, max(len(value) - 2, 0))
    return "*" * (len(value) - keep) + value[len(value) - keep :]


def callbacks_csv(session: Session, first: date, last: date) -> Iterator[str]:
    """Yield the CSV of callbacks first missed between local days ``first`` and ``last``."""
    start, end = day_bounds(first, last)
    yield _csv_line(CALLBACK_COLUMNS)
    query = (
        select(Callback)
        .where(Callback.first_missed_at >= start, Callback.first_missed_at < end)
        .order_by(Callback.first_missed_at, Callback.id)
    )
    for batch in _batches(session, query):
        ids = [callback.id for callback in batch]
        answers = first_answers(session, ids)
        claims = first_claims(session, ids)
        for callback in batch:
            answered = answers.get(callback.id)
            wait = _minutes(answered - callback.first_missed_at) if answered else None
            yield _csv_line(
                (
                    callback.id,
                    mask(callback.phone),
                    callback.language,
                    callback.status,
                    callback.priority,
                    callback.missed_call_count,
                    callback.attempts,
                    _local(callback.first_missed_at),
                    _local(callback.last_missed_at),
                    _local(claims.get(callback.id)),
                    _local(answered),
                    "" if wait is None else f"{wait:.1f}",
                    _local(callback.closed_at),
                    callback.slot or "",
                )
            )


def applications_csv(session: Session, first: date, last: date) -> Iterator[str]:
    """Yield the CSV of applications created between local days ``first`` and ``last``.

    Only columns of the application itself: the form's answers (names, addresses, any
    identity number) never leave in an export.
    """
    start, end = day_bounds(first, last)
    yield _csv_line(APPLICATION_COLUMNS)
    query = (
        select(Application, User.username)
        .outerjoin(User, User.id == Application.operator_id)
        .where(Application.created_at >= start, Application.created_at < end)
        .order_by(Application.created_at, Application.id)
    )
    for batch in _batches(session, query, rows=True):
        for application, username in batch:
            yield _csv_line(
                (
                    application.number or "",
                    application.service,
                    application.status,
                    mask(application.phone),
                    mask_account(application.account_number),
                    application.language,
                    username or "",
                    "" if application.demand_total is None else _amount(application.demand_total),
                    application.callback_id or "",
                    _local(application.created_at),
                    _local(application.submitted_at),
                )
            )


def _batches(session: Session, query: Select[Any], *, rows: bool = False) -> Iterator[list[Any]]:
    # Page by page, ending the read transaction between pages: a slow download then holds
    # no database connection while the client reads.
    offset = 0
    while True:
        page_query = query.limit(EXPORT_BATCH).offset(offset)
        batch = list(session.execute(page_query).all() if rows else session.scalars(page_query))
        if not batch:
            session.rollback()
            return
        yield batch
        session.rollback()
        offset += EXPORT_BATCH


def _amount(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01'))}"


def _local(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(zone()).isoformat(timespec="seconds")


def _csv_line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_safe_cell(value) for value in values])
    return buffer.getvalue()


def _safe_cell(value: object) -> object:
    # Masked phone numbers start with "+"; keep them, but defuse any other formula-looking
    # text (an operator's name "=HYPERLINK(…)") before it reaches a spreadsheet.
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not value[1:2].isdigit():
        return "'" + value
    return value
