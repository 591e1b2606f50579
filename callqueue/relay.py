"""The relay: hands SMS recorded in SQL to RQ, in batches.

Webhooks record the message in the same transaction as the call it belongs to and leave
Redis alone (a transactional outbox). The relay, run by ``flask queue sweep --every 1``,
moves what is new to the queue, one send job per ``SMS_BATCH_SIZE`` messages
(``callqueue.sms_batch``), and notes each message's job. A Redis outage therefore slows
nothing down and loses nothing: the messages wait in SQL until Redis answers again.
"""

from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select, update

from callqueue.sms_batch import Batch, enqueue_batches, plan_batches
from core.database import write_transaction
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, utcnow

log = logging.getLogger("sampark.relay")

RELAY_BATCH = 500
"""Messages moved per round trip to Redis (rounded down to whole send jobs)."""


def relay_messages(limit: int = 10 * RELAY_BATCH) -> int:
    """Queue the send jobs of messages that are due and not yet with RQ; return how many."""
    relayed = 0
    # Whole send jobs per round trip: 500 would make jobs of 200, 200 and 100.
    batch_size = max(1, current_app.config["SMS_BATCH_SIZE"])
    step = max(1, RELAY_BATCH // batch_size) * batch_size
    while relayed < limit:
        batches = _claim_batch(min(step, limit - relayed))
        if not batches:
            break
        ids = [message_id for batch in batches for message_id in batch.message_ids]
        try:
            enqueue_batches(batches)
        except RedisError as exc:
            _release(ids)
            log.warning(
                "relay: Redis unreachable (%s); %d message(s) wait", type(exc).__name__, len(ids)
            )
            break
        relayed += len(ids)
    return relayed


def _claim_batch(size: int) -> list[Batch]:
    """Mark messages as handed to RQ, each with its job; on PostgreSQL relays on several
    hosts skip each other's."""
    session = db.session
    with write_transaction(session):
        ids = list(
            session.scalars(
                select(OutboundMessage.id)
                .where(
                    OutboundMessage.status == MessageStatus.QUEUED,
                    OutboundMessage.job_queued_at.is_(None),
                    OutboundMessage.next_attempt_at <= utcnow(),
                )
                .order_by(OutboundMessage.id)
                .limit(size)
                .with_for_update(skip_locked=True)
            )
        )
        batches = plan_batches(ids)
        for batch in batches:
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(batch.message_ids))
                .values(job_queued_at=utcnow(), job_id=batch.job_id)
            )
    return batches


def _release(ids: list[int]) -> None:
    with write_transaction(db.session):
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids))
            .values(job_queued_at=None, job_id=None)
        )
