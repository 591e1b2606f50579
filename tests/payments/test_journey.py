"""The whole path: application → SMS with the link → signed webhook → PAID, heard by the IVR."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import Role
from core.models.applications import Application
from tests.callcenter.test_applications import make_user, signed_in
from tests.conftest import run_jobs
from tests.ivr.test_voice import answer, follow, said, webhook
from tests.payments.conftest import add_account, add_application, post_posting, posting_body
from tests.payments.test_links import submit, sweep_and_work


def test_application_to_paid_end_to_end(app, razorpay_api, twilio_api, signals):
    console, application = submit(app)
    sweep_and_work(app)

    # The gateway was asked for one link, and the consumer's SMS carries it.
    [made] = [r for r in razorpay_api.requests if r.method == "POST"]
    assert made.body["reference_id"] == application.number
    link = razorpay_api.link_for(application.number)
    [demand_sms] = twilio_api.messages
    assert link["short_url"] in demand_sms["Body"]

    # The consumer pays; the gateway posts its signed webhook.
    client = app.test_client()
    response = razorpay_api.deliver(client, razorpay_api.pay(link["id"]))
    assert response.status_code == 200 and response.json["outcome"] == "paid"

    with app.app_context():
        paid = db.session.get(Application, application.id)
        assert paid.status == "paid" and paid.paid_at is not None
    assert [name for name, _ in signals] == ["payment-recorded", "application-paid"]
    assert signals[1][1] == {"application_id": application.id, "paid_at": paid.paid_at}

    run_jobs(app)
    payment_sms = twilio_api.messages[-1]
    assert application.number in payment_sms["Body"] and payment_sms["To"] == "+919876543210"
    assert "भुगतान मिल गया" in payment_sms["Body"]

    # The console shows it paid.
    page = console.get(f"/console/applications/{application.id}").get_data(as_text=True)
    assert 'id="payment-state" class="paid"' in page and "paid (" not in page

    # The IVR's application status hears it at once, in English and in Hindi.
    digits = application.number.replace("NC-", "").replace("-", "") + "#"
    caller = "+919876543210"
    for lang, words in (("en", "We have your payment"), ("hi", "डिमांड राशि जमा हो गई")):
        entry = webhook(client, f"/ivr/voice/application/enter?lang={lang}", caller=caller)
        heard = said(follow(client, answer(client, entry, digits, caller=caller), caller=caller))
        assert words in heard, heard


def test_ivr_bill_status_hears_a_bill_payment(app):
    from tests.ivr.test_voice import CALLER

    account_id = add_account(app)
    with app.app_context():
        from core.models.consumers import LinkedNumber

        db.session.add(LinkedNumber(phone=CALLER, account_id=account_id))
        db.session.commit()
    client = app.test_client()
    path = f"/ivr/voice/bill?lang=en&account={account_id}"
    assert "amount due on your bill is eight hundred and forty-two" in said(webhook(client, path))
    assert post_posting(client, posting_body()).json["outcome"] == "paid"
    heard = said(webhook(client, path))
    assert "no amount due" in heard and "eight hundred and forty-two" in heard, heard


def test_supervisor_sees_flagged_payments(app, razorpay_api):
    add_application(app)
    client = app.test_client()
    body = posting_body(reference="NC-2026-000123", amount="100", channel="kiosk",
                        transaction_id="EMITRA-77")  # fmt: skip
    assert post_posting(client, body).json["outcome"] == "partial"
    supervisor = signed_in(app, make_user(app, "ravi", Role.SUPERVISOR))
    page = supervisor.get("/console/payments/flagged").get_data(as_text=True)
    # The outcome in words, the amount with its paise.
    assert "EMITRA-77" in page and "Less than the demand" in page and "NC-2026-000123" in page
    assert "₹100.00" in page
    assert 'http-equiv="refresh"' in page
    operator = signed_in(app, make_user(app, "asha"))
    assert operator.get("/console/payments/flagged").status_code == 403
    with app.app_context():
        application = db.session.scalar(select(Application))
    page = supervisor.get(f"/console/applications/{application.id}").get_data(as_text=True)
    assert 'class="flagged"' in page and "Less than the demand (flagged)" in page
