"""What the IVR looks up: a caller's accounts, a bill's status, an application by keyed digits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, String, select, text

from core.database import PreparedRead
from core.extensions import db
from core.models.applications import Application
from core.models.consumers import (
    MAX_ACCOUNTS_PER_NUMBER,
    MONEY,
    ConsumerAccount,
    LinkedNumber,
)
from forms.exceptions import ApplicationNumberError
from forms.numbers import SEQUENCE_WIDTH, format_application_number
from forms.registry import PREFIXES

YEAR_DIGITS = 4
"""An application number is keyed as its year's four digits, then its sequence."""

MIN_APPLICATION_DIGITS = YEAR_DIGITS + 1
"""Fewest digits a keyed application number has: NC-2026-000001 may be keyed 20261."""

LAST_DIGITS = 4
"""How many trailing digits of an account number the IVR reads back."""


@dataclass(frozen=True)
class AccountRef:
    """An account as the IVR names it to a caller."""

    id: int
    number: str

    @property
    def last_digits(self) -> str:
        """Return the trailing digits read back to confirm the account."""
        return self.number[-LAST_DIGITS:]

    @property
    def masked(self) -> str:
        """Return the number with all but the trailing digits hidden, for an SMS."""
        return "X" * max(len(self.number) - LAST_DIGITS, 0) + self.last_digits


@dataclass(frozen=True)
class BillStatus:
    """What the IVR says about an account's bill."""

    account: AccountRef
    amount_due: Decimal | None
    due_date: date | None
    amount_after_due: Decimal | None
    last_paid_amount: Decimal | None
    last_paid_on: date | None
    disconnected: bool
    has_bill: bool


def caller_accounts(phone: str | None) -> list[AccountRef]:
    """Return the accounts linked to ``phone``, in account-number order."""
    if not phone:
        return []
    rows = db.session.execute(
        select(ConsumerAccount.id, ConsumerAccount.account_number)
        .join(LinkedNumber, LinkedNumber.account_id == ConsumerAccount.id)
        .where(LinkedNumber.phone == phone)
        .order_by(ConsumerAccount.account_number)
        .limit(MAX_ACCOUNTS_PER_NUMBER)
    ).all()
    return [AccountRef(row.id, row.account_number) for row in rows]


def account_by_number(number: str) -> AccountRef | None:
    """Return the account with this account number, or None."""
    row = db.session.execute(
        select(ConsumerAccount.id, ConsumerAccount.account_number).where(
            ConsumerAccount.account_number == number
        )
    ).first()
    return AccountRef(row.id, row.account_number) if row else None


def linked_to_someone_else(account_id: int, phone: str | None) -> bool:
    """Tell whether the account has linked numbers and ``phone`` is not one of them."""
    linked = set(
        db.session.scalars(select(LinkedNumber.phone).where(LinkedNumber.account_id == account_id))
    )
    return bool(linked) and phone not in linked


# The bill step is the IVR's busiest lookup: one statement written once (no per-call
# statement building), served by indexes only (the primary key, ix_linked_numbers_account,
# ix_bills_account_date), so its cost grows with neither the number of consumers nor an
# account's history. It returns one row: the latest bill and the last paid one are each
# found by a LIMIT on the bills index (no sort, no materialised subquery). One row matters
# under load: SQLite hands back each row in a step during which Python lets other threads
# run, and every such handover costs a context switch and the CPU's caches. Reading the
# account and its 12 latest bills as rows cost 4.8 context switches a request under the
# benchmark's load against 3.4 now (bare Flask: 3.6).
RECENT_BILLS = 12
"""Bills looked through for the last one paid: a year of monthly bills."""

_BILL_FOR_CALLER = PreparedRead(
    text(
        f"""
        SELECT a.account_number, a.supply_status,
            EXISTS (SELECT 1 FROM linked_numbers l WHERE l.account_id = a.id) AS has_links,
            EXISTS (SELECT 1 FROM linked_numbers l WHERE l.account_id = a.id AND l.phone = :phone)
                AS caller_linked,
            latest.amount_due, latest.amount_after_due, latest.due_date,
            latest.paid_on AS latest_paid_on, latest.paid_amount AS latest_paid_amount,
            paid.paid_on, paid.paid_amount
        FROM consumer_accounts a
        LEFT JOIN bills latest ON latest.id = (
            SELECT id FROM bills WHERE account_id = :account_id
            ORDER BY bill_date DESC, id DESC LIMIT 1
        )
        LEFT JOIN bills paid ON paid.id = (
            SELECT recent.id FROM (
                SELECT id, paid_on FROM bills WHERE account_id = :account_id
                ORDER BY bill_date DESC, id DESC LIMIT {RECENT_BILLS}
            ) AS recent
            WHERE recent.paid_on IS NOT NULL LIMIT 1
        )
        WHERE a.id = :account_id
        """
    ),
    account_number=String,
    supply_status=String,
    has_links=Boolean,
    caller_linked=Boolean,
    amount_due=MONEY,
    amount_after_due=MONEY,
    due_date=Date,
    latest_paid_on=Date,
    latest_paid_amount=MONEY,
    paid_on=Date,
    paid_amount=MONEY,
)


def bill_for_caller(account_id: int, phone: str | None) -> BillStatus | None:
    """Return the account's bill status, or None if unknown or linked to other numbers only."""
    # On the bare connection, not the Session: the bill step makes no other use of one.
    rows = _BILL_FOR_CALLER.all(db.engine, {"account_id": account_id, "phone": phone or ""})
    if not rows:
        return None
    (account_number, supply_status, has_links, caller_linked, amount_due, amount_after_due,
     due_date, latest_paid_on, latest_paid_amount, paid_on, paid_amount) = rows[0]  # fmt: skip
    if has_links and not caller_linked:
        return None
    has_bill = due_date is not None  # a bill always has one; without bills the join gives NULL
    unpaid = has_bill and latest_paid_on is None
    # Part paid (a payment short of the bill, payments/ledger.py): what is left is owed.
    part = latest_paid_amount or 0
    return BillStatus(
        account=AccountRef(account_id, account_number),
        amount_due=max(amount_due - part, 0) if unpaid else None,
        due_date=due_date if unpaid else None,
        amount_after_due=max(amount_after_due - part, 0) if unpaid else None,
        last_paid_amount=paid_amount,
        last_paid_on=paid_on,
        disconnected=supply_status == "disconnected",
        has_bill=has_bill,
    )


def application_numbers_for_keys(digits: str) -> list[str]:
    """Return the application numbers that keyed ``digits`` may stand for (one per service).

    Keypads have no letters, so a caller keys NC-2026-000123 as 2026000123: the year's
    four digits, then the sequence, with or without the zeros it is padded with on paper
    (2026123 too). The sequence is shared by all services, so at most one of the
    candidates exists.
    """
    if not digits.isascii() or not digits.isdigit() or len(digits) < MIN_APPLICATION_DIGITS:
        return []
    year, keyed = int(digits[:YEAR_DIGITS]), digits[YEAR_DIGITS:]
    sequence = int(keyed)
    # Zeros beyond the printed width are a slip of the finger, not a number ever issued.
    if len(keyed) > max(SEQUENCE_WIDTH, len(str(sequence))):
        return []
    try:
        return [format_application_number(prefix, sequence, year) for prefix in PREFIXES]
    except ApplicationNumberError:
        return []


def application_by_keys(digits: str, phone: str | None) -> Application | None:
    """Return the application the keyed digits name, the caller's own first, or None."""
    numbers = application_numbers_for_keys(digits)
    if not numbers:
        return None
    found = list(db.session.scalars(select(Application).where(Application.number.in_(numbers))))
    found.sort(key=lambda application: application.phone != phone)
    return found[0] if found else None
