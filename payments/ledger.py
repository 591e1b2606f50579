"""Marking paid: one idempotent way in for every payment, whichever door it came through.

``mark_paid`` runs in the door's write transaction and records the payment once (a
payment's source and external id are unique), then applies it: a demand paid in full moves
its application to PAID (audited, an SMS to the consumer), a bill payment adds to the
account's latest unpaid bill (an SMS to the account's numbers says what is left to pay).
A partial, excess, second or unmatched payment is recorded and flagged for supervisors,
and changes no status. Nothing here moves a paid demand back.
``announce`` sends the signals once the door has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callqueue.sms import record_message
from core import events
from core.audit import record_audit
from core.models.applications import Application, ApplicationStatus
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from core.models.payments import (
    FLAGGED_OUTCOMES,
    LinkStatus,
    Payment,
    PaymentLink,
    PaymentOutcome,
)
from core.phone import mask
from forms.exceptions import ApplicationNumberError, UnknownServiceError
from forms.numbers import INDIA_TIME, parse_application_number
from ivr.accounts import AccountRef
from payments.exceptions import UnknownReferenceError
from voice_prompts.spoken import amount_text

log = logging.getLogger("sampark.payments")

SMS_PAYMENT_RECEIVED = "payment_received"
"""SMS template: the demand of an application is paid."""

SMS_BILL_PAID = "bill_payment_received"
"""SMS template: a payment that settled the account's bill."""

SMS_BILL_PART_PAID = "bill_part_payment_received"
"""SMS template: a payment towards the bill that leaves some of it to pay."""

MAX_AMOUNT = Decimal("9999999999.99")
"""The largest amount a money column holds (12 digits, 2 after the point)."""

MAX_RECEIPT_NUMBERS = 5
"""Numbers told of a bill payment: those first linked to the account (as the IVR allows)."""

COUNTED_OUTCOMES = (PaymentOutcome.PAID, PaymentOutcome.PART, PaymentOutcome.PARTIAL)
"""Payments that add up towards an application's demand."""


@dataclass(frozen=True)
class Receipt:
    """A payment as a door read it: who paid what, for which reference, when."""

    source: str
    channel: str
    external_id: str
    reference: str
    amount: Decimal
    paid_at: datetime
    gateway_link_id: str | None = None
    link_amount_paid: Decimal | None = None
    """The gateway's running total paid on the link, when it says (its truth over ours)."""


@dataclass
class Recorded:
    """What ``mark_paid`` did; ``announce`` sends the signals it calls for."""

    payment_id: int | None
    outcome: str
    duplicate: bool = False
    application_paid: int | None = None
    dues_cleared: int | None = None
    paid_at: datetime | None = None

    @property
    def flagged(self) -> bool:
        return self.outcome in FLAGGED_OUTCOMES


def mark_paid(session: Session, receipt: Receipt, *, unknown_is_error: bool = False) -> Recorded:
    """Record ``receipt`` once and apply it, in the caller's transaction.

    A payment seen before (same source and external id) is left alone (``duplicate``).
    An unknown reference raises UnknownReferenceError when ``unknown_is_error`` (a poster
    can correct it), else is recorded and flagged (the gateway has taken the money).
    """
    existing = session.scalar(
        select(Payment).where(
            Payment.source == receipt.source, Payment.external_id == receipt.external_id
        )
    )
    if existing is not None:
        return Recorded(existing.id, existing.outcome, duplicate=True)
    payment = Payment(
        source=receipt.source,
        channel=receipt.channel,
        external_id=receipt.external_id,
        reference=receipt.reference,
        amount=receipt.amount,
        gateway_link_id=receipt.gateway_link_id,
        paid_at=receipt.paid_at,
    )
    application = _application(session, receipt.reference)
    account = None if application is not None else _account(session, receipt.reference)
    recorded = Recorded(None, PaymentOutcome.UNKNOWN_REFERENCE)
    if application is not None:
        payment.application_id = application.id
        recorded = _apply_to_application(session, application, receipt)
    elif account is not None:
        payment.account_id = account.id
        recorded = _apply_to_bill(session, account, receipt, payment)
    elif unknown_is_error:
        raise UnknownReferenceError(f"no application or account {receipt.reference!r}")
    payment.outcome = recorded.outcome
    payment.flagged = recorded.flagged
    session.add(payment)
    session.flush()
    recorded.payment_id = payment.id
    if recorded.application_paid is not None and application is not None:
        _after_application_paid(session, application, payment)
    if recorded.flagged:
        log.warning(
            "payment %s (%s %s, %s) flagged: %s",
            payment.id,
            receipt.source,
            receipt.external_id,
            receipt.reference,
            recorded.outcome,
        )
    return recorded


def _application(session: Session, reference: str) -> Application | None:
    try:
        number = str(parse_application_number(reference))
    except (ApplicationNumberError, UnknownServiceError):
        return None
    return session.scalar(select(Application).where(Application.number == number).with_for_update())


def _account(session: Session, reference: str) -> ConsumerAccount | None:
    number = reference.strip()
    if not number:
        return None
    return session.scalar(select(ConsumerAccount).where(ConsumerAccount.account_number == number))


def _apply_to_application(session: Session, application: Application, receipt: Receipt) -> Recorded:
    demand = application.demand_total
    link = session.scalar(select(PaymentLink).where(PaymentLink.application_id == application.id))
    same_link = (
        link is not None
        and receipt.gateway_link_id is not None
        and link.gateway_link_id == receipt.gateway_link_id
    )
    if application.paid_at is not None:
        # An instalment of the link that paid the demand, heard after the whole: expected.
        if same_link and demand is not None and receipt.link_amount_paid is not None:
            if receipt.link_amount_paid <= demand:
                return Recorded(None, PaymentOutcome.PART)
        return Recorded(None, PaymentOutcome.ALREADY_PAID)
    if demand is None or application.status != ApplicationStatus.DEMAND_ISSUED:
        return Recorded(None, PaymentOutcome.NO_DEMAND)
    if same_link and receipt.link_amount_paid is not None:
        total = receipt.link_amount_paid
    else:
        earlier = session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.application_id == application.id,
                Payment.outcome.in_([str(outcome) for outcome in COUNTED_OUTCOMES]),
            )
        )
        total = Decimal(earlier or 0) + receipt.amount
    if total < demand:
        return Recorded(None, PaymentOutcome.PARTIAL)
    if total > demand:
        return Recorded(None, PaymentOutcome.WRONG_AMOUNT)
    return Recorded(
        None, PaymentOutcome.PAID, application_paid=application.id, paid_at=receipt.paid_at
    )


def _after_application_paid(session: Session, application: Application, payment: Payment) -> None:
    old_status = application.status
    application.status = ApplicationStatus.PAID
    application.paid_at = payment.paid_at
    session.execute(
        PaymentLink.__table__.update()
        .where(PaymentLink.application_id == application.id)
        .values(status=LinkStatus.PAID)
    )
    record_audit(
        session,
        actor_id=None,
        entity="application",
        entity_id=application.id,
        action="paid",
        changes={
            "status": (old_status, application.status),
            "paid_at": (None, application.paid_at),
            "payment_id": (None, payment.id),
        },
    )
    to = (application.data or {}).get("mobile") or application.phone
    if to:
        record_message(
            session,
            key=SMS_PAYMENT_RECEIVED,
            to=to,
            language=application.language,
            values={
                "number": application.number,
                "amount": amount_text(Decimal(application.demand_total or 0), application.language),
            },
        )
    log.info("application %s paid (%s)", application.number, mask(application.phone))


def _apply_to_bill(
    session: Session, account: ConsumerAccount, receipt: Receipt, payment: Payment
) -> Recorded:
    bill = session.scalar(
        select(Bill)
        .where(Bill.account_id == account.id)
        .order_by(Bill.bill_date.desc(), Bill.id.desc())
        .limit(1)
        .with_for_update()
    )
    if bill is None or bill.paid_on is not None:
        return Recorded(None, PaymentOutcome.NO_DEMAND)
    payment.bill_id = bill.id
    paid_on = receipt.paid_at.astimezone(INDIA_TIME).date()
    due = bill.amount_due if paid_on <= bill.due_date else bill.amount_after_due
    paid_amount = Decimal(bill.paid_amount or 0) + receipt.amount
    if paid_amount > MAX_AMOUNT:
        return Recorded(None, PaymentOutcome.WRONG_AMOUNT)
    bill.paid_amount = paid_amount
    if paid_amount < due:
        _tell_bill_payment(session, account, receipt.amount, balance=due - paid_amount)
        return Recorded(None, PaymentOutcome.PARTIAL)
    bill.paid_on = paid_on
    _tell_bill_payment(session, account, receipt.amount, balance=None)
    return Recorded(None, PaymentOutcome.PAID, dues_cleared=account.id, paid_at=receipt.paid_at)


def _tell_bill_payment(
    session: Session, account: ConsumerAccount, amount: Decimal, *, balance: Decimal | None
) -> None:
    """Record the receipt SMS for each number linked to the account, in its language.

    In the door's transaction, so a payment heard twice (a duplicate never gets here) or
    rolled back sends nothing. An account with no linked number hears it from the IVR.
    """
    numbers = session.scalars(
        select(LinkedNumber.phone)
        .where(LinkedNumber.account_id == account.id)
        .order_by(LinkedNumber.id)
        .limit(MAX_RECEIPT_NUMBERS)
    ).all()
    language = account.language
    values = {
        "account": AccountRef(account.id, account.account_number).masked,
        "amount": amount_text(amount, language),
    }
    if balance is not None:
        values["balance"] = amount_text(balance, language)
    key = SMS_BILL_PAID if balance is None else SMS_BILL_PART_PAID
    for phone in numbers:  # one each: a number is linked to an account once
        record_message(session, key=key, to=phone, language=language, values=values)


def announce(recorded: Recorded) -> None:
    """Send the signals of a committed payment (nothing for a duplicate)."""
    if recorded.duplicate or recorded.payment_id is None:
        return
    sender = current_app._get_current_object()  # type: ignore[attr-defined]
    events.payment_recorded.send(sender, payment_id=recorded.payment_id)
    if recorded.application_paid is not None:
        events.application_paid.send(
            sender, application_id=recorded.application_paid, paid_at=recorded.paid_at
        )
    if recorded.dues_cleared is not None:
        events.dues_cleared.send(sender, account_id=recorded.dues_cleared, paid_at=recorded.paid_at)


def payments_of(session: Session, application_id: int) -> tuple[PaymentLink | None, list[Payment]]:
    """Return an application's payment link and its payments, oldest first."""
    link = session.scalar(select(PaymentLink).where(PaymentLink.application_id == application_id))
    payments = session.scalars(
        select(Payment).where(Payment.application_id == application_id).order_by(Payment.id)
    )
    return link, list(payments)


def flagged_payments(session: Session, limit: int) -> list[Payment]:
    """Return the flagged payments, newest first."""
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.flagged.is_(True))
            .order_by(Payment.id.desc())
            .limit(limit)
        )
    )
