"""Outbound announcement campaigns: choose whom to call, pace the calls, retry the unanswered.

``create_campaign`` records a campaign, then one row per number in batches of a thousand
(``record_calls`` finishes an interrupted one), each row with the time its call is due:
the calls follow one another at the configured rate, and a slot outside calling hours
moves to the next opening. ``schedule_calls`` puts each due call on RQ's scheduler;
``place_campaign_call`` rings the number with answering-machine detection, and
``ivr.announce`` answers the call and reports its end through ``record_call_result``,
which retries a busy or unanswered number later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import ColumnElement, Insert, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from callqueue.calls import CLOCK_SKEW, STUCK_PLACING_AFTER, calls_not_recorded
from callqueue.context import app_job
from callqueue.queues import CAMPAIGNS_QUEUE, get_queue
from core.config import settings
from core.database import write_transaction
from core.extensions import db
from core.hours import CallingHours, calling_hours
from core.models import utcnow
from core.models.applications import Application, ApplicationStatus
from core.models.campaigns import (
    FINAL_CALL_STATUSES,
    Campaign,
    CampaignCall,
    CampaignCallStatus,
    CampaignKind,
)
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from core.phone import mask
from telephony import provider, webhook_url
from telephony.exceptions import PermanentTelephonyError, TelephonyError

log = logging.getLogger("sampark.campaigns")


DEFAULT_DEMAND_DAYS = 7
"""Days a demand note stays unpaid before its applicant is called (``--days``)."""

UNANSWERED_RESULTS = frozenset({"busy", "no-answer"})
"""Call results that are worth another try."""

FAILED_RESULTS = frozenset({"failed", "canceled"})
"""Call results that end a number's calls."""

RECORD_BATCH = 1000
"""Calls recorded per write transaction while a campaign is created."""

SCHEDULE_BATCH = 500
"""Calls put on RQ's scheduler per Redis round trip."""

RELEASE_AHEAD = timedelta(seconds=1)
"""How long before its call is due a job is put on RQ's scheduler.

RQ's scheduler keeps whole seconds and looks once a second, so a job scheduled for its
due time goes out up to a second late, and a second's calls leave in one burst. Released
ahead, the job waits for its due time itself (``MAX_EARLY_WAIT``) and the calls go out
at the pace set."""

MAX_EARLY_WAIT = timedelta(seconds=2)
"""A job released this much before its call is due waits for it."""

_WAITING = (CampaignCallStatus.QUEUED, CampaignCallStatus.RETRYING)


class CampaignError(Exception):
    """A campaign cannot be made or found; the message says why."""


class CampaignNotFound(CampaignError):
    """No such campaign."""


@dataclass(frozen=True, slots=True)
class Target:
    """One number to call and what to announce to it."""

    phone: str
    language: str
    account_id: int | None = None
    application_id: int | None = None


@dataclass(frozen=True, slots=True)
class CreatedCampaign:
    """A campaign ``create_campaign`` made, or found made already under the same name."""

    id: int
    name: str
    calls: int
    new: bool


# -- settings ---------------------------------------------------------------------------


def default_rate() -> float:
    """Return the configured calls per second."""
    return settings().CAMPAIGN_CALLS_PER_SECOND


def max_attempts() -> int:
    """Return how many calls one number gets."""
    return max(settings().CAMPAIGN_MAX_ATTEMPTS, 1)


def retry_wait() -> timedelta:
    """Return the wait before a busy or unanswered number is called again."""
    minutes = float(settings().CAMPAIGN_RETRY_MINUTES)
    return timedelta(minutes=max(minutes, 0.0))


def job_id(call_id: int, attempt: int) -> str:
    """Return the RQ job id of one attempt at one campaign call."""
    return f"campaign-call-{call_id}-{attempt}"


# -- whom to call -----------------------------------------------------------------------


def overdue_bill_targets(local_now: datetime) -> list[Target]:
    """Return each number linked to an account whose latest bill is unpaid and past due."""
    newer = aliased(Bill)
    latest_bill = (
        select(newer.id)
        .where(newer.account_id == ConsumerAccount.id)
        .order_by(newer.bill_date.desc(), newer.id.desc())
        .limit(1)
        .correlate(ConsumerAccount)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(LinkedNumber.phone, ConsumerAccount.id, ConsumerAccount.language)
        .join(LinkedNumber, LinkedNumber.account_id == ConsumerAccount.id)
        .join(Bill, Bill.id == latest_bill)
        .where(Bill.paid_on.is_(None), Bill.due_date < local_now.date())
        .order_by(ConsumerAccount.account_number, LinkedNumber.phone)
    ).all()
    return _once_per_number(Target(row.phone, row.language, account_id=row.id) for row in rows)


def unpaid_demand_targets(now: datetime, days: int) -> list[Target]:
    """Return the applicants whose demand note was issued more than ``days`` days ago."""
    # Demand notes are issued when an application is submitted (callcenter.applications).
    rows = db.session.execute(
        select(Application.phone, Application.id, Application.language)
        .where(
            Application.status == ApplicationStatus.DEMAND_ISSUED,
            Application.submitted_at <= now - timedelta(days=days),
            Application.phone != "",
        )
        .order_by(Application.id)
    ).all()
    return _once_per_number(Target(row.phone, row.language, application_id=row.id) for row in rows)


def _once_per_number(targets: Iterable[Target]) -> list[Target]:
    chosen: dict[str, Target] = {}
    for target in targets:
        chosen.setdefault(target.phone, target)
    return list(chosen.values())


# -- pacing -----------------------------------------------------------------------------


def paced_times(count: int, start: datetime, rate: float, hours: CallingHours) -> list[datetime]:
    """Return when each of ``count`` calls is due: 1/rate seconds apart, within calling hours."""
    gap = timedelta(seconds=1 / rate)
    times: list[datetime] = []
    due = start
    for _ in range(count):
        # A slot outside calling hours moves to the next opening, and the rest follow it.
        due = hours.next_open(due)
        times.append(due)
        due += gap
    return times


# -- creating and scheduling ------------------------------------------------------------


def default_name(kind: CampaignKind, now: datetime) -> str:
    """Return the name a campaign gets when none is given: its kind and the local date."""
    local = now.astimezone(calling_hours().zone)
    return f"{kind}-{local:%Y-%m-%d}"


def create_campaign(
    kind: CampaignKind,
    *,
    name: str | None = None,
    rate: float | None = None,
    days: int = DEFAULT_DEMAND_DAYS,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CreatedCampaign:
    """Record a campaign, then its calls, paced, in batches; a campaign of that name is returned.

    ``progress`` hears how many calls each batch recorded, and how many are to be. An
    interrupted campaign keeps the calls recorded so far; ``record_calls`` (``flask
    campaign resume``) records the rest.
    """
    now = now or utcnow()
    rate = default_rate() if rate is None else rate
    if not provider().rings_with_scripts:
        raise CampaignError(
            "Announcement campaigns need a provider that rings numbers with the app's own "
            "call script (Twilio or Plivo); this one runs flows built in its dashboard."
        )
    if rate <= 0:
        raise CampaignError("The call rate must be above zero calls per second.")
    if days < 0:
        raise CampaignError("--days cannot be negative.")
    name = name or default_name(kind, now)
    session = db.session
    session.rollback()  # start clean: write_transaction begins its own transaction
    with write_transaction(session):
        existing = session.scalar(select(Campaign).where(Campaign.name == name))
        if existing is None:
            campaign = Campaign(
                name=name,
                kind=str(kind),
                rate=rate,
                min_days=days if kind is CampaignKind.UNPAID_DEMAND else None,
                created_at=now,
            )
            session.add(campaign)
            session.flush()
        campaign_id = (existing or campaign).id
    if existing is not None:
        return CreatedCampaign(campaign_id, name, _call_count(campaign_id), new=False)
    calls = record_calls(campaign_id, progress=progress)
    log.info("campaign %s (%s): %d calls recorded", campaign_id, kind, calls)
    return CreatedCampaign(campaign_id, name, calls, new=True)


def record_calls(campaign_id: int, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Record the campaign's calls not recorded yet, RECORD_BATCH a transaction; return its calls.

    The consumers are chosen as at the campaign's creation. Numbers recorded already are
    skipped (and the unique number per campaign keeps two runs at once from recording one
    twice); the rest follow the last recorded call at the campaign's pace, or start now.
    """
    session = db.session
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"There is no campaign {campaign_id}.")
    if campaign.recorded_at is not None:
        session.rollback()
        return _call_count(campaign_id)
    kind, created_at, rate = CampaignKind(campaign.kind), campaign.created_at, campaign.rate
    if kind is CampaignKind.OVERDUE_BILLS:
        targets = overdue_bill_targets(created_at.astimezone(calling_hours().zone))
    else:
        targets = unpaid_demand_targets(created_at, campaign.min_days or 0)
    recorded = set(session.scalars(select(CampaignCall.phone).where(_of(campaign_id))))
    last_due = session.scalar(select(func.max(CampaignCall.due_at)).where(_of(campaign_id)))
    session.rollback()  # a read, done: nothing is held while the batches are written
    todo = [target for target in targets if target.phone not in recorded]
    gap = timedelta(seconds=1 / rate)
    start = created_at if last_due is None else max(last_due + gap, utcnow())
    times = paced_times(len(todo), start, rate, calling_hours())
    insert_calls = _insert_ignoring_recorded(session)
    for first in range(0, len(todo), RECORD_BATCH):
        batch = todo[first : first + RECORD_BATCH]
        rows = [
            {
                "campaign_id": campaign_id,
                "phone": target.phone,
                "language": target.language,
                "account_id": target.account_id,
                "application_id": target.application_id,
                "status": CampaignCallStatus.QUEUED,
                "attempts": 0,
                "due_at": due_at,
                "callback_requested": False,
                "updated_at": created_at,
            }
            for target, due_at in zip(batch, times[first : first + RECORD_BATCH], strict=True)
        ]
        # One short transaction a batch: a webhook waits behind a batch at most, not the
        # whole campaign (SQLite has one writer at a time).
        with write_transaction(session):
            session.execute(insert_calls, rows)
        if progress is not None:
            progress(len(rows), len(todo))
    with write_transaction(session):
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.recorded_at.is_(None))
            .values(recorded_at=utcnow())
        )
    return _call_count(campaign_id)


def campaign_recorded(campaign_id: int) -> bool:
    """Tell whether every call of the campaign is recorded (False while, or if cut short)."""
    recorded_at = db.session.scalar(select(Campaign.recorded_at).where(Campaign.id == campaign_id))
    return recorded_at is not None


def _of(campaign_id: int) -> ColumnElement[bool]:
    return CampaignCall.campaign_id == campaign_id


def _call_count(campaign_id: int) -> int:
    count = db.session.scalar(select(func.count()).where(_of(campaign_id)))
    db.session.rollback()
    return count or 0


def _insert_ignoring_recorded(session: Session) -> Insert:
    """Return an INSERT of campaign calls that skips a number the campaign has already."""
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(CampaignCall).on_conflict_do_nothing(
        index_elements=["campaign_id", "phone"]
    )


def schedule_calls(campaign_id: int, *, progress: Callable[[int], None] | None = None) -> int:
    """Put the campaign's waiting calls on RQ's scheduler at their due times; return how many.

    Raises ``RedisError`` when Redis is down: the calls stay recorded and run again scheduled.
    """
    rows = db.session.execute(
        select(CampaignCall.id, CampaignCall.attempts, CampaignCall.due_at)
        .where(CampaignCall.campaign_id == campaign_id, CampaignCall.status.in_(_WAITING))
        .order_by(CampaignCall.due_at, CampaignCall.id)
    ).all()
    db.session.rollback()
    queue = get_queue(CAMPAIGNS_QUEUE)
    for start in range(0, len(rows), SCHEDULE_BATCH):
        batch = rows[start : start + SCHEDULE_BATCH]
        with queue.connection.pipeline() as pipeline:
            for row in batch:
                _schedule(queue, row.id, row.attempts + 1, row.due_at, pipeline=pipeline)
            pipeline.execute()
        if progress is not None:
            progress(len(batch))
    return len(rows)


def _schedule(
    queue: Queue, call_id: int, attempt: int, due_at: datetime, *, pipeline: Pipeline | None = None
) -> None:
    queue.enqueue_at(
        due_at - RELEASE_AHEAD,
        place_campaign_call,
        call_id,
        attempt,
        job_id=job_id(call_id, attempt),
        result_ttl=settings().RQ_RESULT_TTL,
        failure_ttl=settings().RQ_FAILURE_TTL,
        pipeline=pipeline,
    )


LOST_CALL_BATCH = 500
"""Waiting calls looked at per sweep; the next sweep takes the rest."""

_LIVE_JOB_STATUSES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
)


def reschedule_lost_calls(*, now: datetime | None = None) -> int:
    """Schedule again waiting calls whose job Redis no longer has; return how many.

    For the sweep: the calls are recorded in SQL before they are scheduled, so a Redis
    restart without a dump (or an outage while a campaign was being created) only delays
    them. A call is looked at once its due time is a reconciliation period past.
    """
    now = now or utcnow()
    grace = timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    overdue = db.session.execute(
        select(CampaignCall.id, CampaignCall.attempts)
        .where(CampaignCall.status.in_(_WAITING), CampaignCall.due_at <= now - grace)
        .order_by(CampaignCall.due_at)
        .limit(LOST_CALL_BATCH)
    ).all()
    db.session.rollback()
    queue = get_queue(CAMPAIGNS_QUEUE)
    lost = []
    for call_id, attempts in overdue:
        try:
            status = Job.fetch(
                job_id(call_id, attempts + 1), connection=queue.connection
            ).get_status()
        except NoSuchJobError:
            status = None
        if status not in _LIVE_JOB_STATUSES:
            lost.append((call_id, attempts + 1))
    if lost:
        due_at = calling_hours().next_open(now)
        with queue.connection.pipeline() as pipeline:
            for call_id, attempt in lost:
                _schedule(queue, call_id, attempt, due_at, pipeline=pipeline)
            pipeline.execute()
        log.info("campaigns: scheduled again %d call(s) whose job Redis had lost", len(lost))
    return len(lost)


def settle_stuck_calls(*, now: datetime | None = None) -> int:
    """Settle calls left placing by a worker that died; return how many were settled.

    A call is marked ``calling`` before the provider is asked to place it and named when
    its answer comes. A worker killed between the two leaves it ``calling`` with no name
    for good (no status callback comes for a call never placed), and its campaign never
    finishes. Once ``STUCK_PLACING_AFTER`` has passed, the provider is asked which calls to
    the number it took since: none, and the attempt ends unanswered (called again, within
    the attempts); one, and the call is named and settled by the status the provider gives
    (a call still ringing is left to its status callbacks); several, or a provider that
    cannot tell, and the call is ``unknown``, as after a provider timeout: never rung twice.
    """
    now = now or utcnow()
    session = db.session
    stuck = session.execute(
        select(CampaignCall.id, CampaignCall.phone, CampaignCall.attempts, CampaignCall.updated_at)
        .where(
            CampaignCall.status == CampaignCallStatus.CALLING,
            CampaignCall.call_sid.is_(None),
            CampaignCall.updated_at <= now - STUCK_PLACING_AFTER,
        )
        .order_by(CampaignCall.updated_at)
        .limit(LOST_CALL_BATCH)
    ).all()
    session.rollback()
    settled = 0
    for call_id, phone, attempt, placing_since in stuck:
        try:
            found = provider().calls_placed(
                phone, caller_id=current_app.config["CALLER_ID"], since=placing_since - CLOCK_SKEW
            )
        except TelephonyError as exc:
            log.warning("campaign call %s: could not ask the provider: %s", call_id, exc)
            continue  # the next sweep asks again
        if found is not None:
            found = calls_not_recorded(session, found, CampaignCall.call_sid)
        if found == []:
            log.info("campaign call %s: the provider took no call; attempt ended", call_id)
            _end_attempt(call_id, None, "no-answer", now)
        elif found is not None and len(found) == 1:
            (receipt,) = found
            with write_transaction(session):
                session.execute(
                    update(CampaignCall)
                    .where(
                        CampaignCall.id == call_id,
                        CampaignCall.status == CampaignCallStatus.CALLING,
                        CampaignCall.call_sid.is_(None),
                    )
                    .values(call_sid=receipt.sid, updated_at=now)
                )
            _end_attempt(call_id, receipt.sid, receipt.status, now)
            log.info("campaign call %s: the provider had placed it (%s)", call_id, receipt.status)
        else:
            _mark_unknown(call_id, attempt, now)
            log.warning("campaign call %s: may have rung; not placed again", call_id)
        settled += 1
    return settled


def _schedule_retry(call_id: int, attempt: int, due_at: datetime) -> None:
    try:
        _schedule(get_queue(CAMPAIGNS_QUEUE), call_id, attempt, due_at)
    except RedisError as exc:
        # Recorded as retrying with its due time: ``flask campaign resume`` schedules it.
        log.warning("campaign call %s: retry not scheduled (%s)", call_id, type(exc).__name__)


# -- the call ---------------------------------------------------------------------------


@app_job
def place_campaign_call(call_id: int, attempt: int) -> str:
    """Ring a campaign's number, with answering-machine detection; safe to run twice."""
    session = db.session
    now = utcnow()
    hours = calling_hours()
    early = session.scalar(select(CampaignCall.due_at).where(CampaignCall.id == call_id))
    session.rollback()
    if early is not None and timedelta(0) < early - now <= MAX_EARLY_WAIT:
        # Released ahead of its time (RELEASE_AHEAD): wait for it, keeping the pace.
        time.sleep((early - now).total_seconds())
        now = utcnow()
    if not hours.is_open(now):
        # Left waiting in the queue past closing time: call at the next opening instead.
        due_at = hours.next_open(now)
        with write_transaction(session):
            moved = session.execute(
                update(CampaignCall)
                .where(
                    CampaignCall.id == call_id,
                    CampaignCall.status.in_(_WAITING),
                    CampaignCall.attempts == attempt - 1,
                )
                .values(due_at=due_at, updated_at=now)
            ).rowcount
        if moved:
            _schedule_retry(call_id, attempt, due_at)
        return "outside calling hours"
    with write_transaction(session):
        claimed = session.execute(
            update(CampaignCall)
            .where(
                CampaignCall.id == call_id,
                CampaignCall.status.in_(_WAITING),
                CampaignCall.attempts == attempt - 1,
            )
            .values(
                status=CampaignCallStatus.CALLING,
                attempts=attempt,
                call_sid=None,
                last_result=None,
                updated_at=now,
            )
        ).rowcount
    if not claimed:
        return "not waiting (placed already, finished, or gone)"
    call = session.get(CampaignCall, call_id)
    assert call is not None  # claimed just now
    phone = call.phone
    try:
        receipt = provider().place_call(
            phone,
            caller_id=current_app.config["CALLER_ID"],
            answer_url=webhook_url("announce.answer", call_id=call_id),
            status_callback=webhook_url("announce.status", call_id=call_id),
            machine_detection=True,
        )
    except TelephonyError as exc:
        if exc.may_have_been_taken:
            # Retrying could ring the consumer twice: the call waits for its status
            # callbacks, which name it, or stays unknown.
            _mark_unknown(call_id, attempt, utcnow())
            log.error(
                "campaign call %s: the provider did not answer and may have placed the call; "
                "not placed again",
                call_id,
            )
            return "unanswered"
        log.warning("campaign call %s: provider refused the call: %s", call_id, exc)
        result = "failed" if isinstance(exc, PermanentTelephonyError) else "no-answer"
        _end_attempt(call_id, None, result, utcnow())
        return "not placed"
    with write_transaction(session):
        call = session.get(CampaignCall, call_id, with_for_update=True)
        if call is not None and call.call_sid is None:
            call.call_sid = receipt.sid
    log.info("campaign call %s: ringing %s (attempt %d)", call_id, mask(phone), attempt)
    return "placed"


def _mark_unknown(call_id: int, attempt: int, now: datetime) -> None:
    with write_transaction(db.session):
        db.session.execute(
            update(CampaignCall)
            .where(
                CampaignCall.id == call_id,
                CampaignCall.status == CampaignCallStatus.CALLING,
                CampaignCall.attempts == attempt,
                CampaignCall.call_sid.is_(None),
            )
            .values(
                status=CampaignCallStatus.UNKNOWN, last_result="provider-timeout", updated_at=now
            )
        )


# -- what the provider reports ----------------------------------------------------------


def mark_answered(call_id: int, call_sid: str, answered_by: str) -> CampaignCall | None:
    """Note who answered; return the call to announce to, or None when there is nothing to say.

    An answering machine or a fax ends the number's calls as "machine".
    """
    session = db.session
    now = utcnow()
    with write_transaction(session):
        call = session.get(CampaignCall, call_id, with_for_update=True)
        if call is None or call.status in FINAL_CALL_STATUSES or call.status in _WAITING:
            return None
        if call.call_sid is None and call_sid:
            call.call_sid = call_sid  # the answer can overtake the job's own write
        if is_machine(answered_by):
            call.status = CampaignCallStatus.MACHINE
            call.last_result = answered_by[:24]
        elif call.status in (CampaignCallStatus.CALLING, CampaignCallStatus.UNKNOWN):
            call.status = CampaignCallStatus.ANSWERED
            call.last_result = (answered_by or "human")[:24]
        call.updated_at = now
        session.flush()
        session.expunge(call)
    return call


def is_machine(answered_by: str) -> bool:
    """Tell whether machine detection heard an answering machine or a fax."""
    return answered_by.startswith("machine") or answered_by == "fax"


def current_call(call_id: int) -> CampaignCall | None:
    """Return a campaign call being announced to (answered), or None."""
    call = db.session.get(CampaignCall, call_id)
    if call is None or call.status != CampaignCallStatus.ANSWERED:
        return None
    return call


def mark_callback_requested(call_id: int) -> None:
    """Note that the consumer asked for a callback during the announcement."""
    with write_transaction(db.session):
        db.session.execute(
            update(CampaignCall)
            .where(CampaignCall.id == call_id)
            .values(callback_requested=True, updated_at=utcnow())
        )


def record_call_result(
    call_id: int, call_sid: str, result: str, *, now: datetime | None = None
) -> bool:
    """Record a status callback: finish, retry or fail the call; False for an unknown call.

    Idempotent: a repeated or late report (of an earlier attempt) changes nothing.
    """
    now = now or utcnow()
    session = db.session
    with write_transaction(session):
        call = session.get(CampaignCall, call_id)
        if call is None:
            return False
    _end_attempt(call_id, call_sid, result, now)
    return True


def _end_attempt(call_id: int, call_sid: str | None, result: str, now: datetime) -> None:
    retry: tuple[int, datetime] | None = None
    session = db.session
    with write_transaction(session):
        call = session.get(CampaignCall, call_id, with_for_update=True)
        if call is None or call.status in FINAL_CALL_STATUSES or call.status in _WAITING:
            return
        if call_sid is not None and call.call_sid not in (None, call_sid):
            return  # a report about an earlier attempt
        if call.status == CampaignCallStatus.UNKNOWN and call.call_sid is None:
            call.call_sid = call_sid  # the call we never heard the id of, now named
        if result == "completed":
            # A machine was recorded as such on answer; a person heard the announcement.
            call.status = CampaignCallStatus.DONE
        elif result in UNANSWERED_RESULTS:
            if call.attempts >= max_attempts():
                call.status = CampaignCallStatus.FAILED
            else:
                call.status = CampaignCallStatus.RETRYING
                call.due_at = calling_hours().next_open(now + retry_wait())
                retry = (call.attempts + 1, call.due_at)
        elif result in FAILED_RESULTS:
            call.status = CampaignCallStatus.FAILED
        else:
            return  # initiated, ringing, in-progress: nothing to settle
        call.last_result = result[:24]
        call.updated_at = now
    if retry is not None:
        _schedule_retry(call_id, *retry)
        log.info("campaign call %s: %s, called again at %s", call_id, result, retry[1])


# -- progress ---------------------------------------------------------------------------

PROGRESS_STATUSES = tuple(CampaignCallStatus)
"""Every status counted in a campaign's progress, in the order a call goes through them."""


def campaign_progress(campaign_id: int) -> dict[str, object]:
    """Return a campaign's progress: its name, kind, rate and the calls in each status."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"There is no campaign {campaign_id}.")
    counts = dict(
        db.session.execute(
            select(CampaignCall.status, func.count())
            .where(CampaignCall.campaign_id == campaign_id)
            .group_by(CampaignCall.status)
        ).all()
    )
    callbacks = db.session.scalar(
        select(func.count()).where(
            CampaignCall.campaign_id == campaign_id, CampaignCall.callback_requested.is_(True)
        )
    )
    by_status = {str(status): int(counts.get(str(status), 0)) for status in PROGRESS_STATUSES}
    total = sum(by_status.values())
    finished = sum(by_status[str(status)] for status in FINAL_CALL_STATUSES)
    return {
        "id": campaign.id,
        "name": campaign.name,
        "kind": campaign.kind,
        "rate": campaign.rate,
        "created_at": campaign.created_at,
        "total": total,
        **by_status,
        "callbacks": int(callbacks or 0),
        "finished": finished,
    }


def campaign_ids() -> list[int]:
    """Return every campaign's id, newest first."""
    return list(db.session.scalars(select(Campaign.id).order_by(Campaign.id.desc())))


# -- pausing, resuming, cancelling ------------------------------------------------------

CAMPAIGN_STATES = ("running", "paused", "finished", "cancelled")
"""What ``campaign_state`` may say of a campaign."""


def campaign_state(progress: dict[str, object]) -> str:
    """Say where a campaign stands from its progress: running, paused, finished or cancelled."""
    if progress[str(CampaignCallStatus.PAUSED)]:
        return "paused"
    if progress["finished"] == progress["total"]:
        return "cancelled" if progress[str(CampaignCallStatus.CANCELLED)] else "finished"
    return "running"


def _move_calls(campaign_id: int, from_statuses: Iterable[str], to_status: str) -> int:
    if db.session.get(Campaign, campaign_id) is None:
        raise CampaignNotFound(f"There is no campaign {campaign_id}.")
    session = db.session
    session.rollback()
    with write_transaction(session):
        return session.execute(
            update(CampaignCall)
            .where(CampaignCall.campaign_id == campaign_id, CampaignCall.status.in_(from_statuses))
            .values(status=to_status, updated_at=utcnow())
        ).rowcount


def pause_campaign(campaign_id: int) -> int:
    """Hold back a campaign's waiting calls; return how many. Calls ringing now finish.

    Their scheduled jobs find them not waiting and do nothing; ``resume_campaign`` paces
    them again from the moment it runs.
    """
    return _move_calls(campaign_id, _WAITING, CampaignCallStatus.PAUSED)


def resume_campaign(campaign_id: int, *, now: datetime | None = None) -> int:
    """Pace a paused campaign's calls again from now and schedule them; return how many.

    Raises ``RedisError`` when Redis is down: the calls are waiting again, recorded, and
    ``flask campaign resume`` (or the sweep) schedules them.
    """
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"There is no campaign {campaign_id}.")
    rate = campaign.rate
    session = db.session
    session.rollback()
    with write_transaction(session):
        paused = session.scalars(
            select(CampaignCall.id)
            .where(
                CampaignCall.campaign_id == campaign_id,
                CampaignCall.status == CampaignCallStatus.PAUSED,
            )
            .order_by(CampaignCall.due_at, CampaignCall.id)
        ).all()
        times = paced_times(len(paused), now or utcnow(), rate, calling_hours())
        for call_id, due_at in zip(paused, times, strict=True):
            session.execute(
                update(CampaignCall)
                .where(CampaignCall.id == call_id, CampaignCall.status == CampaignCallStatus.PAUSED)
                .values(status=CampaignCallStatus.QUEUED, due_at=due_at, updated_at=utcnow())
            )
    if paused:
        schedule_calls(campaign_id)
    return len(paused)


def cancel_campaign(campaign_id: int) -> int:
    """Cancel a campaign's calls not placed yet (waiting or paused); return how many."""
    return _move_calls(
        campaign_id, (*_WAITING, CampaignCallStatus.PAUSED), CampaignCallStatus.CANCELLED
    )
