"""Housekeeping: relay recorded SMS to RQ, re-queue jobs Redis lost, expire old callbacks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from callcenter.queue import release_stale_claims
from callqueue.calls import recover_calls
from callqueue.campaigns import reschedule_lost_calls
from callqueue.queues import reset_redis_pause
from callqueue.relay import relay_messages
from callqueue.sms import UNANSWERED_NOTE, enqueue_messages, job_id
from core.database import write_transaction
from core.extensions import db
from core.models import Callback, CallbackStatus, MessageStatus, OutboundMessage, utcnow
from core.redis_client import redis_client

log = logging.getLogger("sampark.sweep")

STUCK_SENDING_AFTER = timedelta(minutes=10)
"""A message held this long by a worker belongs to a worker that died (an attempt takes at
most the REST timeout): it is marked ``unknown``, not sent again, for the worker may have
died after the provider took it."""

BATCH_SIZE = 500
"""Messages looked at per sweep; the next sweep takes the rest."""

_LIVE_JOB_STATUSES = {
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.SCHEDULED,
    JobStatus.DEFERRED,
}


@dataclass
class SweepReport:
    """What one sweep did."""

    relayed: int = 0
    requeued: int = 0
    already_queued: int = 0
    abandoned: int = 0
    expired: int = 0
    calls_recovered: int = 0
    claims_released: int = 0
    campaign_calls_rescheduled: int = 0
    redis_down: bool = False

    @property
    def did_something(self) -> bool:
        return any(
            (
                self.relayed,
                self.requeued,
                self.abandoned,
                self.expired,
                self.calls_recovered,
                self.claims_released,
                self.campaign_calls_rescheduled,
            )
        )

    def summary(self) -> str:
        """Say what the sweep did, in one line."""
        return (
            f"relayed {self.relayed}, requeued {self.requeued}, "
            f"already queued {self.already_queued}, abandoned sends {self.abandoned}, "
            f"expired {self.expired}, calls recovered {self.calls_recovered}, "
            f"claims released {self.claims_released}, "
            f"campaign calls rescheduled {self.campaign_calls_rescheduled}"
            + (", Redis down" if self.redis_down else "")
        )


def sweep() -> SweepReport:
    """Run every housekeeping step once; safe to run on several hosts at the same time."""
    report = SweepReport()
    report.expired = expire_callbacks()
    report.claims_released = release_stale_claims()
    report.abandoned = mark_abandoned_sends()
    try:
        redis_client().ping()
    except RedisError:
        report.redis_down = True
        log.warning("sweep: Redis is down; recorded work waits")
        return report
    reset_redis_pause()
    report.relayed = relay_messages()
    report.requeued, report.already_queued = requeue_lost_messages()
    report.calls_recovered = recover_calls()
    report.campaign_calls_rescheduled = reschedule_lost_calls()
    return report


def expire_callbacks() -> int:
    """Close, as expired, pending callbacks with no missed call for the configured hours."""
    cutoff = utcnow() - timedelta(hours=current_app.config["CALLBACK_EXPIRY_HOURS"])
    result = db.session.execute(
        update(Callback)
        .where(Callback.status == CallbackStatus.PENDING, Callback.last_missed_at < cutoff)
        .values(status=CallbackStatus.EXPIRED, closed_at=utcnow())
    )
    db.session.commit()
    return result.rowcount


def mark_abandoned_sends() -> int:
    """Mark ``unknown`` the messages a dead worker held: only the provider knows if they left.

    Sending them again would send twice whenever the worker died after the provider took
    the message; a person checks and sends again (``flask queue resend``) those that never
    left. A worker that was only slow and finishes later still records the outcome it got.
    """
    cutoff = utcnow() - STUCK_SENDING_AFTER
    # One statement that writes (no read first): SQLite's writers stay out of each other's way.
    marked = db.session.scalars(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == MessageStatus.SENDING,
            OutboundMessage.next_attempt_at < cutoff,
        )
        .values(
            status=MessageStatus.UNKNOWN,
            error=f"the worker sending it stopped: {UNANSWERED_NOTE}",
        )
        .returning(OutboundMessage.id)
    ).all()
    db.session.commit()
    if marked:
        log.warning(
            "sweep: %d message(s) held by a worker that stopped are marked unknown: %s",
            len(marked),
            ", ".join(map(str, sorted(marked))),
        )
    return len(marked)


def requeue_lost_messages() -> tuple[int, int]:
    """Queue again messages handed to RQ whose job Redis no longer has; return (requeued, live).

    Redis can lose jobs (a restart without a dump, a flush); the SQL record cannot.
    """
    cutoff = utcnow() - timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    overdue = db.session.scalars(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.status == MessageStatus.QUEUED,
            OutboundMessage.job_queued_at <= cutoff,
            OutboundMessage.next_attempt_at <= cutoff,
        )
        .order_by(OutboundMessage.next_attempt_at)
        .limit(BATCH_SIZE)
    ).all()
    db.session.rollback()
    connection = redis_client()
    lost = []
    for message_id in overdue:
        try:
            status = Job.fetch(job_id(message_id), connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status not in _LIVE_JOB_STATUSES:
            lost.append(message_id)
    if lost:
        enqueue_messages(lost)
        with write_transaction(db.session):
            db.session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(lost))
                .values(job_queued_at=utcnow())
            )
        log.info("sweep: queued again %d message(s) whose job Redis had lost", len(lost))
    return len(lost), len(overdue) - len(lost)
