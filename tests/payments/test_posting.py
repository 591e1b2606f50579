"""POST /payments/posting: billers, cash counters and kiosks, HMAC-signed, once per transaction."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models.applications import Application
from core.models.calls import OutboundMessage
from core.models.consumers import Bill
from core.models.payments import Payment
from tests.payments.conftest import (
    ACCOUNT,
    DEMAND,
    NUMBER,
    add_account,
    add_application,
    post_posting,
    posting_body,
)

MOBILE = "+919812345670"
OTHER_MOBILE = "+919812345671"


def bill_state(app) -> tuple:
    with app.app_context():
        bill = db.session.scalar(select(Bill))
        return bill.paid_amount, bill.paid_on


def payments(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(Payment).order_by(Payment.id)).all()
        return [(p.amount, p.outcome, p.flagged, p.channel) for p in rows]


def test_bill_paid_in_full_clears_the_dues(app, client, signals):
    account_id = add_account(app)
    response = post_posting(client, posting_body())
    assert response.status_code == 200, response.data
    assert response.json["outcome"] == "paid"
    assert bill_state(app) == (Decimal("842.00"), date(2026, 12, 5))
    assert [name for name, _ in signals] == ["payment-recorded", "dues-cleared"]
    assert signals[1][1]["account_id"] == account_id
    assert signals[1][1]["paid_at"].isoformat() == "2026-12-05T04:45:00+00:00"


def test_after_the_due_date_the_later_amount_is_owed(app, client, signals):
    add_account(app, due=date(2026, 11, 20))
    first = post_posting(client, posting_body())
    assert first.json["outcome"] == "partial" and first.json["flagged"] is True
    assert bill_state(app) == (Decimal("842.00"), None)
    rest = post_posting(client, posting_body(amount=18, transaction_id="BBPS0000000002"))
    assert rest.json["outcome"] == "paid"
    assert bill_state(app) == (Decimal("860.00"), date(2026, 12, 5))
    assert [name for name, _ in signals].count("dues-cleared") == 1


def receipts(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.template.like("bill_%payment_received"))
            .order_by(OutboundMessage.id)
        ).all()
        return [(message.recipient, message.template, message.body) for message in rows]


def test_each_linked_number_is_told_what_was_paid_and_what_is_left(app, client):
    add_account(app, phones=(MOBILE, OTHER_MOBILE), language="en")
    post_posting(client, posting_body(amount="800.00"))
    post_posting(client, posting_body(amount="800.00"))  # the same transaction again
    first = receipts(app)
    assert [(to, template) for to, template, _ in first] == [
        (MOBILE, "bill_part_payment_received"),
        (OTHER_MOBILE, "bill_part_payment_received"),
    ]
    body = first[0][2]
    assert "₹800.00" in body and "Still to pay: ₹42.00" in body
    assert ACCOUNT not in body and ACCOUNT[-4:] in body  # masked, as the IVR's SMS

    post_posting(client, posting_body(amount="42.00", transaction_id="BBPS0000000002"))
    settled = receipts(app)[2:]
    assert [template for _, template, _ in settled] == ["bill_payment_received"] * 2
    assert "₹42.00" in settled[0][2] and "paid in full" in settled[0][2]


def test_the_receipt_is_in_the_consumers_language_with_indian_grouping(app, client):
    add_account(app, amount_due="123456.50", after_due="124000.00", phones=(MOBILE,))
    post_posting(client, posting_body(amount="123456.50"))
    [(_, template, body)] = receipts(app)
    assert template == "bill_payment_received"
    assert "₹1,23,456.50" in body and "धन्यवाद" in body


def test_a_payment_with_no_bill_due_sends_no_receipt(app, client):
    add_account(app, phones=(MOBILE,))
    post_posting(client, posting_body())
    post_posting(client, posting_body(transaction_id="BBPS0000000002"))  # bill already paid
    assert [template for _, template, _ in receipts(app)] == ["bill_payment_received"]
    assert payments(app)[1][1] == "no_demand"


def test_same_transaction_twice_is_recorded_once(app, client, signals):
    add_account(app)
    assert post_posting(client, posting_body()).json["status"] == "recorded"
    again = post_posting(client, posting_body())
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert bill_state(app) == (Decimal("842.00"), date(2026, 12, 5))
    assert len(payments(app)) == 1 and len(signals) == 2


def test_application_paid_at_a_cash_counter(app, client, signals):
    application_id = add_application(app)
    body = posting_body(reference=NUMBER.lower(), amount=str(DEMAND), channel="cash",
                        transaction_id="CASH-RPR-0042")  # fmt: skip
    response = post_posting(client, body)
    assert response.json["outcome"] == "paid"
    with app.app_context():
        assert db.session.get(Application, application_id).status == "paid"
    assert [name for name, _ in signals] == ["payment-recorded", "application-paid"]
    # Paid already: a second payment is recorded for a refund, the status stays.
    second = post_posting(client, dict(body, transaction_id="CASH-RPR-0043"))
    assert second.json["outcome"] == "already_paid" and second.json["flagged"] is True
    assert [p[1] for p in payments(app)] == ["paid", "already_paid"]


def test_unknown_reference_is_a_404_and_records_nothing(app, client):
    response = post_posting(client, posting_body(reference="9999999999"))
    assert response.status_code == 404 and "9999999999" in response.json["error"]
    assert payments(app) == []


def test_payment_on_an_application_without_demand_is_flagged(app, client):
    add_application(app, demand=None, status="submitted")
    response = post_posting(client, posting_body(reference=NUMBER, channel="kiosk"))
    assert response.json["outcome"] == "no_demand" and response.json["flagged"] is True


@pytest.mark.parametrize("stamp", [str(int(time.time()) - 3600), str(int(time.time()) + 3600)])
def test_a_timestamp_outside_the_window_is_refused(app, client, stamp):
    add_account(app)
    response = post_posting(client, posting_body(), stamp=stamp)
    assert response.status_code == 403 and "window" in response.json["error"]
    assert payments(app) == []


def test_forged_or_missing_signature_is_refused(app, client):
    add_account(app)
    assert post_posting(client, posting_body(), secret="guess").status_code == 403
    bare = post_posting(client, posting_body(), headers={"Content-Type": "application/json"})
    assert bare.status_code == 400 and "X-Sampark-Timestamp" in bare.json["error"]
    assert payments(app) == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"channel": "upi"}, "channel"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": 10**20}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "12.345"}, "paisa"),
        ({"amount": "nan"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": None}, "amount"),
        ({"transaction_id": ""}, "transaction_id"),
        ({"transaction_id": "x" * 65}, "transaction_id"),
        ({"reference": 1000004321}, "reference"),
        ({"paid_at": "2026-12-05T10:15:00"}, "offset"),
        ({"paid_at": "yesterday"}, "paid_at"),
        ({"paid_at": "0001-01-01T00:00:00+05:30"}, "paid_at"),
        ({"paid_at": "2999-01-01T00:00:00+05:30"}, "future"),
    ],
)
def test_bad_postings_are_a_clear_400(app, client, fields, error):
    add_account(app)
    response = post_posting(client, posting_body(**fields))
    assert response.status_code == 400 and error in response.json["error"], response.json
    assert payments(app) == []


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"text"', b"\xff\xfe"])
def test_malformed_json_is_a_clear_400(app, client, raw):
    response = post_posting(client, raw)
    assert response.status_code == 400 and "JSON" in response.json["error"]


def test_without_a_shared_secret_the_door_is_shut(make_app):
    client = make_app().test_client()
    assert post_posting(client, posting_body()).status_code == 404
    with make_app().app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
