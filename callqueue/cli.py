"""``flask queue …``: the RQ worker, the sweeper and a look at the queues."""

from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError
from sqlalchemy import update

from callqueue.context import bind_app
from callqueue.queues import ALL_QUEUES, get_queue
from callqueue.sweep import sweep
from callqueue.worker import run_worker
from core.database import write_transaction
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, utcnow
from core.redis_client import redis_client

log = logging.getLogger("sampark.sweep")

queue_cli = AppGroup("queue", help="Background work: the RQ worker, the sweeper, queue sizes.")


@queue_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.argument("queues", nargs=-1)
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker (with the scheduler that retries and delayed jobs need).

    It waits for Redis when Redis is down and goes on when it returns (``callqueue.worker``).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bind_app(app)
    names = queues or ALL_QUEUES
    run_worker([get_queue(name) for name in names], redis_client(), burst=burst)


@queue_cli.command("sweep")
@click.option("--every", type=float, default=0, help="Repeat every N seconds (0: once).")
def sweep_command(every: float) -> None:
    """Relay recorded SMS to RQ, queue again what Redis lost, expire old callbacks."""
    while True:
        try:
            report = sweep()
        except Exception:
            if not every:
                raise
            # A database or Redis hiccup must not stop the loop; the next round retries.
            log.exception("sweep failed; trying again in %s s", every)
            time.sleep(every)
            continue
        if not every or report.did_something:
            click.echo(report.summary())
        if not every:
            return
        time.sleep(every)


@queue_cli.command("resend")
@click.argument("message_ids", nargs=-1, type=int, required=True)
def resend_command(message_ids: tuple[int, ...]) -> None:
    """Send again SMS marked unknown, once the provider's log shows they never left."""
    with write_transaction(db.session):
        resent = db.session.scalars(
            update(OutboundMessage)
            .where(
                OutboundMessage.id.in_(message_ids),
                OutboundMessage.status == MessageStatus.UNKNOWN,
            )
            .values(status=MessageStatus.QUEUED, next_attempt_at=utcnow(), job_queued_at=None)
            .returning(OutboundMessage.id)
        ).all()
    skipped = sorted(set(message_ids) - set(resent))
    click.echo(f"queued again: {', '.join(map(str, sorted(resent))) or 'none'}")
    if skipped:
        click.echo(f"not unknown, left alone: {', '.join(map(str, skipped))}")
    # The sweeper's relay hands them to RQ within a second or so.


@queue_cli.command("info")
def info_command() -> None:
    """Print how many jobs wait on each queue."""
    try:
        for name in ALL_QUEUES:
            click.echo(f"{name:12} {get_queue(name).count:8}")
    except RedisError as exc:
        raise click.ClickException(f"Redis is unreachable: {exc}") from exc
