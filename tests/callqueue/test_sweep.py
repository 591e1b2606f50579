"""The sweep: SMS recorded in SQL reach RQ, even after Redis was down or lost jobs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlalchemy import select, update

from callqueue.queues import get_queue
from callqueue.sweep import sweep
from core.extensions import db
from core.models import Callback, MissedCall, OutboundMessage, utcnow
from core.redis_client import redis_client
from tests.conftest import run_jobs
from tests.ivr.test_missed_call import missed_call


def test_missed_calls_during_a_redis_outage_are_recorded_and_sent_later(
    make_app, own_redis, twilio_api
):
    app = make_app(REDIS_URL=own_redis.url, RECONCILE_AFTER_SECONDS=0)
    client = app.test_client()
    own_redis.stop()

    responses = [missed_call(client, f"+9198123456{n:02d}", sid=f"CA{n:032d}") for n in range(3)]

    for response in responses:
        assert response.status_code == 200
        assert [child.tag for child in ET.fromstring(response.data)] == ["Reject"]
    with app.app_context():
        assert len(db.session.scalars(select(MissedCall)).all()) == 3
        assert len(db.session.scalars(select(Callback)).all()) == 3
        statuses = db.session.scalars(select(OutboundMessage.status)).all()
        assert statuses == ["queued"] * 3
        assert sweep().redis_down
    # The host still takes webhooks; background work says it is stalled.
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz/background").status_code == 503

    own_redis.start()
    with app.app_context():
        report = sweep()
    assert (report["relayed"], report.redis_down) == (3, False)
    run_jobs(app)

    assert sorted(sms["To"] for sms in twilio_api.messages) == [
        f"+9198123456{n:02d}" for n in range(3)
    ]
    with app.app_context():
        assert set(db.session.scalars(select(OutboundMessage.status))) == {"sent"}


def test_the_webhook_leaves_redis_alone_and_the_sweep_relays_once(make_app, twilio_api):
    app = make_app(RECONCILE_AFTER_SECONDS=0)
    missed_call(app.test_client())
    with app.app_context():
        assert get_queue("sms").count == 0
        first, second = sweep(), sweep()
        assert get_queue("sms").count == 1
    assert (first["relayed"], second["relayed"]) == (1, 0)
    assert (second["requeued"], second["already_queued"]) == (0, 1)
    run_jobs(app)
    assert len(twilio_api.messages) == 1


def test_sweep_requeues_a_message_whose_job_redis_lost(make_app, twilio_api):
    app = make_app(RECONCILE_AFTER_SECONDS=0)
    missed_call(app.test_client())
    with app.app_context():
        assert sweep()["relayed"] == 1
        redis_client().flushdb()  # the job is gone, as after a Redis restart without a dump
        assert sweep()["requeued"] == 1
    run_jobs(app)
    assert len(twilio_api.messages) == 1


def test_sweep_waits_the_grace_period_before_requeueing(app, client):
    missed_call(client)
    with app.app_context():
        assert sweep()["relayed"] == 1
        redis_client().flushdb()
        assert sweep()["requeued"] == 0  # a minute has not passed yet


def test_a_message_held_by_a_dead_worker_is_marked_unknown_not_sent_again(make_app, twilio_api):
    app = _held_by_a_worker_for(make_app, minutes=11)
    with app.app_context():
        report = sweep()
        # The worker may have died after the provider took it: nobody sends it by guess.
        assert db.session.scalars(select(OutboundMessage.status)).all() == ["unknown"]
    assert (report["abandoned"], report["relayed"]) == (1, 0)
    run_jobs(app)
    assert twilio_api.messages == []


def test_a_message_held_less_than_the_limit_is_left_to_its_worker(make_app):
    app = _held_by_a_worker_for(make_app, minutes=9)
    with app.app_context():
        assert sweep()["abandoned"] == 0
        assert db.session.scalars(select(OutboundMessage.status)).all() == ["sending"]


def _held_by_a_worker_for(make_app, *, minutes: int):
    """Return an app whose one SMS a worker began sending ``minutes`` ago."""
    app = make_app(RECONCILE_AFTER_SECONDS=0)
    missed_call(app.test_client())
    with app.app_context():
        db.session.execute(
            update(OutboundMessage).values(
                status="sending", next_attempt_at=utcnow() - timedelta(minutes=minutes)
            )
        )
        db.session.commit()
    return app


def test_callbacks_with_no_missed_call_for_the_expiry_period_close_as_expired(app, client):
    missed_call(client, "+919812345601", sid="CA" + "1" * 32)
    missed_call(client, "+919812345602", sid="CA" + "2" * 32)
    with app.app_context():
        db.session.execute(
            update(Callback)
            .where(Callback.phone == "+919812345601")
            .values(last_missed_at=utcnow() - timedelta(hours=73))
        )
        db.session.commit()
        assert sweep()["expired"] == 1
        statuses = dict(db.session.execute(select(Callback.phone, Callback.status)).all())
        assert statuses == {"+919812345601": "expired", "+919812345602": "pending"}
        assert db.session.scalars(
            select(Callback.closed_at).where(Callback.status == "expired")
        ).one()


def test_an_expired_callback_lets_the_next_missed_call_open_a_new_one(app, client):
    missed_call(client, sid="CA" + "1" * 32)
    with app.app_context():
        db.session.execute(update(Callback).values(last_missed_at=utcnow() - timedelta(hours=80)))
        db.session.commit()
        sweep()
    missed_call(client, sid="CA" + "2" * 32)
    with app.app_context():
        assert db.session.scalars(select(Callback.status).order_by(Callback.id)).all() == [
            "expired",
            "pending",
        ]


def test_sweep_command_reports_what_it_did(make_app):
    app = make_app(RECONCILE_AFTER_SECONDS=0)
    result = app.test_cli_runner().invoke(args=["queue", "sweep"])
    assert result.exit_code == 0
    assert "relayed 0, requeued 0" in result.output
