"""Calling: bridge an operator to a consumer, record every attempt, retry, give up politely.

``start_call`` records an attempt and queues ``place_call``, which has the provider ring the
operator first; ``ivr.bridge`` then dials the consumer. What the provider reports back (the
Dial action and the status callbacks) arrives through ``record_dial_outcome`` and
``record_call_status``; each attempt's result is applied to its callback exactly once.

A call is placed at most once per attempt. When the provider may have taken the request
without our hearing its answer (a read timeout, a worker that died while placing), the
attempt is not placed again: the sweep (``recover_calls``) asks the provider what it took,
and where the provider cannot tell, the attempt is recorded ``unknown`` and the callback
goes back to its operator, who knows whether their phone rang. Status callbacks name the
attempt in their URL, so a late one still settles an attempt whose call id we never heard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from callqueue.context import app_job
from callqueue.queues import CALLS_QUEUE, enqueue
from callqueue.sms import record_message
from core.audit import record_audit
from core.config import settings, split_list
from core.database import write_transaction
from core.extensions import db
from core.hours import calling_hours
from core.models import Callback, CallbackStatus, User, utcnow
from core.models.attempts import (
    ATTEMPT_STATUS_RANK,
    FINAL_ATTEMPT_STATUSES,
    AttemptOutcome,
    AttemptStatus,
    CallAttempt,
)
from core.phone import mask
from core.redis_client import redis_client
from telephony import provider, webhook_url
from telephony.exceptions import TelephonyError
from telephony.outbound import Receipt

log = logging.getLogger("sampark.calls")


UNREACHABLE_TEMPLATE = "call_unreachable"
"""The SMS sent when the last attempt went unanswered: give us a missed call again."""

ANSWERED_DIAL_STATUSES = frozenset({"completed", "answered"})
"""Dial outcomes in which the consumer picked up."""

UNANSWERED_DIAL_STATUSES = frozenset({"busy", "no-answer", "failed", "canceled"})
"""Dial outcomes in which the consumer was not reached (canceled: the operator hung up first)."""

"""Where webhook URLs point when ``PUBLIC_BASE_URL`` is unset (development, outbox only)."""

AUDIT_ENTITY = "callback"

STUCK_PLACING_AFTER = timedelta(minutes=5)
"""An attempt a worker has been placing this long belongs to a worker that died, or to a
provider that never answered (a read timeout): the sweep asks the provider what it took."""

CLOCK_SKEW = timedelta(minutes=1)
"""How far the provider's clock may be behind ours when asking it which calls it took."""

MAY_HAVE_RUNG_NOTE = (
    "the provider may have placed the call (the operator's phone may have rung) and cannot "
    "tell us: it is not placed again; the callback is back with its operator, who calls "
    "again or records what happened"
)
"""Why an attempt is ``unknown``, kept on its record."""

_LIVE_JOB_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


class CallError(Exception):
    """A call cannot be started; the message says why, in words an operator understands."""


class CallbackNotFound(CallError):
    """No such callback."""


class NotYourCallback(CallError):
    """The callback is not claimed by this operator (or not claimed at all)."""


class AlreadyCalling(CallError):
    """A call for this callback is under way already."""


class OperatorUnavailable(CallError):
    """The operator's account is missing, inactive or has no phone number to ring."""


class OutsideCallingHours(CallError):
    """Consumers are not called now."""


class QueueUnavailable(CallError):
    """The job queue did not take the call; nothing was placed."""


@dataclass(frozen=True, slots=True)
class DialResult:
    """What the dial's action learnt, for the script that ends the operator's call."""

    answered: bool
    language: str


# -- settings ---------------------------------------------------------------------------


def max_attempts() -> int:
    """Return how many unanswered attempts a callback gets."""
    return max(settings().CALL_MAX_ATTEMPTS, 1)


def retry_backoff() -> list[timedelta]:
    """Return the waits after each unanswered attempt (the last one repeats)."""
    setting = settings().CALL_RETRY_BACKOFF
    return [timedelta(minutes=float(item)) for item in split_list(setting)] or [
        timedelta(minutes=15)
    ]


def recording_on() -> bool:
    """Tell whether bridged calls are recorded (``CALL_RECORDING``)."""
    return settings().CALL_RECORDING


def dial_timeout() -> int:
    """Return how long the consumer's phone rings before the bridge gives up."""
    return settings().CALL_DIAL_TIMEOUT


def job_id(attempt_id: int) -> str:
    """Return the RQ job id of an attempt's place-call job."""
    return f"call-attempt-{attempt_id}"


# -- starting a call ----------------------------------------------------------------------


def start_call(callback_id: int, operator_id: int, *, now: datetime | None = None) -> int:
    """Record an attempt, mark the callback "calling" and queue the call; return the attempt id.

    Raises a ``CallError`` (nothing changed) when the call may not start.
    """
    now = now or utcnow()
    hours = calling_hours()
    if not hours.is_open(now):
        opens = hours.next_open(now).astimezone(hours.zone)
        raise OutsideCallingHours(
            f"Consumers are called only within calling hours; they open at "
            f"{opens:%H:%M} on {opens:%d %b}."
        )
    session = db.session
    session.rollback()  # start clean: write_transaction begins its own transaction
    with write_transaction(session):
        callback = session.get(Callback, callback_id, with_for_update=True)
        if callback is None:
            raise CallbackNotFound(f"There is no callback {callback_id}.")
        operator = session.get(User, operator_id)
        if operator is None or not operator.active:
            raise OperatorUnavailable("Your account cannot place calls.")
        if not operator.phone:
            raise OperatorUnavailable("Your account has no phone number to ring; ask an admin.")
        mine = not _has_claims() or _claimed_by(callback) == operator_id
        if callback.status == CallbackStatus.CALLING and mine:
            raise AlreadyCalling("A call for this callback is already under way.")
        if callback.status != CallbackStatus.CLAIMED or not mine:
            raise NotYourCallback("This callback is not claimed by you; take it from the queue.")
        attempt = CallAttempt(
            callback_id=callback.id,
            operator_id=operator.id,
            number=callback.attempts + 1,
            status=AttemptStatus.CREATED,
            status_at=now,
        )
        session.add(attempt)
        _set_status(session, callback, CallbackStatus.CALLING, actor_id=operator_id)
        session.flush()
        attempt_id = attempt.id
    if not enqueue(CALLS_QUEUE, place_call, attempt_id, job_id=job_id(attempt_id)):
        _not_queued(attempt_id, operator_id)
        raise QueueUnavailable("The call could not be queued just now; please try again.")
    log.info("call attempt %s for callback %s queued", attempt_id, callback_id)
    return attempt_id


def _not_queued(attempt_id: int, operator_id: int) -> None:
    # Redis is down: give the operator the callback back, as it was, to try again.
    session = db.session
    with write_transaction(session):
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.status != AttemptStatus.CREATED:
            return
        attempt.status = AttemptStatus.FAILED
        attempt.error = "job queue unavailable"
        attempt.outcome = AttemptOutcome.NOT_PLACED
        attempt.settled_at = utcnow()
        callback = session.get(Callback, attempt.callback_id, with_for_update=True)
        if callback is not None and callback.status == CallbackStatus.CALLING:
            _set_status(
                session,
                callback,
                CallbackStatus.CLAIMED,
                actor_id=operator_id,
                action="call_not_queued",
            )


@app_job
def place_call(attempt_id: int) -> str:
    """Have the provider ring the operator of an attempt; safe to run twice."""
    session = db.session
    with write_transaction(session):
        claimed = session.execute(
            update(CallAttempt)
            .where(
                CallAttempt.id == attempt_id,
                CallAttempt.status == AttemptStatus.CREATED,
                CallAttempt.settled_at.is_(None),
            )
            .values(status=AttemptStatus.PLACING, status_at=utcnow())
        ).rowcount
    if not claimed:
        return "not waiting (placed already, or gone)"
    attempt = session.get(CallAttempt, attempt_id)
    assert attempt is not None  # claimed just now
    callback = session.get(Callback, attempt.callback_id)
    operator = session.get(User, attempt.operator_id)
    now = utcnow()
    if callback is None or callback.status != CallbackStatus.CALLING:
        _end_unplaced(attempt_id, "the callback is no longer being called", now)
        return "callback no longer calling"
    if not calling_hours().is_open(now):
        # The job waited in the queue past closing time: the consumer is not called now.
        _end_unplaced(attempt_id, "calling hours closed before the call was placed", now)
        return "outside calling hours"
    if operator is None or not operator.phone:
        _end_unplaced(attempt_id, "the operator has no phone number", now)
        return "operator has no phone"
    config = current_app.config
    carrier = provider()
    try:
        if carrier.bridges_calls:
            # The provider rings the operator, then the consumer: no bridge script of ours.
            receipt = carrier.connect(  # type: ignore[attr-defined]
                operator.phone,
                callback.phone,
                caller_id=config["CALLER_ID"],
                status_callback=_status_callback(attempt_id),
                record=recording_on(),
                timeout=dial_timeout(),
            )
        else:
            receipt = carrier.place_call(
                operator.phone,
                caller_id=config["CALLER_ID"],
                answer_url=webhook_url("bridge.answer", attempt_id=attempt_id),
                status_callback=_status_callback(attempt_id),
            )
    except TelephonyError as exc:
        if exc.may_have_been_taken:
            # Placing it again could ring the operator twice: it stays "placing" and the
            # sweep asks the provider what it took (recover_calls).
            _note_unanswered(attempt_id, str(exc))
            log.error(
                "call attempt %s: the provider did not answer and may have placed the call; "
                "not placed again",
                attempt_id,
            )
            return "unanswered"
        log.warning("call attempt %s: provider refused the call: %s", attempt_id, exc)
        _end_unplaced(attempt_id, str(exc), now)
        return "not placed"
    with write_transaction(session):
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
        assert attempt is not None
        attempt.provider = receipt.provider
        if attempt.call_sid is None:  # else a status callback named it first: the same call
            attempt.call_sid = receipt.sid
        attempt.placed_at = now
        _advance(attempt, receipt.status, now)
    log.info("call attempt %s: ringing operator %s", attempt_id, mask(operator.phone))
    return "placed"


def _status_callback(attempt_id: int) -> str:
    # Naming the attempt lets a report settle it even when we never heard the call's id.
    return webhook_url("ivr.call_status", attempt_id=attempt_id)


def _note_unanswered(attempt_id: int, reason: str) -> None:
    session = db.session
    with write_transaction(session):
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
        if attempt is not None and attempt.status == AttemptStatus.PLACING:
            attempt.error = f"{reason}: the provider may have placed it; asked before any retry"


def _end_unplaced(attempt_id: int, reason: str, now: datetime) -> None:
    session = db.session
    with write_transaction(session):
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.status != AttemptStatus.PLACING:
            return  # placed meanwhile (a slow worker, not a dead one), or gone
        attempt.status = AttemptStatus.FAILED
        attempt.status_at = now
        attempt.ended_at = now
        attempt.error = reason[:1000]
        _settle(session, attempt, AttemptOutcome.NOT_PLACED, now)


def recover_calls(*, now: datetime | None = None) -> int:
    """Queue again attempts whose job Redis lost; settle those left placing; return how many.

    For the sweep: start_call records the attempt before it queues the job, so a crash or a
    Redis restart in between leaves the callback "calling" with nobody ringing. An attempt
    left "placing" (its worker died, or the provider never answered) may have rung the
    operator: the provider is asked what it took (``settle_placement``), never told again.
    """
    now = now or utcnow()
    session = db.session
    session.rollback()
    waiting_since = now - timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    waiting = session.scalars(
        select(CallAttempt.id).where(
            CallAttempt.status == AttemptStatus.CREATED,
            CallAttempt.settled_at.is_(None),
            CallAttempt.created_at <= waiting_since,
        )
    ).all()
    stuck = session.scalars(
        select(CallAttempt.id).where(
            CallAttempt.status == AttemptStatus.PLACING,
            CallAttempt.status_at <= now - STUCK_PLACING_AFTER,
        )
    ).all()
    session.rollback()
    recovered = 0
    connection = redis_client()
    for attempt_id in waiting:
        try:
            status = Job.fetch(job_id(attempt_id), connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status in _LIVE_JOB_STATUSES:
            continue
        if enqueue(CALLS_QUEUE, place_call, attempt_id, job_id=job_id(attempt_id)):
            recovered += 1
    for attempt_id in stuck:
        recovered += settle_placement(attempt_id, now=now)
    if recovered:
        log.info("recovered %d call attempt(s)", recovered)
    return recovered


def calls_not_recorded(
    session: Session, found: list[Receipt], sid_column: InstrumentedAttribute[str | None]
) -> list[Receipt]:
    """Return the calls the provider listed that no record of ours (``sid_column``) names.

    A call some other attempt or campaign call already holds is not the lost one.
    """
    named = set(session.scalars(select(sid_column).where(sid_column.in_([r.sid for r in found]))))
    session.rollback()
    return [receipt for receipt in found if receipt.sid not in named]


def settle_placement(attempt_id: int, *, now: datetime | None = None) -> int:
    """Ask the provider what became of an attempt left placing, and record it; 1 if settled.

    The call it took is recorded on the attempt as if the worker had heard the answer; if it
    took none, the attempt ends as not placed (the callback goes back to the queue); if it
    cannot tell, or took more than one call to the operator's phone since, the attempt is
    ``unknown`` and the callback goes back to its operator. 0 when the provider could not be
    asked just now: the next sweep asks again.
    """
    now = now or utcnow()
    session = db.session
    session.rollback()
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.status != AttemptStatus.PLACING:
        return 0
    operator = session.get(User, attempt.operator_id)
    since = attempt.status_at - CLOCK_SKEW
    session.rollback()
    found: list[Receipt] | None = None
    if operator is not None and operator.phone:
        try:
            found = provider().calls_placed(
                operator.phone, caller_id=current_app.config["CALLER_ID"], since=since
            )
        except TelephonyError as exc:
            log.warning("call attempt %s: could not ask the provider: %s", attempt_id, exc)
            return 0
    if found is not None:
        found = calls_not_recorded(session, found, CallAttempt.call_sid)
        if not found:
            _end_unplaced(attempt_id, "the provider took no call for it", now)
            log.info("call attempt %s: the provider took no call; not placed", attempt_id)
            return 1
    with write_transaction(session):
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.status != AttemptStatus.PLACING:
            return 0  # a status callback or the slow worker got there first
        if found is not None and len(found) == 1:
            receipt = found[0]
            attempt.provider = receipt.provider
            attempt.call_sid = receipt.sid
            attempt.placed_at = attempt.status_at
            _apply_status(session, attempt, receipt.status, now)
            log.info("call attempt %s: the provider had placed it (%s)", attempt_id, receipt.status)
            return 1
        attempt.status = AttemptStatus.UNKNOWN
        attempt.status_at = now
        why = "cannot tell" if found is None else f"took {len(found)} calls to the operator"
        attempt.error = f"the provider never answered and {why}: {MAY_HAVE_RUNG_NOTE}"
        callback = session.get(Callback, attempt.callback_id, with_for_update=True)
        if callback is not None and callback.status == CallbackStatus.CALLING:
            _set_status(session, callback, CallbackStatus.CLAIMED, action="call_unknown")
    log.warning("call attempt %s: may have rung the operator; left to them", attempt_id)
    return 1


# -- what the provider reports ------------------------------------------------------------


def record_call_status(
    call_sid: str,
    status: str,
    *,
    attempt_id: int | None = None,
    duration: int | None = None,
    recording_url: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Record a status callback of the operator's leg; return False for an unknown call.

    ``attempt_id`` is the attempt the callback's URL names: the call is recorded on it
    when we never heard its id (the provider's answer to placing it was lost). Idempotent,
    and an older status arriving late never moves an attempt back.
    """
    now = now or utcnow()
    session = db.session
    with write_transaction(session):
        attempt = _attempt_of_call(session, call_sid, attempt_id)
        if attempt is None:
            return False
        if duration is not None and attempt.duration is None:
            attempt.duration = duration
        if recording_url and not attempt.recording_url:
            attempt.recording_url = recording_url[:500]
        _apply_status(session, attempt, status, now)
    return True


def _attempt_of_call(session: Session, call_sid: str, attempt_id: int | None) -> CallAttempt | None:
    """Return the attempt of a call, locked; the one named, if its call's id was never heard."""
    attempt = session.scalars(
        select(CallAttempt).where(CallAttempt.call_sid == call_sid).with_for_update()
    ).first()
    if attempt is None and attempt_id is not None:
        named = session.get(CallAttempt, attempt_id, with_for_update=True)
        if named is not None and named.call_sid is None:
            named.call_sid = call_sid
            named.provider = named.provider or provider().name
            attempt = named
            log.info("call attempt %s: its call named by the provider's report", attempt_id)
    return attempt


def _apply_status(session: Session, attempt: CallAttempt, status: str, now: datetime) -> None:
    """Move the operator's leg to ``status``; settle the attempt if the leg ended."""
    _advance(attempt, status, now)
    if status in FINAL_ATTEMPT_STATUSES and attempt.settled_at is None:
        outcome = _outcome_of_ended_leg(attempt, status)
        if outcome is not None:
            _settle(session, attempt, outcome, now)


def _outcome_of_ended_leg(attempt: CallAttempt, status: str) -> AttemptOutcome | None:
    if attempt.consumer_status is not None:
        return _consumer_outcome(attempt.consumer_status)
    if attempt.answered_at is not None or status == AttemptStatus.COMPLETED:
        # The operator answered: the Dial action reports the consumer's leg and settles.
        return None
    if status == AttemptStatus.FAILED:
        return AttemptOutcome.UNANSWERED
    return AttemptOutcome.OPERATOR_UNREACHED


def _consumer_outcome(dial_status: str) -> AttemptOutcome:
    if dial_status in ANSWERED_DIAL_STATUSES:
        return AttemptOutcome.ANSWERED
    return AttemptOutcome.UNANSWERED


def mark_answered(attempt_id: int, *, now: datetime | None = None) -> tuple[str, str] | None:
    """Note that the operator answered; return (consumer phone, operator language) or None.

    None means there is nobody to bridge to any more (the callback was closed meanwhile).
    """
    now = now or utcnow()
    session = db.session
    with write_transaction(session):
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
        if attempt is None:
            return None
        callback = session.get(Callback, attempt.callback_id)
        operator = session.get(User, attempt.operator_id)
        if attempt.answered_at is None:
            attempt.answered_at = now
        _advance(attempt, AttemptStatus.IN_PROGRESS, now)
        if callback is None or callback.status != CallbackStatus.CALLING:
            return None
        if attempt.settled_at is not None:
            return None
        return callback.phone, operator_language(operator)


def operator_language(operator: User | None) -> str:
    """Return the language to whisper to an operator in: the first one they speak."""
    languages = split_list(operator.languages) if operator is not None else []
    return languages[0] if languages else current_app.config["DEFAULT_LANGUAGE"]


def record_dial_outcome(
    attempt_id: int,
    dial_status: str,
    *,
    duration: int | None = None,
    recording_url: str | None = None,
    now: datetime | None = None,
) -> DialResult | None:
    """Record how the consumer's leg ended and settle the attempt; None for an unknown one."""
    now = now or utcnow()
    session = db.session
    with write_transaction(session):
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
        if attempt is None:
            return None
        operator = session.get(User, attempt.operator_id)
        known = dial_status in ANSWERED_DIAL_STATUSES | UNANSWERED_DIAL_STATUSES
        if attempt.consumer_status is None and known:
            attempt.consumer_status = dial_status
            attempt.consumer_duration = duration
        if recording_url and not attempt.recording_url:
            attempt.recording_url = recording_url[:500]
        if attempt.answered_at is None:
            attempt.answered_at = now  # the Dial ran, so the operator had answered
        if attempt.consumer_status is not None and attempt.settled_at is None:
            _settle(session, attempt, _consumer_outcome(attempt.consumer_status), now)
        answered = attempt.consumer_status in ANSWERED_DIAL_STATUSES
        return DialResult(answered=answered, language=operator_language(operator))


def record_bridge_leg(
    call_sid: str,
    dial_status: str,
    *,
    attempt_id: int | None = None,
    duration: int | None,
    recording_url: str | None,
) -> bool:
    """Record the consumer's leg of a bridge the provider made itself; False if unknown.

    ``attempt_id`` (from the callback's URL) is used when no attempt has the call's id yet.
    """
    found = db.session.scalar(select(CallAttempt.id).where(CallAttempt.call_sid == call_sid))
    if found is None and attempt_id is not None:
        found = db.session.scalar(
            select(CallAttempt.id).where(
                CallAttempt.id == attempt_id, CallAttempt.call_sid.is_(None)
            )
        )
    if found is None:
        return False
    attempt_id = found
    record_dial_outcome(attempt_id, dial_status, duration=duration, recording_url=recording_url)
    return True


def _advance(attempt: CallAttempt, status: str, now: datetime) -> None:
    """Move the operator's leg forward to ``status``; unknown or older statuses change nothing."""
    rank = ATTEMPT_STATUS_RANK.get(status)
    if rank is None or rank <= ATTEMPT_STATUS_RANK.get(attempt.status, 0):
        return
    attempt.status = status
    attempt.status_at = now
    if status == AttemptStatus.RINGING:
        attempt.ringing_at = attempt.ringing_at or now
    elif status == AttemptStatus.IN_PROGRESS:
        attempt.answered_at = attempt.answered_at or now
    elif status in FINAL_ATTEMPT_STATUSES:
        attempt.ended_at = attempt.ended_at or now


# -- what an attempt means for its callback ---------------------------------------------


def _settle(session: Session, attempt: CallAttempt, outcome: AttemptOutcome, now: datetime) -> None:
    """Apply an attempt's outcome to its callback, once: retry, close or leave to the operator."""
    if attempt.settled_at is not None:
        return
    attempt.outcome = outcome
    attempt.settled_at = now
    callback = session.get(Callback, attempt.callback_id, with_for_update=True)
    if callback is None or callback.status != CallbackStatus.CALLING:
        return  # closed or handed back meanwhile (by a disposition, say)
    latest = session.scalar(
        select(CallAttempt.id)
        .where(CallAttempt.callback_id == callback.id)
        .order_by(CallAttempt.id.desc())
        .limit(1)
    )
    if latest != attempt.id:
        return  # a newer attempt is under way; this late report must not disturb it
    hours = calling_hours()
    if outcome is AttemptOutcome.ANSWERED:
        callback.attempts += 1
        return  # the operator is talking to the consumer and records a disposition
    if outcome in (AttemptOutcome.NOT_PLACED, AttemptOutcome.OPERATOR_UNREACHED):
        # The consumer's phone never rang: back to the queue, not counted against them.
        _requeue(session, callback, hours.next_open(now), action=f"call_{outcome}")
        return
    callback.attempts += 1
    if callback.attempts >= max_attempts():
        _set_status(session, callback, CallbackStatus.UNREACHABLE, action="call_unreachable")
        callback.closed_at = now
        record_message(
            session,
            key=UNREACHABLE_TEMPLATE,
            to=callback.phone,
            language=callback.language,
            callback_id=callback.id,
        )
        log.info("callback %s unreachable after %d attempts", callback.id, callback.attempts)
        return
    waits = retry_backoff()
    wait = waits[min(callback.attempts - 1, len(waits) - 1)]
    # A consumer who asked for a slot is tried again inside it (tomorrow's, once it ends).
    retry_at = settings().callback_slots.next_start(callback.slot, now + wait)
    _requeue(session, callback, retry_at, action="call_retry")


def _requeue(session: Session, callback: Callback, due_at: datetime, *, action: str) -> None:
    old_due = callback.due_at
    callback.due_at = due_at
    _set_status(
        session,
        callback,
        CallbackStatus.PENDING,
        action=action,
        extra={"due_at": (old_due, due_at)},
    )


def _has_claims() -> bool:
    return "claimed_by_id" in Callback.__table__.c


def _claimed_by(callback: Callback) -> int | None:
    return getattr(callback, "claimed_by_id", None)


def _set_status(
    session: Session,
    callback: Callback,
    status: CallbackStatus,
    *,
    actor_id: int | None = None,
    action: str = "call_started",
    extra: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    changes: dict[str, tuple[Any, Any]] = {"status": (callback.status, status), **(extra or {})}
    callback.status = status
    if status in (CallbackStatus.PENDING, CallbackStatus.UNREACHABLE) and _has_claims():
        # Out of this operator's hands: the next one takes it from the queue.
        changes["claimed_by_id"] = (_claimed_by(callback), None)
        callback.claimed_by_id = None  # type: ignore[attr-defined]
        if hasattr(callback, "claimed_at"):
            callback.claimed_at = None  # type: ignore[attr-defined]
    record_audit(
        session,
        actor_id=actor_id,
        entity=AUDIT_ENTITY,
        entity_id=callback.id,
        action=action,
        changes=changes,
    )
