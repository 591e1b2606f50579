"""The callback queue: its order, taking the next callback, releasing claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import literal, or_, select, update
from sqlalchemy.orm import Session

from callcenter.exceptions import CallbackNotFound, ClaimConflict
from callcenter.floor import require_ready
from core.audit import record_audit
from core.config import settings
from core.database import write_transaction
from core.extensions import db
from core.models import Callback, CallbackStatus, User, utcnow

AUDIT_ENTITY = "callback"
"""The audit trail's name for callbacks."""


HELD_STATUSES = (CallbackStatus.CLAIMED, CallbackStatus.CALLING)
"""Statuses in which a callback belongs to one operator."""

QUEUE_PAGE_SIZE = 200
"""Rows shown on the queue page; the rest wait behind them in the same order."""


def queue_order() -> tuple:
    """Return the queue's order: highest priority, then earliest due, then oldest."""
    return (Callback.priority.desc(), Callback.due_at.asc(), Callback.id.asc())


def speaks(languages: list[str]):
    """Return the condition that a callback needs no language or one of ``languages``."""
    return or_(Callback.required_language.is_(None), Callback.required_language.in_(languages))


def languages_of(user: User) -> list[str]:
    """Return the language codes an operator speaks."""
    return [code.strip() for code in (user.languages or "").split(",") if code.strip()]


@dataclass(frozen=True)
class QueueRow:
    """A pending callback as the queue page shows it."""

    id: int
    masked_phone: str
    language: str
    required_language: str | None
    priority: int
    waited_minutes: int
    missed_calls: int
    attempts: int
    due: bool
    due_at: datetime
    slot: str | None  # the part of the day the consumer asked for (core.callback_slots)
    sla: str  # "ok", "warn" or "late"


def sla_colour(waited: timedelta, sla_minutes: int) -> str:
    """Say how a wait stands against the SLA: ``ok``, ``warn`` past half of it, ``late`` past it."""
    minutes = waited.total_seconds() / 60
    if minutes >= sla_minutes:
        return "late"
    if minutes >= sla_minutes / 2:
        return "warn"
    return "ok"


def pending_queue(limit: int = QUEUE_PAGE_SIZE) -> list[QueueRow]:
    """Return the pending callbacks, best first."""
    from core.phone import mask

    now = utcnow()
    sla_minutes = settings().SLA_MINUTES
    callbacks = db.session.scalars(
        select(Callback).where(is_pending()).order_by(*queue_order()).limit(limit)
    )
    rows = []
    for callback in callbacks:
        waited = now - callback.first_missed_at
        rows.append(
            QueueRow(
                id=callback.id,
                masked_phone=mask(callback.phone),
                language=callback.language,
                required_language=callback.required_language,
                priority=callback.priority,
                waited_minutes=int(waited.total_seconds() // 60),
                missed_calls=callback.missed_call_count,
                attempts=callback.attempts,
                due=callback.due_at <= now,
                due_at=callback.due_at,
                slot=callback.slot,
                sla=sla_colour(waited, sla_minutes),
            )
        )
    return rows


def current_claim(operator_id: int) -> Callback | None:
    """Return the callback this operator holds, if any."""
    return db.session.scalar(
        select(Callback)
        .where(Callback.claimed_by_id == operator_id, Callback.status.in_(HELD_STATUSES))
        .order_by(Callback.claimed_at.desc())
        .limit(1)
    )


def is_pending():
    """Return the condition that a callback waits in the queue, as ix_callbacks_take_next's.

    The status is written into the SQL, not bound: a planner proves that a partial index
    covers a query from the query's text, and a bound value (in a statement psycopg has
    prepared, or on SQLite) would hide it.
    """
    return Callback.status == literal(CallbackStatus.PENDING, literal_execute=True)


def claim_next(operator: User) -> int | None:
    """Claim the best due callback this operator may take; return its id, or None if none.

    One statement picks and claims: ``UPDATE … WHERE id = (SELECT id … ORDER BY the
    queue's order LIMIT 1 FOR UPDATE SKIP LOCKED)``. The SELECT walks ix_callbacks_take_next
    from the top and stops at the first due callback the operator may take, so its cost does
    not grow with the queue. Two operators never get the same callback: on PostgreSQL the
    SELECT locks the row it returns and steps over rows other claimers hold locked (and
    over rows that stopped being pending meanwhile); SQLite has one writer at a time and
    drops FOR UPDATE. The UPDATE claims only a row still pending, and returns its id.
    An operator in after-call work or away is refused first (``OperatorNotReady``), by one
    read of their state row.
    """
    session = db.session
    languages = languages_of(operator)
    operator_id = operator.id
    now = utcnow()
    require_ready(session, operator_id, now)  # after-call work or away: OperatorNotReady
    session.rollback()  # start clean: write_transaction begins its own transaction
    best_due = (
        select(Callback.id)
        .where(is_pending(), Callback.due_at <= now, speaks(languages))
        .order_by(*queue_order())
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with write_transaction(session):
        claimed = session.execute(
            update(Callback)
            .where(Callback.id == best_due, is_pending())
            .values(status=CallbackStatus.CLAIMED, claimed_by_id=operator_id, claimed_at=now)
            .returning(Callback.id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if claimed is not None:
            record_audit(
                session,
                actor_id=operator_id,
                entity=AUDIT_ENTITY,
                entity_id=claimed,
                action="claim",
                changes={
                    "status": (CallbackStatus.PENDING, CallbackStatus.CLAIMED),
                    "claimed_by_id": (None, operator_id),
                },
            )
    return claimed


def lock_callback(session: Session, callback_id: int) -> Callback:
    """Load a callback fresh, locked on PostgreSQL until the transaction ends."""
    callback = session.scalar(
        select(Callback)
        .where(Callback.id == callback_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if callback is None:
        raise CallbackNotFound(_("No callback %(id)s.", id=callback_id))
    return callback


def require_holder(callback: Callback, operator: User) -> None:
    """Refuse unless ``operator`` holds ``callback`` now."""
    from callcenter.labels import words  # the labels read this module's neighbours

    if callback.status not in HELD_STATUSES:
        raise ClaimConflict(
            _(
                "Callback %(id)s is %(status)s, not claimed by you; nothing was changed.",
                id=callback.id,
                status=words(callback.status, "callback_status"),
            )
        )
    if callback.claimed_by_id != operator.id:
        holder = db.session.get(User, callback.claimed_by_id) if callback.claimed_by_id else None
        who = holder.name if holder else _("another operator")
        raise ClaimConflict(
            _(
                "Callback %(id)s is claimed by %(who)s; nothing was changed.",
                id=callback.id,
                who=who,
            )
        )


def release(callback_id: int, operator: User) -> None:
    """Give a held callback back to the queue."""
    session = db.session
    session.rollback()
    with write_transaction(session):
        callback = lock_callback(session, callback_id)
        require_holder(callback, operator)
        _return_to_queue(session, callback, actor_id=operator.id, action="release")


def touch_claim(callback_id: int, operator: User) -> None:
    """Mark a held callback as worked now, so that the claim timeout starts again."""
    session = db.session
    session.rollback()
    with write_transaction(session):
        callback = lock_callback(session, callback_id)
        require_holder(callback, operator)
        callback.claimed_at = utcnow()


def release_stale_claims() -> int:
    """Return to the queue callbacks claimed but not worked within CLAIM_TIMEOUT_MINUTES."""
    minutes = settings().CLAIM_TIMEOUT_MINUTES
    cutoff = utcnow() - timedelta(minutes=minutes)
    session = db.session
    session.rollback()
    with write_transaction(session):
        stale = list(
            session.scalars(
                select(Callback)
                .where(Callback.status == CallbackStatus.CLAIMED, Callback.claimed_at < cutoff)
                .order_by(Callback.id)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        )
        for callback in stale:
            _return_to_queue(session, callback, actor_id=None, action="claim_timeout")
    return len(stale)


def _return_to_queue(
    session: Session, callback: Callback, *, actor_id: int | None, action: str
) -> None:
    record_audit(
        session,
        actor_id=actor_id,
        entity=AUDIT_ENTITY,
        entity_id=callback.id,
        action=action,
        changes={
            "status": (callback.status, CallbackStatus.PENDING),
            "claimed_by_id": (callback.claimed_by_id, None),
        },
    )
    callback.status = CallbackStatus.PENDING
    callback.claimed_by_id = None
    callback.claimed_at = None
