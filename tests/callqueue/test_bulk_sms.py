"""Bulk SMS: many messages a job, their sends overlapping, each still sent at most once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import select, update

from app import create_app
from callqueue.queues import get_queue
from callqueue.rate_limit import RateLimit
from callqueue.sms import record_message
from callqueue.sweep import sweep
from core.extensions import db
from core.models import OutboundMessage, utcnow
from tests.conftest import run_jobs
from tests.support.processes import wait_until
from tests.support.workers import kill_worker, start_worker, stop_worker


def record_notices(app, count: int) -> list[str]:
    """Record ``count`` notices to distinct numbers; return the numbers."""
    numbers = [f"+9198123{n:05d}" for n in range(count)]
    with app.app_context():
        for number in numbers:
            record_message(db.session, key="missed_call_ack", to=number, language="hi")
        db.session.commit()
    return numbers


def statuses(app) -> dict[str, str]:
    """Return each recipient's message status."""
    with app.app_context():
        rows = db.session.execute(select(OutboundMessage.recipient, OutboundMessage.status))
        found = {recipient: status for recipient, status in rows}
        db.session.rollback()
        return found


def test_a_notice_to_many_goes_out_in_few_jobs_with_sends_overlapping(make_app, twilio_api):
    app = make_app(SMS_BATCH_SIZE=25, SMS_SEND_CONCURRENCY=10)
    numbers = record_notices(app, 50)
    with app.app_context():
        assert sweep()["relayed"] == 50
        assert get_queue("sms").count == 2  # two jobs of 25, not 50 jobs
    twilio_api.delay(0.3)
    started = time.monotonic()
    run_jobs(app)
    took = time.monotonic() - started
    twilio_api.delay(0)
    # One at a time, 50 sends of 0.3 s would take 15 s; ten at once take about 1.5 s.
    assert took < 6, took
    assert sorted(sms["To"] for sms in twilio_api.messages) == numbers
    assert set(statuses(app).values()) == {"sent"}


def test_one_message_failing_does_not_fail_its_batch(make_app, twilio_api):
    # One send at a time, so that the stand-in's injected failures meet known messages.
    app = make_app(SMS_BATCH_SIZE=10, SMS_SEND_CONCURRENCY=1)
    numbers = record_notices(app, 4)
    twilio_api.fail_next(1, status=400, code=21211, resource="messages")
    twilio_api.fail_next(1, status=503, code=20503, resource="messages")
    run_jobs(app)
    assert statuses(app) == {
        numbers[0]: "failed",  # refused for good
        numbers[1]: "sent",  # retried in a job of its own, and sent
        numbers[2]: "sent",
        numbers[3]: "sent",
    }
    with app.app_context():
        second = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.recipient == numbers[1])
        ).one()
        assert (second.attempts, second.error) == (2, None)
        assert FailedJobRegistry(queue=get_queue("sms")).count == 0
    assert sorted(sms["To"] for sms in twilio_api.messages) == numbers[1:]


def test_sends_keep_to_the_providers_rate_limit(make_app, twilio_api):
    app = make_app(SMS_PER_SECOND_LIMIT=20, SMS_SEND_CONCURRENCY=10)
    record_notices(app, 30)
    started = time.monotonic()
    run_jobs(app)
    took = time.monotonic() - started
    assert len(twilio_api.messages) == 30
    # 30 sends, one every 50 ms: the last starts 1.45 s after the first.
    assert took >= 1.45, took


def test_the_rate_limit_is_shared_by_every_worker(app):
    # Two workers, each with its own Redis connection and four sending threads.
    limits = [RateLimit(Redis.from_url(app.config["REDIS_URL"]), "twilio", 25) for _ in range(2)]
    starts: list[float] = []
    lock = threading.Lock()

    def send(limit: RateLimit) -> None:
        for _ in range(5):
            limit.wait_for_slot()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=send, args=(limit,)) for limit in limits for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    busiest = max(sum(1 for t in starts[i:] if t - first < 1.0) for i, first in enumerate(starts))
    assert len(starts) == 40
    assert busiest <= 26  # 25 a second, and one more for the sleeps' jitter
    assert starts[-1] - starts[0] >= 39 / 25 - 0.05


def test_a_worker_killed_mid_batch_leaves_only_its_in_flight_sends_unknown(
    make_app, app_config, twilio_api, tmp_path
):
    config = {
        **app_config,
        "RECONCILE_AFTER_SECONDS": 0,
        "SMS_BATCH_SIZE": 20,
        "SMS_SEND_CONCURRENCY": 3,
    }
    app = make_app(**config)
    numbers = record_notices(app, 8)
    twilio_api.delay(3)  # a slow provider: the worker dies while it takes three messages
    worker = start_worker(config, tmp_path / "first.log")
    try:
        with app.app_context():
            assert sweep()["relayed"] == 8
        wait_until(lambda: list(statuses(app).values()).count("sending") == 3, timeout=15)
        held = sorted(n for n, s in statuses(app).items() if s == "sending")
        time.sleep(1.5)  # the requests are on the wire
        kill_worker(worker)
    finally:
        stop_worker(worker)
    # The provider takes the ones in flight anyway; the other five were never asked for.
    time.sleep(3)
    taken = sorted(sms["To"] for sms in twilio_api.messages)
    assert set(taken) <= set(held)
    assert sorted(n for n, s in statuses(app).items() if s == "sending") == held
    twilio_api.delay(0)

    with app.app_context():
        # Ten minutes on: the sweep marks what the dead worker held unknown, and RQ counts
        # the dead job as abandoned, so the sweep queues the rest of its batch again.
        db.session.execute(
            update(OutboundMessage).values(next_attempt_at=utcnow() - timedelta(minutes=11))
        )
        db.session.commit()
        StartedJobRegistry(queue=get_queue("sms")).cleanup(time.time() + 3600)
        report = sweep()
        assert (report["abandoned"], report["requeued"]) == (3, 5)

    second = start_worker(config, tmp_path / "second.log")
    try:
        twilio_api.wait_for_messages(len(taken) + 5, timeout=20)
        wait_until(lambda: list(statuses(app).values()).count("sent") == 5, timeout=10)
    finally:
        stop_worker(second)
    rest = sorted(set(numbers) - set(held))
    # Each at most once: the held ones never again, the rest once each.
    assert sorted(sms["To"] for sms in twilio_api.messages) == sorted(taken + rest)
    final = statuses(app)
    assert sorted(n for n, s in final.items() if s == "unknown") == held
    assert sorted(n for n, s in final.items() if s == "sent") == rest


def test_a_rate_limit_that_is_not_a_number_stops_the_app_at_start(app_config):
    with pytest.raises(ValueError, match="SMS_PER_SECOND_LIMIT='fast' must be a number"):
        create_app({**app_config, "SMS_PER_SECOND_LIMIT": "fast"})
    with pytest.raises(ValueError, match="SMS_PER_SECOND_LIMIT must be 0 or more"):
        create_app({**app_config, "SMS_PER_SECOND_LIMIT": "-5"})
    assert (
        create_app({**app_config, "SMS_PER_SECOND_LIMIT": ""}).config["SMS_PER_SECOND_LIMIT"] == 0.0
    )
