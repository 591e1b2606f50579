"""An SMS goes out at most once, even when its worker dies or the provider answers late."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from callqueue.queues import get_queue
from callqueue.sms_batch import enqueue_messages, send_messages
from callqueue.sweep import sweep
from core.extensions import db
from core.models import OutboundMessage, utcnow
from telephony.outbound import REST_TIMEOUT_SECONDS
from tests.ivr.test_missed_call import missed_call
from tests.support.processes import wait_until
from tests.support.workers import asking, kill_worker, start_worker, stop_worker


def _message(app) -> OutboundMessage:
    with app.app_context():
        message = db.session.scalars(select(OutboundMessage)).one()
        db.session.expunge(message)
        return message


def test_a_worker_killed_while_the_provider_takes_an_sms_never_sends_it_twice(
    make_app, app_config, twilio_api, tmp_path
):
    config = {**app_config, "RECONCILE_AFTER_SECONDS": 0}
    app = make_app(**config)
    missed_call(app.test_client())
    twilio_api.delay(3)  # a slow provider: the worker dies while it takes the message
    worker = start_worker(config, tmp_path / "first.log")
    try:
        with app.app_context():
            assert sweep()["relayed"] == 1
        wait_until(lambda: _message(app).status == "sending", timeout=10)
        # The request is on the wire (a fixed wait lost the race on a busy machine).
        wait_until(lambda: asking(worker, twilio_api.base_url), timeout=10)
        kill_worker(worker)  # worker, scheduler and the work horse mid-send
    finally:
        stop_worker(worker)
    # The provider took it anyway.
    assert len(twilio_api.wait_for_messages(1, timeout=10)) == 1
    twilio_api.delay(0)

    with app.app_context():
        # Ten minutes on, the sweep finds the message its dead worker held.
        db.session.execute(
            update(OutboundMessage).values(next_attempt_at=utcnow() - timedelta(minutes=11))
        )
        db.session.commit()
        report = sweep()
        assert (report["abandoned"], report["relayed"], report["requeued"]) == (1, 0, 0)
    message = _message(app)
    assert message.status == "unknown"
    assert "flask queue resend" in message.error

    # A new worker, and the dead attempt's job run again (as RQ's retry would): nothing goes.
    second = start_worker(config, tmp_path / "second.log")
    try:
        with app.app_context():
            enqueue_messages([message.id])
            for _ in range(3):
                sweep()
            wait_until(lambda: not _queued_jobs(app), timeout=10)
    finally:
        stop_worker(second)
    assert len(twilio_api.messages) == 1
    assert _message(app).status == "unknown"

    # A person checked the provider's log and found it never left: it goes once more.
    result = app.test_cli_runner().invoke(args=["queue", "resend", str(message.id), "999"])
    assert result.output.splitlines() == [
        f"queued again: {message.id}",
        "not unknown, left alone: 999",
    ]
    assert _message(app).status == "queued"


def _queued_jobs(app) -> int:
    with app.app_context():
        return get_queue("sms").count


def test_a_provider_that_answers_after_the_timeout_is_not_asked_again(app, twilio_api):
    missed_call(app.test_client())
    message_id = _message(app).id
    twilio_api.delay(REST_TIMEOUT_SECONDS + 0.5)
    started = time.monotonic()
    with app.app_context():
        assert send_messages([message_id]) == {"unknown": 1}
    assert time.monotonic() - started < REST_TIMEOUT_SECONDS + 2
    # The provider took it after all; the message is not retried.
    assert len(twilio_api.wait_for_messages(1, timeout=5)) == 1
    twilio_api.delay(0)
    message = _message(app)
    assert (message.status, message.attempts) == ("unknown", 1)
    assert "Twilio unreachable: ReadTimeout" in message.error
    with app.app_context():
        assert send_messages([message_id]) == {"not queued": 1}
    assert len(twilio_api.messages) == 1
