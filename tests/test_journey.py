"""A consumer's whole journey, across every package, on the real parts the tests use.

Missed call → operator's callback → application with a demand → SMS with a payment link →
signed gateway webhook → stages recorded by the area's field engineer → energised within
the clock; a disconnected smart-meter consumer who pays a bill at a kiosk is switched on
through the head-end; an outage notice reaches everyone on a feeder. Each outside service
is its real SDK or wire protocol against the stand-ins in ``tests/support/``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from connections import stages
from core.extensions import db
from core.models import Callback, OutboundMessage, Role, utcnow
from core.models.applications import Application, ApplicationStatus
from core.models.connections import ConnectionClock
from core.models.consumers import ConsumerAccount
from tests.callcenter.conftest import csrf_token
from tests.callcenter.test_applications import NEW_CONNECTION, make_user, signed_in
from tests.callcenter.test_connection_clock import post_stage
from tests.conftest import run_jobs
from tests.connections.support import make_engineer
from tests.ivr.test_missed_call import missed_call
from tests.ivr.test_voice import answer, follow, said, webhook
from tests.meters.conftest import add_meter_consumer, head_end_api, head_end_settings
from tests.outages.conftest import new_outage, phone, record, seed_feeder
from tests.payments.conftest import gateway_settings, post_posting, posting_body, razorpay_api
from tests.payments.test_links import sweep_and_work

__all__ = ["head_end_api", "razorpay_api"]  # fixtures this module's tests take

CONSUMER = "+919876543210"
AREA = "Raipur/Abhanpur"


@pytest.fixture()
def app(make_app, razorpay_api, head_end_api) -> Flask:
    razorpay_api.reset()
    head_end_api.reset()
    return make_app(**gateway_settings(razorpay_api), **head_end_settings(head_end_api))


def sms_to(twilio_api, phone: str) -> list[str]:
    return [message["Body"] for message in twilio_api.messages if message["To"] == phone]


def test_missed_call_to_an_energised_connection(app, twilio_api, razorpay_api):
    # The consumer gives a missed call: rejected, recorded, acknowledged by SMS.
    client = app.test_client()
    assert "<Reject" in missed_call(client, caller=CONSUMER).get_data(as_text=True)
    run_jobs(app)
    assert len(sms_to(twilio_api, CONSUMER)) == 1

    # An operator takes the callback, is bridged to the consumer, and fills the application.
    operator = signed_in(app, make_user(app, "asha", Role.OPERATOR))
    queue_page = operator.get("/console/").get_data(as_text=True)
    taken = operator.post("/console/take-next", data={"csrf_token": csrf_token(queue_page)})
    assert taken.status_code == 302
    with app.app_context():
        callback = db.session.scalar(select(Callback))
        assert callback.phone == CONSUMER and callback.claimed_by_id is not None
    page = operator.get(f"/console/callbacks/{callback.id}").get_data(as_text=True)
    assert operator.post(
        f"/console/callbacks/{callback.id}/call", data={"csrf_token": csrf_token(page)}
    ).status_code in (302, 303)
    run_jobs(app)
    assert any(call["To"] == "+919800000001" for call in twilio_api.calls)  # the operator

    url = f"/console/applications/new/new_connection?callback={callback.id}&lang=en"
    form = {**NEW_CONNECTION, "action": "submit"}
    form["csrf_token"] = csrf_token(operator.get(url).get_data(as_text=True))
    assert operator.post(url, data=form).status_code == 303
    with app.app_context():
        application = db.session.scalar(select(Application))
        number, demand = application.number, application.demand_total
    assert application.status == ApplicationStatus.DEMAND_ISSUED and demand > 0

    # The link is made by a job, and the consumer's SMS carries it.
    sweep_and_work(app)
    link = razorpay_api.link_for(number)
    assert link["amount"] == int(demand * 100)
    assert any(link["short_url"] in body for body in sms_to(twilio_api, CONSUMER))

    # The consumer pays; the gateway's signed webhook (delivered twice) marks it paid once.
    event = razorpay_api.pay(link["id"])
    assert razorpay_api.deliver(client, event).status_code == 200
    assert razorpay_api.deliver(client, event).status_code == 200
    run_jobs(app)
    with app.app_context():
        paid = db.session.scalar(select(Application))
        clock = db.session.scalar(select(ConnectionClock))
        assert paid.status == ApplicationStatus.PAID
        assert clock.application_id == paid.id and clock.paid_at == paid.paid_at
        due_by = clock.due_at
    assert sum("भुगतान मिल गया" in body for body in sms_to(twilio_api, CONSUMER)) == 1

    # The area's field engineer records each stage; the consumer hears of each.
    engineer_id = make_engineer(app, "jeetu", AREA)
    engineer = app.test_client()
    login_page = engineer.get("/console/login").get_data(as_text=True)
    engineer.post(
        "/console/login",
        data={"username": "jeetu", "password": "correct horse battery",
              "csrf_token": csrf_token(login_page)},
    )  # fmt: skip
    before = len(sms_to(twilio_api, CONSUMER))
    for seen, stage in zip(stages.FLOW, stages.FLOW[1:], strict=False):
        assert post_stage(engineer, paid.id, stage, seen).status_code in (302, 303), stage
    run_jobs(app)
    assert len(sms_to(twilio_api, CONSUMER)) == before + 4

    with app.app_context():
        done = db.session.get(Application, paid.id)
        clock = db.session.scalar(select(ConnectionClock))
        assert done.status == ApplicationStatus.CONNECTED
        assert clock.energised_at is not None and clock.energised_at <= due_by
        assert clock.energised_by_id == engineer_id

    # Calling the IVR, the consumer hears the connection is on.
    digits = number.replace("NC-", "").replace("-", "") + "#"
    entry = webhook(client, "/ivr/voice/application/enter?lang=en", caller=CONSUMER)
    heard = said(follow(client, answer(client, entry, digits, caller=CONSUMER), caller=CONSUMER))
    assert "connect" in heard.lower(), heard


def test_a_kiosk_payment_switches_a_smart_meter_back_on(app, twilio_api, head_end_api):
    account_id = add_meter_consumer(app, phone=CONSUMER)
    with app.app_context():
        consumer = db.session.get(ConsumerAccount, account_id)
        from core.models.consumers import Bill

        db.session.add(
            Bill(
                account_id=account_id,
                bill_date=utcnow().date() - timedelta(days=20),
                due_date=utcnow().date() - timedelta(days=5),
                amount_due=842,
                amount_after_due=860,
            )
        )
        db.session.commit()
        account_number = consumer.account_number

    client = app.test_client()
    body = posting_body(reference=account_number, amount="860.00", channel="kiosk")
    response = post_posting(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert post_posting(client, body).status_code == 200  # the kiosk sends it again
    for _ in range(4):  # command, then the relay's reads until it reports connected
        run_jobs(app)

    commands = [r for r in head_end_api.requests if r["method"] == "POST"]
    assert len(commands) == 1
    with app.app_context():
        assert db.session.get(ConsumerAccount, account_id).supply_status == "active"
    assert sum("फिर से चालू" in body for body in sms_to(twilio_api, CONSUMER)) == 1


def test_an_outage_notice_reaches_everyone_on_the_feeder(app, twilio_api):
    seed_feeder(app, "F0042", 30)
    seed_feeder(app, "F0043", 5, first=30)
    numbers = {phone(n) for n in range(30)} | {phone(n + 50_000) for n in range(0, 30, 5)}
    record(app, new_outage(place="F0042"))
    record(app, new_outage(place="F0042"))  # the same outage recorded twice sends nothing twice
    for _ in range(3):
        run_jobs(app)
    sent = [message["To"] for message in twilio_api.messages]
    assert sorted(sent) == sorted(numbers)
    with app.app_context():
        recorded = db.session.scalars(select(OutboundMessage.recipient)).all()
        assert sorted(recorded) == sorted(numbers)
