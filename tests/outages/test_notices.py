"""An outage's SMS reaches every consumer of its feeder, once, at the right time."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from callqueue.relay import relay_messages
from callqueue.sweep import sweep
from core.extensions import db
from core.models import OutboundMessage, utcnow
from core.models.outages import NoticeKind, Outage, OutageNotice, OutageState
from core.redis_client import redis_client
from outages.notices import record_notices
from outages.records import close_outage
from tests.conftest import run_jobs
from tests.outages.conftest import FEEDER, new_outage, phone, planned, record, seed_feeder
from tests.support.processes import wait_until
from tests.support.workers import start_worker, stop_worker

ON_FEEDER = {phone(n) for n in range(40)} | {phone(n + 50_000) for n in range(0, 40, 5)}
"""The 48 numbers linked to the 40 accounts on FEEDER."""


def drain(app) -> None:
    """Run the recording job, then relay and send what it recorded."""
    run_jobs(app)
    run_jobs(app)


def messages(app, template: str | None = None) -> list[OutboundMessage]:
    with app.app_context():
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if template:
            query = query.where(OutboundMessage.template == template)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def test_an_unplanned_outage_reaches_every_number_on_the_feeder_through_a_worker(
    make_app, app_config, tmp_path
):
    # The outbox provider (no Twilio account), and a real `flask queue worker` process.
    config = {**app_config, "TWILIO_ACCOUNT_SID": "", "OUTAGE_NOTICE_BATCH": 7}
    app = make_app(**config)
    seed_feeder(app, FEEDER, 40)
    seed_feeder(app, "F0008", 10, first=100, area="Ward 4")
    worker = start_worker(config, tmp_path / "worker.log")
    try:
        outage_id = record(app, new_outage())  # its recording job goes to the worker
        with app.app_context():
            wait_until(lambda: sweep() is not None and _sent(app) == len(ON_FEEDER), timeout=60)
    finally:
        stop_worker(worker)
    sent = messages(app, "outage_unplanned")
    assert {m.recipient for m in sent} == ON_FEEDER  # everyone on the feeder, nobody else
    assert len(sent) == len(ON_FEEDER)  # one each
    assert all(m.status == "sent" and m.provider == "outbox" for m in sent)
    english = next(m for m in sent if m.recipient == phone(0))
    hindi = next(m for m in sent if m.recipient == phone(1))
    assert "power supply in feeder F0007 is interrupted by a line fault" in english.body
    assert "फ़ीडर F0007 में बिजली आपूर्ति बाधित है" in hindi.body
    with app.app_context():
        notices = db.session.scalar(select(func.count()).where(OutageNotice.outage_id == outage_id))
    assert notices == len(ON_FEEDER)


def _sent(app) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).where(
                OutboundMessage.template == "outage_unplanned", OutboundMessage.status == "sent"
            )
        )
        db.session.rollback()
        return count or 0


def test_recording_again_sends_nobody_a_second_notice(app, feeders):
    outage_id = record(app, new_outage())
    drain(app)  # the job records, then the worker sends them
    with app.app_context():
        # As if the job ran twice and the sweeper once more: the claims are per number.
        db.session.execute(update(Outage).values(notices_recorded_at=None))
        db.session.commit()
        assert record_notices(outage_id) == 0
    run_jobs(app)
    assert len(messages(app, "outage_unplanned")) == len(ON_FEEDER)


def test_notices_whose_job_redis_lost_are_queued_again_by_the_sweeper(make_app):
    app = make_app(RECONCILE_AFTER_SECONDS=0)
    seed_feeder(app, FEEDER, 40)
    record(app, new_outage())
    with app.app_context():
        redis_client().flushdb()  # Redis restarted without its data: the job is gone
        assert sweep()["outage_notices_requeued"] == 1
        assert sweep()["outage_notices_requeued"] == 0  # queued already, not twice
    drain(app)
    sent = messages(app, "outage_unplanned")
    assert len(sent) == len(ON_FEEDER) and {m.status for m in sent} == {"sent"}
    with app.app_context():
        assert sweep()["outage_notices_requeued"] == 0  # all recorded: nothing left to do


def test_a_planned_outage_waits_for_calling_hours(make_app):
    zone = ZoneInfo("Asia/Kolkata")
    local = utcnow().astimezone(zone)
    # Calling hours that open two hours from now (and close an hour later).
    opens = (local + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    closes = opens + timedelta(hours=1)
    if closes.date() != opens.date():  # keep the window inside one day
        opens, closes = opens - timedelta(hours=3), opens - timedelta(hours=2)
    app = make_app(CALLING_HOURS=f"{opens:%H:%M}-{closes:%H:%M}")
    seed_feeder(app, FEEDER, 12)
    record(app, planned(timedelta(days=1), 4, reason_code="maintenance"))
    drain(app)  # records the notices; the relay finds none due
    waiting = messages(app, "outage_planned")
    assert len(waiting) == 15 and {m.status for m in waiting} == {"queued"}
    with app.app_context():
        from core.hours import next_calling_time

        due = next_calling_time()
    assert {m.next_attempt_at for m in waiting} == {due}
    assert due.astimezone(zone).strftime("%H:%M") == f"{opens:%H:%M}"
    assert "maintenance work" in next(m.body for m in waiting if m.language == "en")

    # Calling hours open: the relay takes them and they go.
    with app.app_context():
        db.session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
    drain(app)
    assert {m.status for m in messages(app, "outage_planned")} == {"sent"}


def test_restored_outage_tells_those_who_heard_and_a_cancelled_one_withdraws_its_notices(
    app, feeders
):
    outage_id = record(app, new_outage())
    drain(app)
    with app.app_context():
        close_outage(outage_id, OutageState.RESTORED, None)
    drain(app)
    restored = messages(app, "outage_restored")
    assert {m.recipient for m in restored} == ON_FEEDER
    assert {m.status for m in restored} == {"sent"}

    # A planned outage called off before its notices went: none go.
    called_off = record(app, planned(timedelta(days=2), 2, submission_key="b" * 32))
    with app.app_context():
        record_notices(called_off)
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.template == "outage_planned")
            .values(next_attempt_at=utcnow() + timedelta(hours=5))
        )
        db.session.commit()
        close_outage(called_off, OutageState.CANCELLED, None)
        assert relay_messages() == 0
    withdrawn = messages(app, "outage_planned")
    assert len(withdrawn) == len(ON_FEEDER) and {m.status for m in withdrawn} == {"failed"}


def test_restoration_sms_can_be_switched_off(make_app):
    app = make_app(OUTAGE_RESTORED_SMS=False)
    seed_feeder(app, FEEDER, 5)
    outage_id = record(app, new_outage())
    drain(app)
    with app.app_context():
        close_outage(outage_id, OutageState.RESTORED, None)
        assert record_notices(outage_id, NoticeKind.RESTORED) == 0
    drain(app)
    assert messages(app, "outage_restored") == []
