"""Sending recorded SMS: one RQ job per batch of messages, their sends overlapping.

An outage notice goes to every consumer of a feeder at once. One RQ job per message
cost a forked work horse and a dozen Redis round trips per SMS, and three transactions
of its own: one worker sent some 15-20 SMS a second, and a notice to 1,00,000 consumers
took well over an hour. Here the relay queues one job per ``SMS_BATCH_SIZE`` messages,
and the job keeps ``SMS_SEND_CONCURRENCY`` sends in flight from a thread pool (each send
first waits for its slot under ``SMS_PER_SECOND_LIMIT``, ``callqueue.rate_limit``); each
time some end, one transaction records their outcomes and claims the next messages for
the free places. Measured by ``python -m bench --only bulk-sms`` (README, Benchmarks).
It costs a thread pool per job and a job id on each message; ``SMS_BATCH_SIZE=1`` and
``SMS_SEND_CONCURRENCY=1`` send one message a job, one at a time, as before.

Send-once holds as it did with a job per message: a message is marked ``sending`` in a
committed claim before the provider is asked, and its outcome is recorded after. A worker
that dies mid-batch leaves only its claimed, in-flight messages ``sending`` (the sweep
marks them ``unknown``: the provider may have taken them); the batch's other messages stay
``queued``, and the sweep queues them again once RQ counts the job as abandoned. One
message's error never fails the batch. A message the provider could not take now waits
its ``SMS_RETRY_BACKOFF`` and goes out in a job scheduled for then.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter, defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import update

from callqueue.context import app_job
from callqueue.queues import SMS_QUEUE, enqueue_batch, get_queue, job_data
from callqueue.rate_limit import RateLimit
from callqueue.sms import UNANSWERED_NOTE, backoff_seconds
from core.config import settings
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, utcnow
from core.phone import mask
from core.redis_client import redis_client
from telephony import provider, sms_sender, webhook_url
from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError
from telephony.outbound import REST_TIMEOUT_SECONDS, Provider

log = logging.getLogger("sampark.sms")

JOB_TIMEOUT_BASE_SECONDS = 60
"""A batch job's time allowed, before its sends' own (``job_timeout``)."""


@dataclass(frozen=True, slots=True)
class Batch:
    """The messages one send job takes, and that job's id."""

    job_id: str
    message_ids: list[int]


def plan_batches(message_ids: Sequence[int]) -> list[Batch]:
    """Cut messages into ``SMS_BATCH_SIZE`` batches, each with a job id no other job has."""
    size = max(1, current_app.config["SMS_BATCH_SIZE"])
    tag = secrets.token_hex(4)
    return [
        Batch(f"sms-{chunk[0]}-{len(chunk)}-{tag}", chunk)
        for chunk in _chunks(list(message_ids), size)
    ]


def enqueue_batches(batches: Sequence[Batch], *, wait_seconds: int = 0) -> None:
    """Queue the batches' send jobs in one round trip, or schedule them ``wait_seconds`` on.

    Raises ``RedisError`` when Redis is down: the caller's SQL record says what waits.
    """
    if not batches:
        return
    if wait_seconds <= 0:
        jobs = [
            job_data(
                send_messages,
                batch.message_ids,
                job_id=batch.job_id,
                timeout=job_timeout(len(batch.message_ids)),
            )
            for batch in batches
        ]
        enqueue_batch(SMS_QUEUE, jobs)
        return
    queue = get_queue(SMS_QUEUE)
    due = datetime.now(UTC) + timedelta(seconds=wait_seconds)
    with queue.connection.pipeline() as pipeline:
        for batch in batches:
            queue.enqueue_at(
                due,
                send_messages,
                batch.message_ids,
                job_id=batch.job_id,
                job_timeout=job_timeout(len(batch.message_ids)),
                result_ttl=settings().RQ_RESULT_TTL,
                failure_ttl=settings().RQ_FAILURE_TTL,
                pipeline=pipeline,
            )
        pipeline.execute()


def enqueue_messages(message_ids: Sequence[int]) -> list[Batch]:
    """Queue send jobs for these messages now; return the batches (their job ids to record)."""
    batches = plan_batches(message_ids)
    enqueue_batches(batches)
    return batches


def read_rate_limit(value: object) -> float:
    """Read ``SMS_PER_SECOND_LIMIT``: SMS a second, 0 (or empty) for none."""
    try:
        limit = float(value or 0)
    except (TypeError, ValueError):
        raise ValueError(
            f"SMS_PER_SECOND_LIMIT must be a number of SMS a second (0: no limit), not {value!r}"
        ) from None
    if limit < 0 or limit != limit:  # NaN is not a limit either
        raise ValueError(f"SMS_PER_SECOND_LIMIT must be 0 or more, not {value!r}")
    return limit


def job_timeout(size: int) -> int:
    """Return how long a job of ``size`` messages may run: every round of sends may take
    the REST timeout twice (connect, then read), and a rate limit spaces the sends out
    (shared with other workers, hence four times its own share)."""
    config = current_app.config
    rounds = -(-size // max(1, config["SMS_SEND_CONCURRENCY"]))
    limit = config["SMS_PER_SECOND_LIMIT"]
    paced = 4 * size / limit if limit > 0 else 0
    return int(JOB_TIMEOUT_BASE_SECONDS + rounds * 2 * REST_TIMEOUT_SECONDS + paced)


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    recipient: str
    body: str
    dlt_template_id: str | None
    attempts: int


@dataclass(slots=True)
class _Outcome:
    message: _Claimed
    result: str  # sent, retry, unknown, failed, refused, released
    values: dict[str, Any]
    wait: int = 0
    note: str = field(default="")


@app_job
def send_messages(message_ids: list[int]) -> dict[str, int]:
    """Send recorded SMS; return how many ended how. Safe to run twice: a message that is
    not ``queued`` (sent already, held by another worker, gone) is left alone.

    Up to ``SMS_SEND_CONCURRENCY`` sends are in flight at once; each time some end, one
    transaction records their outcomes and claims the next messages for the free places.
    """
    sender = _Sender.for_app()
    concurrency = max(1, current_app.config["SMS_SEND_CONCURRENCY"])
    # Claim for at least half the window at a time: one statement for many messages.
    claim_at_least = max(1, concurrency // 2)
    waiting = deque(message_ids)
    in_flight: set[futures.Future[_Outcome]] = set()
    outcomes: list[_Outcome] = []
    counts: Counter[str] = Counter()
    threads = min(concurrency, len(waiting)) or 1
    pool = futures.ThreadPoolExecutor(threads, thread_name_prefix="sms-send")
    try:
        while waiting or in_flight or outcomes:
            free = concurrency - len(in_flight)
            chunk: list[int] = []
            if waiting and free >= min(len(waiting), claim_at_least):
                chunk = [waiting.popleft() for _ in range(min(free, len(waiting)))]
            claimed = _record_and_claim(outcomes, chunk)
            counts.update(outcome.result for outcome in outcomes)
            counts["not queued"] += len(chunk) - len(claimed)
            in_flight.update(pool.submit(sender.attempt, message) for message in claimed)
            outcomes = []
            if in_flight:
                done, in_flight = futures.wait(in_flight, return_when=futures.FIRST_COMPLETED)
                outcomes = [future.result() for future in done]
    finally:
        pool.shutdown(wait=True)
    return {result: n for result, n in counts.items() if n}


def _record_and_claim(outcomes: list[_Outcome], message_ids: list[int]) -> list[_Claimed]:
    """In one transaction, write what came of some sends and claim the next messages;
    then queue the retries' jobs."""
    retries = _plan_retries(outcomes)
    if outcomes:
        rows = [{"id": outcome.message.id, **outcome.values} for outcome in outcomes]
        for row in rows:
            if row["id"] in retries:
                row["job_id"] = retries[row["id"]].job_id
        db.session.execute(update(OutboundMessage), rows)
    claimed = _claim(message_ids) if message_ids else []
    db.session.commit()
    for outcome in outcomes:
        _log(outcome)
    _queue_retries(outcomes, retries)
    return claimed


def _claim(message_ids: list[int]) -> list[_Claimed]:
    """Mark the queued ones of these messages ``sending`` (the caller commits)."""
    rows = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(message_ids), OutboundMessage.status == MessageStatus.QUEUED)
        # While sending, next_attempt_at says when this attempt began (the sweep reads it).
        .values(
            status=MessageStatus.SENDING,
            attempts=OutboundMessage.attempts + 1,
            next_attempt_at=utcnow(),
        )
        .returning(
            OutboundMessage.id,
            OutboundMessage.recipient,
            OutboundMessage.body,
            OutboundMessage.dlt_template_id,
            OutboundMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((_Claimed(*row) for row in rows), key=lambda message: message.id)


@dataclass(frozen=True, slots=True)
class _Sender:
    """What every send of a job needs, read from the app once (threads have no app)."""

    provider: Provider
    sender: str
    status_callback: str | None
    max_attempts: int
    waits: list[int]
    rate_limit: RateLimit | None

    @classmethod
    def for_app(cls) -> _Sender:
        config = current_app.config
        outgoing = provider()
        limit = config["SMS_PER_SECOND_LIMIT"]
        return cls(
            provider=outgoing,
            sender=sms_sender(),
            # Without a public URL the provider could not reach us: ask for no reports.
            status_callback=webhook_url("sms.sms_status") if config["PUBLIC_BASE_URL"] else None,
            max_attempts=config["SMS_MAX_ATTEMPTS"],
            waits=backoff_seconds(),
            rate_limit=RateLimit(redis_client(), outgoing.name, limit) if limit > 0 else None,
        )

    def attempt(self, message: _Claimed) -> _Outcome:
        """Ask the provider to send one claimed message; say what came of it (never raises)."""
        if self.rate_limit is not None:
            try:
                self.rate_limit.wait_for_slot()
            except RedisError as exc:
                # Not asked, so not sent: back to the relay once Redis answers.
                return _Outcome(
                    message.id,
                    "released",
                    {
                        "status": MessageStatus.QUEUED,
                        "attempts": message.attempts - 1,
                        "next_attempt_at": utcnow(),
                        "job_queued_at": None,
                        "job_id": None,
                    },
                    note=f"no rate-limit slot, Redis down ({type(exc).__name__})",
                )
        try:
            receipt = self.provider.send_sms(
                message.recipient,
                message.body,
                sender=self.sender,
                status_callback=self.status_callback,
                dlt_template_id=message.dlt_template_id,
            )
        except TransientTelephonyError as exc:
            return self._transient(message, exc)
        except PermanentTelephonyError as exc:
            return _Outcome(message, "refused", {"status": MessageStatus.FAILED, "error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - one message's fault must not fail the batch
            # Whatever broke, the provider may have taken it: a person settles it.
            log.exception("SMS %s to %s: sending broke", message.id, mask(message.recipient))
            error = f"{type(exc).__name__}: {exc}: {UNANSWERED_NOTE}"
            return _Outcome(message, "unknown", {"status": MessageStatus.UNKNOWN, "error": error})
        return _Outcome(
            message,
            "sent",
            {
                "status": MessageStatus.SENT,
                "error": None,
                "provider": receipt.provider,
                "provider_sid": receipt.sid,
                "sent_at": utcnow(),
            },
            note=receipt.provider,
        )

    def _transient(self, message: _Claimed, exc: TransientTelephonyError) -> _Outcome:
        if exc.may_have_been_taken:
            # Asking again could send it twice; a person settles it (MessageStatus.UNKNOWN).
            error = f"{exc}: {UNANSWERED_NOTE}"
            return _Outcome(message, "unknown", {"status": MessageStatus.UNKNOWN, "error": error})
        if message.attempts >= self.max_attempts:
            return _Outcome(message, "failed", {"status": MessageStatus.FAILED, "error": str(exc)})
        waits = self.waits
        wait = waits[min(message.attempts - 1, len(waits) - 1)] if waits else 60
        return _Outcome(
            message,
            "retry",
            {
                "status": MessageStatus.QUEUED,
                "error": str(exc),
                "next_attempt_at": utcnow() + timedelta(seconds=wait),
            },
            wait=wait,
        )


def _plan_retries(outcomes: list[_Outcome]) -> dict[int, Batch]:
    """Return the retry job of each message to retry, by message id (one job per wait)."""
    by_wait: dict[int, list[int]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.result == "retry":
            by_wait[outcome.wait].append(outcome.message.id)
    return {
        message_id: batch
        for ids in by_wait.values()
        for batch in plan_batches(ids)
        for message_id in batch.message_ids
    }


def _queue_retries(outcomes: list[_Outcome], retries: dict[int, Batch]) -> None:
    """Queue (or schedule) the retry jobs once their messages' records are committed."""
    waits = {outcome.message.id: outcome.wait for outcome in outcomes}
    for batch in {batch.job_id: batch for batch in retries.values()}.values():
        try:
            enqueue_batches([batch], wait_seconds=waits[batch.message_ids[0]])
        except RedisError as exc:
            # The relay hands them to RQ again once Redis answers and they are due.
            db.session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(batch.message_ids))
                .values(job_queued_at=None, job_id=None)
            )
            db.session.commit()
            log.warning("SMS retries wait for the relay: Redis unreachable (%s)", exc)


def _log(outcome: _Outcome) -> None:
    message_id, to = outcome.message.id, mask(outcome.message.recipient)
    error = outcome.values.get("error")
    if outcome.result == "sent":
        log.info("SMS %s sent to %s via %s", message_id, to, outcome.note)
    elif outcome.result == "retry":
        log.warning("SMS %s to %s will be retried in %s s: %s", message_id, to, outcome.wait, error)
    elif outcome.result == "released":
        log.warning("SMS %s to %s not sent, back to the relay: %s", message_id, to, outcome.note)
    elif outcome.result == "unknown":
        log.error("SMS %s to %s: may have been taken; not sent again: %s", message_id, to, error)
    else:
        log.error("SMS %s to %s %s: %s", message_id, to, outcome.result, error)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
