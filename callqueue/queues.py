"""The RQ queues, named by concern, and enqueueing that survives a Redis outage."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.queue import EnqueueData

from core.config import settings
from core.redis_client import redis_client

log = logging.getLogger("sampark.callqueue")

SMS_QUEUE = "sms"
"""Outgoing SMS: acknowledgements, demand notes, notices."""

CALLS_QUEUE = "calls"
"""Outgoing calls: operator bridges, retries."""

CAMPAIGNS_QUEUE = "campaigns"
"""Outbound announcement campaigns, paced."""

MAINTENANCE_QUEUE = "maintenance"
"""Housekeeping: reconciliation and expiry."""

METERS_QUEUE = "meters"
"""Smart-meter reconnection: head-end commands and relay reads (``meters.reconnection``)."""

ALL_QUEUES = (SMS_QUEUE, CALLS_QUEUE, CAMPAIGNS_QUEUE, MAINTENANCE_QUEUE, METERS_QUEUE)
"""Every queue, in the order a worker takes from them."""

REDIS_PAUSE_SECONDS = 5.0
"""After Redis fails, skip it for this long: the work is recorded, and the sweep catches up."""

PAUSE_KEY = "redis_paused_until"
"""Where in ``app.extensions`` the end of the current pause is kept (monotonic seconds)."""


def get_queue(name: str) -> Queue:
    """Return the named queue on the app's Redis."""
    return Queue(name, connection=redis_client())


def enqueue(
    queue_name: str,
    func: Callable[..., Any],
    *args: Any,
    job_id: str,
    retry: Retry | None = None,
    at: datetime | None = None,
) -> bool:
    """Put a job on a queue (for ``at``, when given); return False (and log) when Redis is
    down instead of raising.

    Callers record their work in SQL before calling this, so a False here only delays it.
    """
    extensions = current_app.extensions
    if time.monotonic() < extensions.get(PAUSE_KEY, 0.0):
        return False
    options = {
        "job_id": job_id,
        "retry": retry,
        "result_ttl": settings().RQ_RESULT_TTL,
        "failure_ttl": settings().RQ_FAILURE_TTL,
    }
    try:
        queue = get_queue(queue_name)
        if at is not None and at > datetime.now(UTC):
            queue.enqueue_at(at, func, *args, **options)
        else:
            queue.enqueue_call(func, args=args, **options)
    except RedisError as exc:
        extensions[PAUSE_KEY] = time.monotonic() + REDIS_PAUSE_SECONDS
        log.warning("Redis unreachable (%s): %s waits for the sweep", type(exc).__name__, job_id)
        return False
    return True


def enqueue_batch(queue_name: str, jobs: list[EnqueueData]) -> None:
    """Put many jobs on a queue in one round trip; raises ``RedisError`` when Redis is down."""
    queue = get_queue(queue_name)
    with queue.connection.pipeline() as pipeline:
        queue.enqueue_many(jobs, pipeline=pipeline)
        pipeline.execute()


def job_data(
    func: Callable[..., Any],
    *args: Any,
    job_id: str,
    retry: Retry | None = None,
    timeout: int | None = None,
) -> EnqueueData:
    """Describe one job for ``enqueue_batch`` (``timeout``: RQ's, 180 s, unless given)."""
    return Queue.prepare_data(
        func,
        args=args,
        job_id=job_id,
        retry=retry,
        timeout=timeout,
        result_ttl=settings().RQ_RESULT_TTL,
        failure_ttl=settings().RQ_FAILURE_TTL,
    )


def reset_redis_pause() -> None:
    """Forget an earlier Redis failure (the sweep calls this when Redis answers again)."""
    current_app.extensions.pop(PAUSE_KEY, None)
