"""The sweeper: runs the registered housekeeping tasks (``core.housekeeping``), among them
the queue's own: relay recorded SMS to RQ, re-queue jobs Redis lost, expire old callbacks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app
from redis.exceptions import RedisError
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from callqueue.calls import recover_calls
from callqueue.campaigns import reschedule_lost_calls, settle_stuck_calls
from callqueue.queues import reset_redis_pause
from callqueue.relay import relay_messages
from callqueue.sms import UNANSWERED_NOTE
from callqueue.sms_batch import enqueue_messages
from core import housekeeping
from core.database import write_transaction
from core.extensions import db
from core.housekeeping import Counts
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
    """What one sweep did: a count per step (``report["relayed"]``), and whether Redis was down."""

    counts: dict[str, int] = field(default_factory=dict)
    redis_down: bool = False

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)

    def add(self, name: str, did: Counts) -> None:
        """Add what one task did, under its name or the names it gave."""
        for key, count in did.items() if isinstance(did, Mapping) else ((name, did),):
            self.counts[key] = self.counts.get(key, 0) + int(count)

    @property
    def did_something(self) -> bool:
        return any(count for key, count in self.counts.items() if key not in _NOT_WORK)

    def summary(self) -> str:
        """Say what the sweep did, in one line."""
        parts = [f"{key.replace('_', ' ')} {count}" for key, count in self.counts.items()]
        return ", ".join(parts + (["Redis down"] if self.redis_down else [])) or "nothing to do"


_NOT_WORK = {"already_queued"}


def init_app(app: Flask) -> None:
    """Register the queue's own housekeeping; other packages register theirs."""
    housekeeping.register(app, "expired", expire_callbacks)
    housekeeping.register(app, "abandoned", mark_abandoned_sends)
    housekeeping.register(app, "relayed", relay_messages, needs_redis=True)
    housekeeping.register(app, "requeued", _requeue_counts, needs_redis=True)
    housekeeping.register(app, "calls_recovered", recover_calls, needs_redis=True)
    housekeeping.register(
        app, "campaign_calls_rescheduled", reschedule_lost_calls, needs_redis=True
    )
    # Needs Redis: a call ended unanswered is scheduled again there.
    housekeeping.register(app, "campaign_calls_settled", settle_stuck_calls, needs_redis=True)


def sweep() -> SweepReport:
    """Run every registered housekeeping task once; safe on several hosts at the same time.

    Tasks that need Redis run after the others, and not at all while Redis is down: what
    they would hand to Redis stays recorded in SQL for the next sweep.
    """
    report = SweepReport()
    tasks = housekeeping.tasks(current_app._get_current_object())  # type: ignore[attr-defined]
    for task in tasks:
        if not task.needs_redis:
            report.add(task.name, task.run())
    try:
        redis_client().ping()
    except RedisError:
        report.redis_down = True
        log.warning("sweep: Redis is down; recorded work waits")
        return report
    reset_redis_pause()
    for task in tasks:
        if task.needs_redis:
            report.add(task.name, task.run())
    return report


def _requeue_counts() -> dict[str, int]:
    requeued, live = requeue_lost_messages()
    return {"requeued": requeued, "already_queued": live}


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

    Redis can lose jobs (a restart without a dump, a flush), and a worker killed mid-batch
    leaves its job abandoned; the SQL record cannot be lost.
    """
    cutoff = utcnow() - timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    overdue = db.session.execute(
        select(OutboundMessage.id, OutboundMessage.job_id)
        .where(
            OutboundMessage.status == MessageStatus.QUEUED,
            OutboundMessage.job_queued_at <= cutoff,
            OutboundMessage.next_attempt_at <= cutoff,
        )
        .order_by(OutboundMessage.next_attempt_at)
        .limit(BATCH_SIZE)
    ).all()
    db.session.rollback()
    # Messages queued before batches came have no job id: their job was named after them.
    job_of = {row.id: row.job_id or f"sms-{row.id}" for row in overdue}
    job_ids = sorted(set(job_of.values()))
    jobs = Job.fetch_many(job_ids, connection=redis_client())
    live = {job.id for job in jobs if job and job.get_status(refresh=False) in _LIVE_JOB_STATUSES}
    lost = [message_id for message_id, job in job_of.items() if job not in live]
    if lost:
        batches = enqueue_messages(lost)
        with write_transaction(db.session):
            for batch in batches:
                db.session.execute(
                    update(OutboundMessage)
                    .where(OutboundMessage.id.in_(batch.message_ids))
                    .values(job_queued_at=utcnow(), job_id=batch.job_id)
                )
        log.info("sweep: queued again %d message(s) whose job Redis had lost", len(lost))
    return len(lost), len(overdue) - len(lost)
