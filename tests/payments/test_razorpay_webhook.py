"""POST /payments/razorpay: signed, once per event id, never moving a paid demand back."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from razorpay import Client as RazorpayClient
from razorpay.errors import SignatureVerificationError
from sqlalchemy import func, select

from core.audit import audit_trail
from core.extensions import db
from core.models import OutboundMessage
from core.models.applications import Application
from core.models.payments import Payment, PaymentEvent, PaymentLink
from payments.gateway import webhook_signature
from tests.payments.conftest import (
    DEMAND,
    NUMBER,
    WEBHOOK_SECRET,
    add_application,
    add_link,
)

DEMAND_PAISE = int(DEMAND * 100)


def state(app, application_id: int) -> dict:
    """What a supervisor would see of an application's payments."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
        return {
            "status": application.status,
            "paid_at": application.paid_at,
            "payments": [(p.amount, p.outcome, p.flagged) for p in payments],
            "events": db.session.scalar(select(func.count()).select_from(PaymentEvent)),
            "sms": db.session.scalars(
                select(OutboundMessage.template).where(
                    OutboundMessage.template == "payment_received"
                )
            ).all(),
        }


@pytest.fixture()
def linked(app, razorpay_api):
    """An application with a demand note and its payment link made at the gateway."""
    application_id = add_application(app)
    return application_id, add_link(app, razorpay_api, application_id)


def test_signature_is_the_sdks_own(razorpay_api):
    body = b'{"event":"payment_link.paid","payload":{}}'
    signature = webhook_signature(body, WEBHOOK_SECRET)
    utility = RazorpayClient(auth=("k", "s")).utility
    assert utility.verify_webhook_signature(body.decode(), signature, WEBHOOK_SECRET)
    with pytest.raises(SignatureVerificationError):
        utility.verify_webhook_signature(body.decode(), signature, "another secret")
    assert razorpay_api.sign(body).headers["X-Razorpay-Signature"] == signature


def test_paid_link_marks_the_application_paid_once(app, client, razorpay_api, linked, signals):
    application_id, link_id = linked
    delivery = razorpay_api.pay(link_id)
    response = razorpay_api.deliver(client, delivery)
    assert response.status_code == 200, response.data
    assert response.json["outcome"] == "paid" and response.json["flagged"] is False

    seen = state(app, application_id)
    assert seen["status"] == "paid" and seen["paid_at"] is not None
    assert seen["payments"] == [(DEMAND, "paid", False)]
    assert seen["sms"] == ["payment_received"]
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        assert payment.gateway_link_id == link_id and payment.external_id.startswith("pay_")
        assert payment.reference == NUMBER and payment.channel == "razorpay"
        # Only the gateway's ids are kept: not the UPI handle, e-mail or contact it sent.
        kept = json.dumps({c.name: str(getattr(payment, c.name)) for c in Payment.__table__.c})
        assert "okbank" not in kept and "void@razorpay.com" not in kept
        assert db.session.get(PaymentLink, 1).status == "paid"
        trail = audit_trail(db.session, "application", application_id)
        assert trail[-1].action == "paid"
        assert trail[-1].changes["status"] == ["demand_issued", "paid"]
        sms = db.session.scalar(
            select(OutboundMessage).where(OutboundMessage.template == "payment_received")
        )
        assert NUMBER in sms.body and "₹3,250" in sms.body and sms.recipient == "+919876543210"
    assert [name for name, _ in signals] == ["payment-recorded", "application-paid"]
    assert signals[1][1]["application_id"] == application_id

    # The gateway delivers the same event again (it retries for a day): answered, not redone.
    again = razorpay_api.deliver(client, delivery)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert state(app, application_id) == seen
    assert len(signals) == 2


def test_same_payment_under_a_new_event_id_is_recorded_once(app, client, razorpay_api, linked):
    application_id, link_id = linked
    delivery = razorpay_api.pay(link_id)
    razorpay_api.deliver(client, delivery)
    resent = razorpay_api.sign(delivery.body)  # same body, another event id
    assert resent.event_id != delivery.event_id
    response = razorpay_api.deliver(client, resent)
    assert response.status_code == 200 and response.json["status"] == "duplicate"
    assert state(app, application_id)["payments"] == [(DEMAND, "paid", False)]


def test_forged_signature_is_refused_and_records_nothing(app, client, razorpay_api, linked):
    application_id, link_id = linked
    delivery = razorpay_api.pay(link_id)
    forged = razorpay_api.sign(delivery.body, secret="not the webhook secret")
    response = razorpay_api.deliver(client, forged)
    assert response.status_code == 403 and "signature" in response.json["error"]
    # The body changed after signing: refused too.
    tampered = dict(delivery.headers)
    body = delivery.body.replace(b'"amount_paid": 325000', b'"amount_paid": 325001')
    assert client.post("/payments/razorpay", data=body, headers=tampered).status_code == 403
    seen = state(app, application_id)
    assert seen["status"] == "demand_issued" and seen["payments"] == [] and seen["events"] == 0


@pytest.mark.parametrize("missing", ["X-Razorpay-Signature", "X-Razorpay-Event-Id"])
def test_missing_headers_are_a_clear_400(app, client, razorpay_api, linked, missing):
    delivery = razorpay_api.pay(linked[1])
    headers = {k: v for k, v in delivery.headers.items() if k != missing}
    response = client.post("/payments/razorpay", data=delivery.body, headers=headers)
    assert response.status_code == 400 and missing in response.json["error"]
    assert state(app, linked[0])["payments"] == []


def test_partial_then_rest_pays_and_partial_is_flagged(app, client, razorpay_api, linked, signals):
    application_id, link_id = linked
    first = razorpay_api.deliver(client, razorpay_api.pay(link_id, 100000))
    assert first.json["outcome"] == "partial" and first.json["flagged"] is True
    assert state(app, application_id)["status"] == "demand_issued"
    rest = razorpay_api.deliver(client, razorpay_api.pay(link_id))
    assert rest.json["outcome"] == "paid"
    seen = state(app, application_id)
    assert seen["status"] == "paid"
    assert seen["payments"] == [
        (Decimal("1000.00"), "partial", True),
        (DEMAND - Decimal("1000.00"), "paid", False),
    ]
    assert [name for name, _ in signals].count("payment-recorded") == 2


def test_partial_heard_after_paid_does_not_move_it_back(app, client, razorpay_api, linked):
    application_id, link_id = linked
    partial = razorpay_api.pay(link_id, 100000)
    paid = razorpay_api.pay(link_id)
    assert razorpay_api.deliver(client, paid).json["outcome"] == "paid"
    late = razorpay_api.deliver(client, partial)
    assert late.status_code == 200 and late.json["outcome"] == "part"
    seen = state(app, application_id)
    assert seen["status"] == "paid" and len(seen["payments"]) == 2
    assert seen["sms"] == ["payment_received"]
    with app.app_context():
        assert db.session.scalar(select(PaymentLink.status)) == "paid"


def test_expired_after_paid_keeps_it_paid(app, client, razorpay_api, linked):
    application_id, link_id = linked
    razorpay_api.deliver(client, razorpay_api.pay(link_id))
    response = razorpay_api.deliver(client, razorpay_api.expire(link_id))
    assert response.status_code == 200
    assert state(app, application_id)["status"] == "paid"
    with app.app_context():
        assert db.session.scalar(select(PaymentLink.status)) == "paid"


def test_expired_unpaid_link_is_marked_expired(app, client, razorpay_api, linked):
    application_id, link_id = linked
    assert razorpay_api.deliver(client, razorpay_api.expire(link_id)).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(PaymentLink.status)) == "expired"
    assert state(app, application_id)["status"] == "demand_issued"


def test_second_payment_of_a_paid_demand_is_flagged(app, client, razorpay_api, linked):
    application_id, link_id = linked
    razorpay_api.deliver(client, razorpay_api.pay(link_id))
    link = razorpay_api.link_for(NUMBER)
    again = razorpay_api.event(
        "payment_link.paid",
        {
            "payment_link": dict(link, amount_paid=2 * DEMAND_PAISE),
            "payment": {"id": "pay_second0000001", "amount": DEMAND_PAISE, "created_at": 1},
        },
    )
    response = razorpay_api.deliver(client, again)
    assert response.status_code == 200 and response.json["outcome"] == "already_paid"
    seen = state(app, application_id)
    assert seen["status"] == "paid" and seen["payments"][-1] == (DEMAND, "already_paid", True)
    assert seen["sms"] == ["payment_received"]


def test_wrong_amount_is_recorded_flagged_not_paid(app, client, razorpay_api, linked):
    application_id, link_id = linked
    link = razorpay_api.link_for(NUMBER)
    over = DEMAND_PAISE + 50000
    event = razorpay_api.event(
        "payment_link.paid",
        {
            "payment_link": dict(link, amount=over, amount_paid=over, status="paid"),
            "payment": {"id": "pay_over000000001", "amount": over, "created_at": 1},
        },
    )
    response = razorpay_api.deliver(client, event)
    assert response.status_code == 200 and response.json["outcome"] == "wrong_amount"
    seen = state(app, application_id)
    assert seen["status"] == "demand_issued"
    assert seen["payments"] == [(Decimal(over) / 100, "wrong_amount", True)]


def test_unknown_reference_is_recorded_for_a_supervisor(app, client, razorpay_api):
    event = razorpay_api.event(
        "payment_link.paid",
        {
            "payment_link": {"id": "plink_nobody", "reference_id": "NC-2026-999999",
                             "amount": 1000, "amount_paid": 1000},
            "payment": {"id": "pay_nobody0000001", "amount": 1000, "created_at": 1},
        },
    )  # fmt: skip
    response = razorpay_api.deliver(client, event)
    assert response.status_code == 200 and response.json["outcome"] == "unknown_reference"
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        assert payment.flagged and payment.application_id is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"event": 5}',
        b'{"event": "payment_link.paid"}',
        b'{"event": "payment_link.paid", "payload": {"payment_link": {"entity": {}}}}',
        b"\xff\xfe\x00",
        b"[" * 100000,
    ],
)
def test_malformed_bodies_are_a_clear_400(app, client, razorpay_api, body):
    response = razorpay_api.deliver(client, razorpay_api.sign(body))
    assert response.status_code == 400 and response.json["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize("amount", [10**30, -5, 0, 1.5, "3250", True, 2**63])
def test_huge_or_odd_amounts_are_a_clear_400(app, client, razorpay_api, linked, amount):
    link = razorpay_api.link_for(NUMBER)
    event = razorpay_api.event(
        "payment_link.paid",
        {
            "payment_link": dict(link, amount_paid=DEMAND_PAISE),
            "payment": {"id": "pay_odd0000000001", "amount": amount, "created_at": 1},
        },
    )
    response = razorpay_api.deliver(client, event)
    assert response.status_code == 400
    assert state(app, linked[0])["payments"] == []


def test_other_events_are_answered_and_ignored(app, client, razorpay_api):
    response = razorpay_api.deliver(client, razorpay_api.event("payment.captured", {}))
    assert response.status_code == 200 and response.json["status"] == "ignored"


def test_without_a_webhook_secret_the_door_is_shut(make_app, razorpay_api):
    client = make_app().test_client()
    response = razorpay_api.deliver(client, razorpay_api.sign(b"{}"))
    assert response.status_code == 404
