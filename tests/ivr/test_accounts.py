"""The bill status the IVR announces, read from an account's history of bills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.extensions import db
from ivr.accounts import RECENT_BILLS, AccountRef, BillStatus, bill_for_caller
from ivr.demo import add_consumer

CALLER = "+919812345678"


def bill(month: int, year: int = 2026, paid: bool = False, amount: str = "100.00") -> dict:
    return {
        "bill_date": date(year, month, 1),
        "due_date": date(year, month, 15),
        "amount_due": Decimal(amount),
        "amount_after_due": Decimal(amount) + 10,
        "paid_amount": Decimal(amount) if paid else None,
        "paid_on": date(year, month, 10) if paid else None,
    }


def status_of(app, bills: list[dict]) -> BillStatus | None:
    with app.app_context():
        account = add_consumer("1000004321", [CALLER], bills)
        db.session.commit()
        return bill_for_caller(account.id, CALLER)


def test_latest_bill_is_due_and_the_last_payment_is_an_older_one(app):
    # Stored out of order: the latest is the one with the latest bill date.
    status = status_of(app, [bill(9, paid=True, amount="90.50"), bill(11), bill(10)])
    assert status is not None
    assert (status.amount_due, status.due_date) == (Decimal("100.00"), date(2026, 11, 15))
    assert status.amount_after_due == Decimal("110.00")
    assert (status.last_paid_amount, status.last_paid_on) == (Decimal("90.50"), date(2026, 9, 10))
    assert status.has_bill and not status.disconnected
    assert status.account == AccountRef(status.account.id, "1000004321")


def test_a_paid_latest_bill_leaves_nothing_due(app):
    status = status_of(app, [bill(10, paid=True), bill(11, paid=True, amount="55.00")])
    assert status is not None
    assert (status.amount_due, status.due_date, status.amount_after_due) == (None, None, None)
    assert status.last_paid_on == date(2026, 11, 10)
    assert status.last_paid_amount == Decimal("55.00")


def test_a_part_paid_bill_is_read_as_what_is_left_to_pay(app):
    part_paid = {**bill(11, amount="842.00"), "paid_amount": Decimal("800.00")}
    status = status_of(app, [bill(10, paid=True, amount="90.50"), part_paid])
    assert status is not None
    assert (status.amount_due, status.amount_after_due) == (Decimal("42.00"), Decimal("52.00"))
    assert status.due_date == date(2026, 11, 15)
    # The last payment announced is still the last bill paid in full.
    assert (status.last_paid_amount, status.last_paid_on) == (Decimal("90.50"), date(2026, 10, 10))


def test_a_payment_older_than_the_recent_bills_is_not_announced(app):
    history = [bill(1, year=2024, paid=True)] + [
        bill(month, year=2025) for month in range(1, RECENT_BILLS + 1)
    ]
    status = status_of(app, history)
    assert status is not None
    assert status.amount_due == Decimal("100.00") and status.due_date == date(2025, 12, 15)
    assert (status.last_paid_amount, status.last_paid_on) == (None, None)


def test_a_payment_on_the_oldest_of_the_recent_bills_is_announced(app):
    history = [bill(1, year=2024, paid=True, amount="77.00")] + [
        bill(month, year=2025, paid=month == 1, amount="60.00" if month == 1 else "100.00")
        for month in range(1, RECENT_BILLS + 1)
    ]
    status = status_of(app, history)
    assert status is not None
    assert (status.last_paid_amount, status.last_paid_on) == (Decimal("60.00"), date(2025, 1, 10))


def test_of_two_bills_on_one_date_the_later_entered_is_the_latest(app):
    # A corrected bill re-issued on the same date supersedes the first one.
    first, corrected = bill(11, amount="100.00"), bill(11, amount="80.00")
    status = status_of(app, [first, corrected])
    assert status is not None
    assert status.amount_due == Decimal("80.00") and status.amount_after_due == Decimal("90.00")


def test_a_disconnected_account_that_has_paid_has_nothing_due(app):
    with app.app_context():
        paid = [bill(11, paid=True)]
        account = add_consumer("1000002222", [CALLER], paid, supply_status="disconnected")
        db.session.commit()
        status = bill_for_caller(account.id, CALLER)
    assert status is not None and status.disconnected and status.amount_due is None
    assert status.has_bill is True


def test_no_bills_and_other_peoples_accounts(app):
    status = status_of(app, [])
    assert status is not None and not status.has_bill and status.amount_due is None
    with app.app_context():
        other = add_consumer("1000008765", ["+919800000001"], [bill(11)])
        unlinked = add_consumer("1000001111", [], [bill(11)])
        db.session.commit()
        assert bill_for_caller(other.id, CALLER) is None
        assert bill_for_caller(unlinked.id, CALLER) is not None
        assert bill_for_caller(unlinked.id + 1000, CALLER) is None
