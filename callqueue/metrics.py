"""RQ's queues for ``/metrics``: jobs waiting, running, scheduled and failed on each queue."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from prometheus_client.metrics_core import Metric

from callqueue.queues import ALL_QUEUES, get_queue
from core.metrics import gauge, register_collector
from core.redis_client import redis_client


def init_app(app: Flask) -> None:
    """Report the queues at each scrape."""
    register_collector(app, rq_queues)


def rq_queues() -> Iterator[Metric]:
    """Read each queue's length and its registries' sizes from Redis, in one round trip."""
    queues = [get_queue(name) for name in ALL_QUEUES]
    states = ("queued", "started", "scheduled", "deferred", "failed")
    with redis_client().pipeline(transaction=False) as pipeline:
        for queue in queues:
            pipeline.llen(queue.key)
            for registry in (
                queue.started_job_registry,
                queue.scheduled_job_registry,
                queue.deferred_job_registry,
                queue.failed_job_registry,
            ):
                pipeline.zcard(registry.key)
        counts = iter(pipeline.execute())
    rows = [(queue.name, state, next(counts)) for queue in queues for state in states]
    yield gauge(
        "sampark_rq_jobs",
        "RQ jobs by queue and state (failed: kept for inspection, RQ_FAILURE_TTL).",
        ["queue", "state"],
        rows,
    )
