"""The callback page: the caller's history beside the call, and the Call button."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import Callback, CallbackStatus, MissedCall, utcnow
from core.models.applications import Application
from core.models.attempts import CallAttempt
from core.models.console import AuditEvent
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from tests.callcenter.conftest import post_form

PHONE = "+919812345678"


def claim(client):
    response = post_form(client, "/console/", "/console/take-next")
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_callback_page_shows_the_callers_history(app, operator, callback_factory):
    earlier = callback_factory(PHONE, status=CallbackStatus.DONE)
    callback_id = callback_factory(PHONE, missed_calls=2)
    with app.app_context():
        db.session.add_all(
            [
                MissedCall(
                    call_sid=f"CA{n:032d}",
                    caller_raw=PHONE,
                    phone=PHONE,
                    dialled="+911140000000",
                    outcome="merged" if n else "queued",
                    callback_id=callback_id,
                    received_at=utcnow() - timedelta(hours=n),
                )
                for n in range(2)
            ]
        )
        accounts = [
            ConsumerAccount(account_number=f"10100{n}", name=f"Ram Prasad {n}") for n in range(3)
        ]
        db.session.add_all(accounts)
        db.session.flush()
        db.session.add_all([LinkedNumber(phone=PHONE, account_id=a.id) for a in accounts])
        for months, amount in ((2, "410.00"), (1, "1234.50")):
            db.session.add(
                Bill(
                    account_id=accounts[0].id,
                    bill_date=date(2026, 11 - months, 1),
                    due_date=date(2026, 11 - months, 15),
                    amount_due=Decimal(amount),
                    amount_after_due=Decimal(amount) + 20,
                )
            )
        db.session.add(
            Application(
                number="NC-2026-000123", service="new_connection", phone=PHONE, status="submitted"
            )
        )
        db.session.add(
            CallAttempt(callback_id=earlier, operator_id=1, number=1, status="no-answer")
        )
        db.session.commit()

    text = operator.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)

    assert "+91******5678" in text
    assert "9812345678" not in text
    assert text.count("101000") == 1 and "101002" in text
    assert "₹1,234.50 of 01 Oct 2026" in text  # the latest bill, not the older one
    assert "₹410.00" not in text
    # Codes read as words: the service, the status, each missed call's and attempt's outcome.
    assert "NC-2026-000123 — New connection — Submitted" in text
    assert text.count("— added to the open callback") == 1 and "— callback opened" in text
    assert "no answer" in text and "no-answer" not in text and "(earlier callback)" in text


def test_accounts_shown_stop_at_25(app, operator, callback_factory):
    callback_id = callback_factory(PHONE)
    with app.app_context():
        accounts = [ConsumerAccount(account_number=f"2{n:05d}", name="Sita") for n in range(30)]
        db.session.add_all(accounts)
        db.session.flush()
        db.session.add_all([LinkedNumber(phone=PHONE, account_id=a.id) for a in accounts])
        db.session.commit()

    text = operator.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)

    assert sum(f"2{n:05d}" in text for n in range(30)) == 25


def test_only_the_holder_sees_the_call_and_outcome_controls(
    operator, second_operator, callback_factory
):
    callback_factory(PHONE)
    callback_id = claim(operator)
    page = f"/console/callbacks/{callback_id}"

    assert "Record outcome" in operator.get(page).get_data(as_text=True)
    other = second_operator.get(page).get_data(as_text=True)
    assert "Record outcome" not in other
    assert "held by Asha" in other


def test_call_starts_a_call_for_the_holder(app, operator, operator_id, callback_factory):
    callback_factory(PHONE)
    callback_id = claim(operator)
    page = f"/console/callbacks/{callback_id}"

    response = post_form(operator, page, f"{page}/call")

    assert response.status_code == 302
    assert "Your phone will ring" in operator.get(page).get_data(as_text=True)
    with app.app_context():
        callback = db.session.get(Callback, callback_id)
        assert (callback.status, callback.claimed_by_id) == (CallbackStatus.CALLING, operator_id)
        attempt = db.session.scalar(select(CallAttempt))
        assert (attempt.callback_id, attempt.operator_id) == (callback_id, operator_id)
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[0] == "claim" and len(actions) == 2  # and the call's own event


def test_call_for_an_operator_with_no_phone_is_refused(app, callback_factory):
    from tests.callcenter.conftest import create_user, login

    create_user(app, "nophone", phone=None)
    client = app.test_client()
    login(client, "nophone")
    callback_factory(PHONE)
    callback_id = claim(client)
    page = f"/console/callbacks/{callback_id}"

    response = post_form(client, page, f"{page}/call")

    assert response.status_code == 409
    assert "no phone number to ring" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Callback, callback_id).status == CallbackStatus.CLAIMED


def test_the_attempt_count_counts_the_call_under_way(app, operator, operator_id, callback_factory):
    callback_factory(PHONE, attempts=1)
    callback_id = claim(operator)
    with app.app_context():
        for number, status in ((1, "completed"), (2, "in-progress")):
            db.session.add(
                CallAttempt(
                    callback_id=callback_id, operator_id=operator_id, number=number, status=status
                )
            )
        db.session.commit()
    page = operator.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)
    count = page.split('id="attempt-count">')[1].split("</dd>")[0]
    assert count == "2 calls placed, 1 rang the consumer"
