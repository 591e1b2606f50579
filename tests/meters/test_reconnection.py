"""A disconnected smart-meter consumer pays and is reconnected through the head-end, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from rq.job import Job
from sqlalchemy import select, update

from callqueue.sweep import sweep
from core.database import write_transaction
from core.extensions import db
from core.models import Callback, CallbackStatus, OutboundMessage, utcnow
from core.models.consumers import Bill, ConsumerAccount
from core.models.meters import ReconnectionOrder
from core.redis_client import redis_client
from meters.reconnection import (
    CLAIM_LEASE,
    advance_order,
    job_id,
    recover_lost_orders,
    requeue_lost_orders,
)
from payments.ledger import Receipt, mark_paid
from tests.conftest import run_jobs
from tests.meters.conftest import (
    CALLER,
    METER,
    add_meter_consumer,
    clear_dues,
    head_end_settings,
    orders,
)

PAID_AT = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)


def supply_status(app, account_id: int) -> str:
    with app.app_context():
        return db.session.get(ConsumerAccount, account_id).supply_status


def commands_sent(head_end_api) -> list[dict]:
    return [r for r in head_end_api.requests if r["method"] == "POST"]


def settle(app) -> None:
    """Run the jobs, then relay and send the SMS they recorded."""
    run_jobs(app)
    run_jobs(app)


def test_a_paid_smart_meter_is_reconnected_and_the_consumer_told_once(
    app, head_end_api, twilio_api
):
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)

    (command,) = head_end_api.switchings
    assert (command["meter"], command["control"]) == (METER, "connect")
    assert head_end_api.relay(METER) == "connected"
    assert supply_status(app, account_id) == "active"
    (order,) = orders(app)
    assert (order.status, order.relay_state, order.command_id) == (
        "connected",
        "connected",
        command["commandId"],
    )
    (sms,) = twilio_api.messages
    assert sms["To"] == CALLER
    assert "फिर से चालू कर दी गई है" in sms["Body"] and "XXXXXX4321" in sms["Body"]
    # Everything settled: another round sends nothing more.
    settle(app)
    assert len(head_end_api.switchings) == 1 and len(twilio_api.messages) == 1


def test_an_armed_relay_tells_the_consumer_to_press_the_button(app, head_end_api, twilio_api):
    head_end_api.connect_result = "armed"
    account_id = add_meter_consumer(app, kind="prepaid", language="en")
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    (order,) = orders(app)
    assert order.status == "armed"
    (sms,) = twilio_api.messages
    assert "Press the button on your meter" in sms["Body"]


def test_the_signal_twice_records_one_order_and_sends_one_command(app, head_end_api, twilio_api):
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    clear_dues(app, account_id, PAID_AT)
    # A second payment while the first reconnection is under way needs no second one.
    clear_dues(app, account_id, PAID_AT + timedelta(minutes=1))
    assert len(orders(app)) == 1
    settle(app)
    assert len(commands_sent(head_end_api)) == 1
    assert len(twilio_api.messages) == 1


def test_a_step_run_twice_sends_its_command_once(app, head_end_api, twilio_api):
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    (order,) = orders(app)
    with app.app_context():
        assert advance_order(order.id, 0) == "commanded"
        assert advance_order(order.id, 0).startswith("not this run's step")
    settle(app)
    assert len(commands_sent(head_end_api)) == 1
    assert orders(app)[0].status == "connected"
    assert len(twilio_api.messages) == 1


def test_consumers_who_need_no_reconnection_get_no_order(app, head_end_api):
    postpaid = add_meter_consumer(app, kind="postpaid", meter=None)
    active = add_meter_consumer(
        app, account="1000005555", phone="+919812340000", supply_status="active"
    )
    for account_id in (postpaid, active, 999999):
        clear_dues(app, account_id, PAID_AT)
    settle(app)
    assert orders(app) == [] and head_end_api.requests == []


def test_a_head_end_that_answers_too_late_is_asked_again_under_the_same_id(
    app, head_end_api, twilio_api
):
    head_end_api.slow_requests, head_end_api.slow_seconds = 1, 1.5
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    first, second = commands_sent(head_end_api)
    assert first["body"]["mRID"] == second["body"]["mRID"]
    # The late command was taken; asked again, the head-end switched nothing twice.
    assert len(head_end_api.switchings) == 1
    assert supply_status(app, account_id) == "active"
    assert len(twilio_api.messages) == 1


def test_a_head_end_that_never_answers_is_given_up_on_and_a_person_calls(
    app, head_end_api, twilio_api
):
    head_end_api.slow_requests, head_end_api.slow_seconds = 100, 1.0
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    (order,) = orders(app)
    assert order.status == "failed"
    assert "failed 3 times" in order.error and "unreachable" in order.error
    assert len(commands_sent(head_end_api)) == 3
    assert supply_status(app, account_id) == "disconnected"
    assert twilio_api.messages == []
    with app.app_context():
        assert sweep()["reconnection_callbacks"] == 1
        callback = db.session.scalars(select(Callback)).one()
        assert (callback.phone, callback.status, callback.priority) == (
            CALLER,
            CallbackStatus.PENDING,
            10,
        )
        assert sweep()["reconnection_callbacks"] == 0


def test_passing_refusals_are_retried(app, head_end_api, twilio_api):
    head_end_api.refusals = [503, 429]
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    assert len(commands_sent(head_end_api)) == 3
    assert orders(app)[0].status == "connected"
    assert supply_status(app, account_id) == "active"


def test_a_refused_command_is_not_sent_again(app, head_end_api, twilio_api):
    head_end_api.refusals = [422]
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    (order,) = orders(app)
    assert order.status == "failed" and "refused" in order.error and "422" in order.error
    assert len(commands_sent(head_end_api)) == 1
    assert twilio_api.messages == []


def test_an_unknown_meter_fails_with_a_clear_reason(app, head_end_api, twilio_api):
    head_end_api.unknown_meters.add(METER)
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    (order,) = orders(app)
    assert order.status == "failed"
    assert f"knows no meter '{METER}'" in order.error
    assert supply_status(app, account_id) == "disconnected"
    with app.app_context():
        assert sweep()["reconnection_callbacks"] == 1


def test_a_relay_reported_in_the_wrong_state_is_given_up_on(app, head_end_api, twilio_api):
    head_end_api.wrong_state = "disconnected"
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    (order,) = orders(app)
    assert order.status == "failed"
    assert "still reports the relay 'disconnected' after 5 reads" in order.error
    assert supply_status(app, account_id) == "disconnected"
    assert twilio_api.messages == []


def test_a_state_the_head_end_should_not_report_is_not_taken_for_connected(
    app, head_end_api, twilio_api
):
    head_end_api.wrong_state = "on"
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    (order,) = orders(app)
    assert (order.status, order.relay_state) == ("failed", "on")
    assert supply_status(app, account_id) == "disconnected"


def test_the_order_is_kept_while_redis_is_down_and_the_sweep_sends_it(
    make_app, head_end_api, own_redis, twilio_api
):
    app = make_app(**head_end_settings(head_end_api), REDIS_URL=own_redis.url)
    head_end_api.reset()
    account_id = add_meter_consumer(app)
    own_redis.stop()
    clear_dues(app, account_id, PAID_AT)  # must not raise into the payment
    (order,) = orders(app)
    assert order.status == "waiting"
    own_redis.start()
    with app.app_context():
        assert sweep()["reconnections_requeued"] == 1
    settle(app)
    assert orders(app)[0].status == "connected"
    assert len(head_end_api.switchings) == 1
    assert len(twilio_api.messages) == 1


def test_no_command_outside_the_command_hours(make_app, head_end_api):
    today = datetime.now(ZoneInfo("Asia/Kolkata")).date()
    app = make_app(**head_end_settings(head_end_api), HEAD_END_COMMAND_HOLIDAYS=today.isoformat())
    head_end_api.reset()
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    run_jobs(app)
    assert head_end_api.requests == []
    (order,) = orders(app)
    opens = datetime.combine(
        today + timedelta(days=1), datetime.min.time(), ZoneInfo("Asia/Kolkata")
    )
    assert (order.status, order.next_attempt_at) == ("waiting", opens)
    assert "command hours" in order.error
    with app.app_context():
        job = Job.fetch(job_id(order.id, order.step), connection=redis_client())
        assert job.get_status() == "scheduled"


def test_without_a_head_end_orders_wait_and_go_once_it_is_set(make_app, head_end_api, twilio_api):
    app = make_app(**{**head_end_settings(head_end_api), "HEAD_END_URL": ""})
    head_end_api.reset()
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    run_jobs(app)
    with app.app_context():
        assert sweep()["reconnections_requeued"] == 0
    assert orders(app)[0].status == "waiting" and head_end_api.requests == []
    configured = make_app(**head_end_settings(head_end_api))
    with configured.app_context():
        assert sweep()["reconnections_requeued"] == 1
    settle(configured)
    assert orders(configured)[0].status == "connected"
    assert supply_status(configured, account_id) == "active"


def test_a_consumer_still_disconnected_long_after_paying_gets_a_priority_callback(
    make_app, head_end_api
):
    app = make_app(**head_end_settings(head_end_api), RECONNECT_CALLBACK_AFTER_MINUTES=30)
    account_id = add_meter_consumer(app)
    other = add_meter_consumer(app, account="1000005555", phone="+919812340000")
    now = utcnow()
    clear_dues(app, account_id, now - timedelta(minutes=31))  # no worker: still waiting
    clear_dues(app, other, now - timedelta(minutes=5))
    with app.app_context():
        # The caller already waits in the queue for a missed call: it moves up.
        db.session.add(
            Callback(
                phone=CALLER,
                language="hi",
                status=CallbackStatus.PENDING,
                priority=0,
                due_at=now + timedelta(hours=1),
                first_missed_at=now,
                last_missed_at=now,
            )
        )
        db.session.commit()
        assert sweep()["reconnection_callbacks"] == 1
        assert sweep()["reconnection_callbacks"] == 0
        (callback,) = db.session.scalars(select(Callback))
        assert (callback.phone, callback.priority) == (CALLER, 10)
        assert callback.due_at <= utcnow()
    first, second = orders(app)
    assert first.callback_id == callback.id and second.callback_id is None


def test_the_sms_is_recorded_once_per_order(app, head_end_api):
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    run_jobs(app)
    with app.app_context():
        messages = list(db.session.scalars(select(OutboundMessage)))
    assert [m.template for m in messages] == ["meter_reconnected"]
    assert orders(app)[0].sms_message_id == messages[0].id


def test_a_step_whose_worker_died_is_taken_up_again_once_its_claim_lapses(
    app, head_end_api, twilio_api
):
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    (order,) = orders(app)
    with app.app_context():
        redis_client().flushdb()  # the job went with the worker that took it
        # What a worker leaves when it dies after claiming step 0: step 1 held, lapsing.
        db.session.execute(
            update(ReconnectionOrder)
            .where(ReconnectionOrder.id == order.id)
            .values(step=1, next_attempt_at=utcnow() + CLAIM_LEASE)
        )
        db.session.commit()
        assert sweep()["reconnections_requeued"] == 0  # the claim still holds
        later = utcnow() + CLAIM_LEASE + timedelta(seconds=1)
        assert requeue_lost_orders(now=later) == 1
    settle(app)
    assert orders(app)[0].status == "connected"
    assert len(head_end_api.switchings) == 1 and len(twilio_api.messages) == 1


def pay_and_die_before_the_signal(app, account_id: int, paid_at: datetime) -> None:
    """Record a bill payment as a door does, then stop as a process killed before announce."""
    with app.app_context():
        db.session.execute(
            update(Bill).where(Bill.account_id == account_id).values(paid_amount=None, paid_on=None)
        )
        db.session.commit()
        account = db.session.get(ConsumerAccount, account_id).account_number
        receipt = Receipt(
            source="posting",
            channel="bbps",
            external_id="BBPS0000000001",
            reference=account,
            amount=Decimal("1551.00"),  # after the due date
            paid_at=paid_at,
        )
        with write_transaction(db.session):
            assert mark_paid(db.session, receipt).dues_cleared == account_id


def test_a_payment_whose_signal_was_lost_is_reconnected_by_the_sweep(
    app, head_end_api, twilio_api
):
    account_id = add_meter_consumer(app)
    pay_and_die_before_the_signal(app, account_id, PAID_AT)
    assert orders(app) == []
    with app.app_context():
        assert sweep()["reconnections_recovered"] == 1
        assert sweep()["reconnections_recovered"] == 0  # the order is there now
    settle(app)
    assert supply_status(app, account_id) == "active"
    assert [order.status for order in orders(app)] == ["connected"]
    assert len(head_end_api.switchings) == 1
    # The signal arriving after all (a slow process) records nothing more.
    clear_dues(app, account_id, PAID_AT)
    settle(app)
    assert len(orders(app)) == 1 and len(head_end_api.switchings) == 1
    bodies = [message["Body"] for message in twilio_api.messages]
    assert sum("फिर से चालू कर दी गई है" in body for body in bodies) == 1


def test_the_sweep_leaves_a_payment_alone_while_its_signal_may_still_come(
    make_app, head_end_api
):
    app = make_app(**{**head_end_settings(head_end_api), "RECONCILE_AFTER_SECONDS": 60})
    account_id = add_meter_consumer(app)
    pay_and_die_before_the_signal(app, account_id, PAID_AT)
    with app.app_context():
        assert recover_lost_orders() == 0  # recorded just now: the signal has its minute
        assert recover_lost_orders(now=utcnow() + timedelta(minutes=2)) == 1
        # A day on, a payment is no longer looked at (nor is this one, which has its order).
        assert recover_lost_orders(now=utcnow() + timedelta(days=2)) == 0
    assert len(orders(app)) == 1
