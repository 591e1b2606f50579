"""The relay: hands SMS recorded in SQL to RQ, in batches.

Webhooks record the message in the same transaction as the call it belongs to and leave
Redis alone (a transactional outbox). The relay, run by ``flask queue sweep --every 1``,
moves what is new to the queue. A Redis outage therefore slows nothing down and loses
nothing: the messages wait in SQL until Redis answers again.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import select, update

from callqueue.sms import enqueue_messages
from core.database import write_transaction
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, utcnow

log = logging.getLogger("sampark.relay")

RELAY_BATCH = 500
"""Messages moved per round trip to Redis."""


def relay_messages(limit: int = 10 * RELAY_BATCH) -> int:
    """Queue the send jobs of messages that are due and not yet with RQ; return how many."""
    relayed = 0
    while relayed < limit:
        ids = _claim_batch(min(RELAY_BATCH, limit - relayed))
        if not ids:
            break
        try:
            enqueue_messages(ids)
        except RedisError as exc:
            _release(ids)
            log.warning(
                "relay: Redis unreachable (%s); %d message(s) wait", type(exc).__name__, len(ids)
            )
            break
        relayed += len(ids)
    return relayed


def _claim_batch(size: int) -> list[int]:
    """Mark a batch as handed to RQ; on PostgreSQL relays on several hosts skip each other's."""
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
        if ids:
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(ids))
                .values(job_queued_at=utcnow())
            )
    return ids


def _release(ids: list[int]) -> None:
    with write_transaction(db.session):
        db.session.execute(
            update(OutboundMessage).where(OutboundMessage.id.in_(ids)).values(job_queued_at=None)
        )
