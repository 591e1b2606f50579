"""The demand note's payment link: made once by a job, sent in the SMS, shown on the page."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from razorpay import Client as RazorpayClient
from sqlalchemy import select

from core.extensions import db
from core.models import OutboundMessage
from core.models.applications import Application
from core.models.payments import PaymentLink
from payments.links import create_payment_link, relay_links
from tests.callcenter.test_applications import NEW_CONNECTION, make_user, post_form, signed_in
from tests.conftest import run_jobs
from tests.payments.conftest import KEY_ID, KEY_SECRET, gateway_settings

NEW = "/console/applications/new/new_connection?lang=en"


def submit(app) -> tuple[object, Application]:
    """Submit a new connection through the console as an operator; return the client and it."""
    console = signed_in(app, make_user(app))
    response = post_form(console, NEW, NEW_CONNECTION, action="submit")
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        application = db.session.scalar(select(Application))
        db.session.expunge(application)
    return console, application


def messages(app) -> list[OutboundMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def sweep_and_work(app) -> None:
    """What the sweeper and a worker do: hand links to RQ, run the jobs, send the SMS."""
    with app.app_context():
        relay_links()
    run_jobs(app)
    run_jobs(app)  # the SMS the link's job recorded


def test_link_is_made_by_the_job_and_sent_in_the_sms(app, razorpay_api, twilio_api):
    console, application = submit(app)
    # The submit asked the gateway nothing, and the SMS waits for the link.
    assert razorpay_api.requests == [] and messages(app) == []
    page = console.get(f"/console/applications/{application.id}").get_data(as_text=True)
    assert "payment link is being made" in page
    assert '<meta http-equiv="refresh"' in page  # until the link is there

    sweep_and_work(app)
    [request] = razorpay_api.requests
    assert (request.method, request.path, request.auth) == (
        "POST",
        "/v1/payment_links",
        (KEY_ID, KEY_SECRET),
    )
    body = request.body
    assert body["amount"] == int(application.demand_total * 100)
    assert body["currency"] == "INR" and body["reference_id"] == application.number
    assert body["customer"]["contact"] == "+919876543210"
    assert body["notes"]["application_number"] == application.number
    assert body["expire_by"] - time.time() == pytest.approx(168 * 3600, abs=120)
    assert "upi_link" not in body  # UPI-only links are a setting, off by default

    link = razorpay_api.link_for(application.number)
    [sms] = twilio_api.messages
    assert link["short_url"] in sms["Body"] and application.number in sms["Body"]
    assert sms["To"] == "+919876543210" and "आवेदन" in sms["Body"]
    page = console.get(f"/console/applications/{application.id}").get_data(as_text=True)
    assert f'id="payment-link" href="{link["short_url"]}"' in page
    assert '<meta http-equiv="refresh"' not in page


def test_job_run_twice_makes_one_link_and_one_sms(app, razorpay_api):
    _, application = submit(app)
    with app.app_context():
        link_id = db.session.scalar(select(PaymentLink.id))
        assert create_payment_link(link_id) == "created"
        assert create_payment_link(link_id).startswith("not pending")
    assert len(razorpay_api.links) == 1 and len(razorpay_api.requests) == 1
    assert [m.template for m in messages(app)] == ["application_demand_link"]


def test_a_link_made_by_a_try_whose_answer_was_lost_is_found(app, razorpay_api):
    _, application = submit(app)
    # An earlier try reached the gateway, but its answer never came back.
    earlier = RazorpayClient(auth=(KEY_ID, KEY_SECRET), base_url=razorpay_api.base_url)
    made = earlier.payment_link.create(
        {"amount": 100, "reference_id": application.number, "expire_by": int(time.time()) + 3600}
    )
    sweep_and_work(app)
    assert [r.method for r in razorpay_api.requests] == ["POST", "POST", "GET"]
    assert len(razorpay_api.links) == 1
    with app.app_context():
        link = db.session.scalar(select(PaymentLink))
        assert (link.status, link.gateway_link_id) == ("created", made["id"])
    [sms] = messages(app)
    assert made["short_url"] in sms.body


def test_gateway_down_sends_the_sms_saying_where_to_pay(make_app, razorpay_api, twilio_api):
    razorpay_api.reset()
    app = make_app(**gateway_settings(razorpay_api), PAYMENT_LINK_MAX_ATTEMPTS=1)
    _, application = submit(app)
    razorpay_api.fail_next(500, "SERVER_ERROR")
    sweep_and_work(app)
    [sms] = twilio_api.messages
    assert "e-Mitra" in sms["Body"] or "ई-मित्र" in sms["Body"]
    assert "rzp.io" not in sms["Body"]
    with app.app_context():
        link = db.session.scalar(select(PaymentLink))
        assert link.status == "unavailable" and "gateway failed" in link.error


def test_gateway_down_is_retried_before_giving_up(app, razorpay_api):
    _, application = submit(app)
    razorpay_api.fail_next(502, "GATEWAY_ERROR")
    with app.app_context():
        link_id = db.session.scalar(select(PaymentLink.id))
        with pytest.raises(Exception, match="gateway failed"):
            create_payment_link(link_id)  # RQ retries a job that raises
        assert db.session.get(PaymentLink, link_id).status == "pending"
        assert messages(app) == []
        assert create_payment_link(link_id) == "created"
    assert [m.template for m in messages(app)] == ["application_demand_link"]


def test_slow_gateway_never_holds_up_the_submit(make_app, razorpay_api, twilio_api):
    razorpay_api.reset()
    settings = dict(gateway_settings(razorpay_api), RAZORPAY_TIMEOUT_SECONDS=1)
    app = make_app(**settings, PAYMENT_LINK_MAX_ATTEMPTS=1)
    razorpay_api.delay_seconds = 3
    started = time.monotonic()
    submit(app)
    assert time.monotonic() - started < 2.5
    started = time.monotonic()
    sweep_and_work(app)
    # The job waited the configured second, not the gateway's three, then gave up.
    assert time.monotonic() - started < 2.9
    [sms] = twilio_api.messages
    assert "rzp.io" not in sms["Body"]


def test_without_the_gateway_the_demand_says_where_to_pay(make_app, razorpay_api, twilio_api):
    razorpay_api.reset()
    app = make_app(PAYMENT_WHERE_TO_PAY="at the Abhanpur sub-division cash counter")
    console, application = submit(app)
    page = console.get(f"/console/applications/{application.id}").get_data(as_text=True)
    assert "Pay at the Abhanpur sub-division cash counter" in page
    with app.app_context():
        assert db.session.scalar(select(PaymentLink)) is None
    run_jobs(app)
    [sms] = twilio_api.messages
    assert "ई-मित्र" in sms["Body"]  # Hindi: PAYMENT_WHERE_TO_PAY_HI
    assert razorpay_api.requests == []
    assert application.demand_total > Decimal(0)


def test_upi_links_when_asked(make_app, razorpay_api):
    razorpay_api.reset()
    app = make_app(**gateway_settings(razorpay_api), PAYMENT_LINK_UPI="true")
    submit(app)
    sweep_and_work(app)
    assert razorpay_api.requests[0].body["upi_link"] is True
