"""Payment fixtures: the Razorpay stand-in, an app that uses it, applications and bills to pay."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from core import events
from core.extensions import db
from core.models.applications import Application, ApplicationStatus
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from payments.webhooks import posting_signature
from tests.support.razorpay_standin import RazorpayStandin

KEY_ID = "rzp_test_0123456789abcd"
KEY_SECRET = "test-key-secret-0123456789"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"
POSTING_SECRET = "test-posting-secret-0123456789"
CONSUMER = "+919876543210"
NUMBER = "NC-2026-000123"
DEMAND = Decimal("3250.00")
ACCOUNT = "1000004321"


@pytest.fixture(scope="session")
def razorpay_api() -> Iterator[RazorpayStandin]:
    with RazorpayStandin(KEY_ID, KEY_SECRET, WEBHOOK_SECRET) as standin:
        yield standin


def gateway_settings(razorpay_api: RazorpayStandin) -> dict[str, Any]:
    """The settings that make the app use the gateway stand-in and take postings."""
    return {
        "RAZORPAY_KEY_ID": KEY_ID,
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "RAZORPAY_API_BASE_URL": razorpay_api.base_url,
        "RAZORPAY_TIMEOUT_SECONDS": 2,
        "POSTING_SHARED_SECRET": POSTING_SECRET,
    }


@pytest.fixture()
def app(make_app: Any, razorpay_api: RazorpayStandin) -> Flask:
    razorpay_api.reset()
    return make_app(**gateway_settings(razorpay_api))


@pytest.fixture()
def signals(app: Flask) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Record each payment signal sent by this app, with its arguments."""
    heard: list[tuple[str, dict[str, Any]]] = []
    receivers = []
    for signal in (events.payment_recorded, events.application_paid, events.dues_cleared):

        def receiver(sender: Any, _name: str = signal.name, **kwargs: Any) -> None:
            heard.append((_name, kwargs))

        signal.connect(receiver, sender=app)
        receivers.append((signal, receiver))
    yield heard
    for signal, receiver in receivers:
        signal.disconnect(receiver, sender=app)


def add_application(
    app: Flask,
    *,
    number: str = NUMBER,
    demand: Decimal | None = DEMAND,
    status: str = ApplicationStatus.DEMAND_ISSUED,
    language: str = "en",
) -> int:
    """Record a submitted application with a demand note; return its id."""
    with app.app_context():
        application = Application(
            number=number,
            service="new_connection",
            status=status,
            phone=CONSUMER,
            language=language,
            data={"mobile": CONSUMER, "applicant_name": "Rameshwar Prasad Sahu"},
            demand_total=demand,
        )
        db.session.add(application)
        db.session.commit()
        return application.id


def add_link(app: Flask, razorpay_api: RazorpayStandin, application_id: int) -> str:
    """Make the application's link through the job, as after a submit; return its gateway id."""
    from core.models.payments import PaymentLink
    from payments.links import create_payment_link, plan_payment_link

    with app.app_context():
        application = db.session.get(Application, application_id)
        link = plan_payment_link(db.session, application)
        db.session.commit()
        assert create_payment_link(link.id) == "created"
        return db.session.get(PaymentLink, link.id).gateway_link_id


def add_account(
    app: Flask,
    *,
    amount_due: str = "842.00",
    after_due: str = "860.00",
    due: date | None = None,
    phones: tuple[str, ...] = (),
    language: str = "hi",
) -> int:
    """Record a consumer with one unpaid bill (and these linked numbers); return its id."""
    with app.app_context():
        account = ConsumerAccount(account_number=ACCOUNT, name="Sunita Devi", language=language)
        db.session.add(account)
        db.session.flush()
        db.session.add_all(LinkedNumber(phone=phone, account_id=account.id) for phone in phones)
        db.session.add(
            Bill(
                account_id=account.id,
                bill_date=date(2026, 11, 1),
                due_date=due or date(2099, 1, 1),
                amount_due=Decimal(amount_due),
                amount_after_due=Decimal(after_due),
            )
        )
        db.session.commit()
        return account.id


def posting_body(**fields: Any) -> dict[str, Any]:
    """A posting's JSON, with defaults for what is not given."""
    body = {
        "reference": ACCOUNT,
        "amount": "842.00",
        "channel": "bbps",
        "transaction_id": "BBPS0000000001",
        "paid_at": "2026-12-05T10:15:00+05:30",
    }
    body.update(fields)
    return body


def post_posting(
    client: Any,
    body: dict[str, Any] | bytes,
    *,
    secret: str = POSTING_SECRET,
    stamp: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a payment as a biller does: signed over the timestamp and the raw body."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(time.time())) if stamp is None else stamp
    sent = {
        "Content-Type": "application/json",
        "X-Sampark-Timestamp": stamp,
        "X-Sampark-Signature": posting_signature(secret, stamp, raw),
    }
    if headers is not None:
        sent = headers
    return client.post("/payments/posting", data=raw, headers=sent)
