"""The operator floor: operators' states between calls, and the supervisors' wallboard.

An operator is **on a call** while they hold a callback (claimed or calling). Otherwise
their state is kept in ``operator_states``: **after-call work** starts when they record a
call's outcome and lasts ``AFTER_CALL_WORK_SECONDS`` or until they press "Ready";
**away** lasts until they press "Ready"; else they are **available**. Take-next offers a
callback only to an available operator (one primary-key read per take-next).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.exceptions import OperatorNotReady
from core.models import Callback, CallbackStatus, OperatorState, OperatorStatus, Role, User, utcnow
from core.models.attempts import CallAttempt

ON_CALL = "on_call"
"""The wallboard's name for an operator holding a callback."""

STATE_LABELS = {
    str(OperatorState.AVAILABLE): _l("Available"),
    ON_CALL: _l("On a call"),
    str(OperatorState.AFTER_CALL_WORK): _l("After-call work"),
    str(OperatorState.AWAY): _l("Away"),
}
"""Each state as the wallboard names it (in the page's language), in the order it lists them."""

HELD = (CallbackStatus.CLAIMED, CallbackStatus.CALLING)


def after_call_work() -> timedelta:
    """Return how long after-call work lasts (setting AFTER_CALL_WORK_SECONDS)."""
    return timedelta(seconds=max(int(current_app.config["AFTER_CALL_WORK_SECONDS"]), 0))


@dataclass(frozen=True)
class StateNow:
    """Where an operator stands now (after-call work that ran out reads as available)."""

    state: str
    since: datetime
    until: datetime | None = None  # when after-call work ends by itself


def state_now(row: OperatorStatus | None, now: datetime) -> StateNow | None:
    """Read a stored state as of ``now``; None when nothing was ever stored."""
    if row is None:
        return None
    if row.state == OperatorState.AFTER_CALL_WORK:
        ends = row.state_since + after_call_work()
        if ends <= now:
            return StateNow(str(OperatorState.AVAILABLE), ends)
        return StateNow(row.state, row.state_since, ends)
    return StateNow(row.state, row.state_since)


def set_state(session: Session, user_id: int, state: OperatorState, now: datetime) -> None:
    """Put an operator in ``state`` from ``now`` (the caller commits)."""
    row = session.get(OperatorStatus, user_id)
    if row is None:
        session.add(OperatorStatus(user_id=user_id, state=state, state_since=now))
    else:
        row.state, row.state_since = state, now


def require_ready(session: Session, user_id: int, now: datetime) -> None:
    """Refuse take-next to an operator in after-call work or away."""
    current = state_now(session.get(OperatorStatus, user_id), now)
    if current is None or current.state == OperatorState.AVAILABLE:
        return
    if current.state == OperatorState.AWAY:
        raise OperatorNotReady(_("You are marked away; press “Ready” to take callbacks again."))
    left = max(int((current.until - now).total_seconds()), 1) if current.until else 0
    raise OperatorNotReady(
        _(
            "After-call work: the next callback is offered in %(seconds)s s, or press “Ready”.",
            seconds=left,
        )
    )


# ---------------------------------------------------------------- the wallboard


@dataclass(frozen=True)
class OperatorRow:
    """One operator on the wallboard."""

    id: int
    name: str
    state: str
    seconds_in_state: int
    seconds_left: int | None  # of after-call work
    callback_id: int | None
    calls_today: int


def operator_rows(session: Session, now: datetime, day_start: datetime) -> list[OperatorRow]:
    """Return every active operator with their state now, longest in state first per state."""
    operators = session.scalars(
        select(User).where(User.active.is_(True), User.role == Role.OPERATOR).order_by(User.name)
    ).all()
    stored = {row.user_id: row for row in session.scalars(select(OperatorStatus))}
    held = {
        operator_id: (callback_id, claimed_at)
        for callback_id, operator_id, claimed_at in session.execute(
            select(Callback.id, Callback.claimed_by_id, Callback.claimed_at).where(
                Callback.status.in_(HELD), Callback.claimed_by_id.is_not(None)
            )
        )
    }
    calls = dict(
        session.execute(
            select(CallAttempt.operator_id, func.count(CallAttempt.id))
            .where(CallAttempt.created_at >= day_start)
            .group_by(CallAttempt.operator_id)
        ).all()
    )
    rows = []
    for operator in operators:
        if operator.id in held:
            callback_id, claimed_at = held[operator.id]
            current = StateNow(ON_CALL, claimed_at or now)
        else:
            callback_id = None
            current = state_now(stored.get(operator.id), now) or StateNow(
                str(OperatorState.AVAILABLE), operator.created_at
            )
        rows.append(
            OperatorRow(
                id=operator.id,
                name=operator.name,
                state=current.state,
                seconds_in_state=max(int((now - current.since).total_seconds()), 0),
                seconds_left=None
                if current.until is None
                else max(int((current.until - now).total_seconds()), 0),
                callback_id=callback_id,
                calls_today=int(calls.get(operator.id, 0)),
            )
        )
    order = list(STATE_LABELS)
    rows.sort(key=lambda row: (order.index(row.state), -row.seconds_in_state))
    return rows


def wallboard(session: Session) -> dict[str, object]:
    """Return the wallboard's figures now, as the page and its JSON show them."""
    from callcenter import dashboard

    now = utcnow()
    day = dashboard.today()
    day_start, _day_end = dashboard.day_bounds(day)
    figures = dashboard.dashboard_figures(session, day, now)
    due = session.scalar(
        select(func.count(Callback.id)).where(
            Callback.status == CallbackStatus.PENDING, Callback.due_at <= now
        )
    )
    oldest = session.scalar(
        select(func.min(Callback.first_missed_at)).where(Callback.status == CallbackStatus.PENDING)
    )
    if isinstance(oldest, str):  # SQLite hands back min() of a timestamp as text
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    rows = operator_rows(session, now, day_start)
    calls_today = session.scalar(
        select(func.count(CallAttempt.id)).where(CallAttempt.created_at >= day_start)
    )
    counts = {state: 0 for state in STATE_LABELS}
    for row in rows:
        counts[row.state] += 1
    return {
        "day": day.isoformat(),
        "pending": figures.pending_callbacks,
        "due": int(due or 0),
        "oldest_wait_minutes": None
        if oldest is None
        else max(int((now - oldest).total_seconds() // 60), 0),
        "calls_today": int(calls_today or 0),
        "sla_minutes": figures.sla_minutes,
        "sla_percent": None if figures.sla_share is None else round(figures.sla_share * 100),
        "sla_within": figures.within_sla,
        "sla_counted": figures.sla_counted,
        "states": [
            {"state": state, "label": str(label), "count": counts[state]}
            for state, label in STATE_LABELS.items()
        ],
        "operators": [
            {
                "id": row.id,
                "name": row.name,
                "state": row.state,
                "label": str(STATE_LABELS[row.state]),
                "seconds_in_state": row.seconds_in_state,
                "seconds_left": row.seconds_left,
                "callback_id": row.callback_id,
                "calls_today": row.calls_today,
            }
            for row in rows
        ],
    }
