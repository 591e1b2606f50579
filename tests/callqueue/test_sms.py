"""Sending SMS through RQ: retried with backoff, never twice, failures recorded."""

from __future__ import annotations

from sqlalchemy import select

from callqueue.sms import record_message
from callqueue.sms_batch import send_messages
from core.extensions import db
from core.models import OutboundMessage
from tests.conftest import run_jobs
from tests.ivr.test_missed_call import missed_call


def only_message(app) -> OutboundMessage:
    with app.app_context():
        message = db.session.scalars(select(OutboundMessage)).one()
        db.session.expunge(message)
        return message


def test_transient_failures_are_retried_until_sent(app, client, twilio_api):
    twilio_api.fail_next(2, status=503, code=20503, resource="messages")
    missed_call(client)
    run_jobs(app)
    [sms] = twilio_api.messages
    message = only_message(app)
    assert (message.status, message.attempts, message.provider_sid) == ("sent", 3, sms["sid"])


def test_retries_are_spaced_by_the_backoff(make_app, twilio_api):
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    from callqueue.queues import get_queue
    from core.redis_client import redis_client

    app = make_app(SMS_RETRY_BACKOFF="30,120")
    twilio_api.fail_next(1, status=500, resource="messages")
    missed_call(app.test_client())
    run_jobs(app)
    assert twilio_api.messages == []
    message = only_message(app)
    assert (message.status, message.attempts) == ("queued", 1)
    wait = (message.next_attempt_at - message.created_at).total_seconds()
    assert 29 <= wait <= 35
    with app.app_context():
        scheduled = ScheduledJobRegistry(queue=get_queue("sms"))
        # The retry is a send job of its own, due when the backoff ends.
        [job_id] = scheduled.get_job_ids()
        assert job_id == message.job_id
        assert Job.fetch(job_id, connection=redis_client()).args == ([message.id],)


def test_gives_up_after_the_last_attempt(make_app, twilio_api):
    app = make_app(SMS_MAX_ATTEMPTS=3)
    twilio_api.fail_next(5, status=500, resource="messages")
    missed_call(app.test_client())
    run_jobs(app)
    message = only_message(app)
    assert (message.status, message.attempts) == ("failed", 3)
    assert "500" in message.error
    assert twilio_api.messages == []


def test_a_refused_number_is_not_retried(app, client, twilio_api):
    twilio_api.fail_next(1, status=400, code=21211, resource="messages")
    missed_call(client)
    run_jobs(app)
    message = only_message(app)
    assert (message.status, message.attempts) == ("failed", 1)
    assert "21211" in message.error


def test_a_job_run_twice_sends_once(app, twilio_api):
    with app.app_context():
        message_id = record_message(
            db.session, key="missed_call_ack", to="+919812345678", language="hi"
        )
        db.session.commit()
        assert send_messages([message_id]) == {"sent": 1}
        assert send_messages([message_id]) == {"not queued": 1}
    assert len(twilio_api.messages) == 1


def test_a_job_for_a_vanished_message_returns_quietly(app):
    with app.app_context():
        assert send_messages([424242]) == {"not queued": 1}


def test_without_twilio_credentials_messages_go_to_the_outbox(make_app, twilio_api):
    app = make_app(TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="", TELEPHONY_VALIDATE_SIGNATURES=False)
    missed_call(app.test_client())
    run_jobs(app)
    assert twilio_api.requests == []
    message = only_message(app)
    assert (message.status, message.provider) == ("sent", "outbox")
    assert "मिस्ड कॉल" in message.body


def test_hindi_acknowledgement_fits_in_two_unicode_segments(app, client):
    missed_call(client)
    assert len(only_message(app).body) <= 2 * 67
