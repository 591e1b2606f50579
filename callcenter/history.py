"""What we know of a caller, shown beside the call: missed calls, accounts, applications, bills."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from core.extensions import db
from core.models import Callback, MissedCall
from core.models.applications import Application
from core.models.attempts import CallAttempt
from core.models.consumers import MAX_ACCOUNTS_PER_NUMBER, Bill, ConsumerAccount, LinkedNumber
from core.models.meters import ReconnectionOrder
from meters.status import latest_orders

HISTORY_LIMIT = 50
"""Earlier missed calls, callbacks, call attempts and applications shown at most, newest first."""


@dataclass
class AccountSummary:
    """A consumer account linked to the caller's number, with its latest bill."""

    account: ConsumerAccount
    latest_bill: Bill | None
    reconnection: ReconnectionOrder | None = None


@dataclass
class CallerHistory:
    """Everything on record for one number."""

    missed_calls: list[MissedCall] = field(default_factory=list)
    earlier_callbacks: list[Callback] = field(default_factory=list)
    attempts: list[CallAttempt] = field(default_factory=list)
    accounts: list[AccountSummary] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)


def caller_history(phone: str, *, current_callback_id: int | None = None) -> CallerHistory:
    """Gather what is on record for ``phone`` (E.164)."""
    session = db.session
    history = CallerHistory()
    history.missed_calls = list(
        session.scalars(
            select(MissedCall)
            .where(MissedCall.phone == phone)
            .order_by(MissedCall.received_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    history.earlier_callbacks = list(
        session.scalars(
            select(Callback)
            .where(Callback.phone == phone, Callback.id != (current_callback_id or 0))
            .order_by(Callback.created_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    history.attempts = list(
        session.scalars(
            select(CallAttempt)
            .join(Callback, Callback.id == CallAttempt.callback_id)
            .where(Callback.phone == phone)
            .order_by(CallAttempt.created_at.desc(), CallAttempt.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    accounts = session.scalars(
        select(ConsumerAccount)
        .join(LinkedNumber, LinkedNumber.account_id == ConsumerAccount.id)
        .where(LinkedNumber.phone == phone)
        .order_by(ConsumerAccount.account_number)
        .limit(MAX_ACCOUNTS_PER_NUMBER)
    )
    for account in accounts:
        bill = session.scalar(
            select(Bill)
            .where(Bill.account_id == account.id)
            .order_by(Bill.bill_date.desc(), Bill.id.desc())
            .limit(1)
        )
        history.accounts.append(AccountSummary(account, bill))
    orders = latest_orders([summary.account.id for summary in history.accounts])
    for summary in history.accounts:
        summary.reconnection = orders.get(summary.account.id)
    numbers = [summary.account.account_number for summary in history.accounts]
    condition = Application.phone == phone
    if numbers:
        condition = condition | Application.account_number.in_(numbers)
    history.applications = list(
        session.scalars(
            select(Application)
            .where(condition)
            .order_by(Application.created_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    return history
