"""Consumer accounts (K number, BP number…), the numbers linked to them, their bills."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import PHONE, UTCDateTime, utcnow

MONEY = Numeric(12, 2)
"""Rupees and paise."""

MAX_ACCOUNTS_PER_NUMBER = 25
"""One registered mobile may hold up to 25 accounts (the Ajmer portal's limit)."""


class ConsumerAccount(db.Model):
    """An electricity connection, known by the DISCOM's account number."""

    __tablename__ = "consumer_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(20), default="domestic")
    area_type: Mapped[str] = mapped_column(String(10), default="rural")
    # "active", or "disconnected" (for non-payment: restored once the dues are paid).
    supply_status: Mapped[str] = mapped_column(String(20), default="active")
    language: Mapped[str] = mapped_column(String(5), default="hi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Smart meters (migration 0013, meters/): "postpaid", "prepaid" or "smart", and the
    # meter's id at the head-end, which prepaid and smart meters are switched through.
    meter_kind: Mapped[str] = mapped_column(
        String(10), default="postpaid", server_default="postpaid"
    )
    head_end_meter_id: Mapped[str | None] = mapped_column(String(40))
    # Where the supply comes from, for outage notices (outages/): the 11 kV feeder's code
    # and the area (town, village, zone) as the DISCOM names them.
    feeder: Mapped[str | None] = mapped_column(String(40), index=True)
    area: Mapped[str | None] = mapped_column(String(80), index=True)


class LinkedNumber(db.Model):
    """A mobile number registered against an account."""

    __tablename__ = "linked_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(PHONE)
    account_id: Mapped[int] = mapped_column(ForeignKey("consumer_accounts.id"))

    __table_args__ = (
        UniqueConstraint("phone", "account_id", name="uq_linked_numbers_phone"),
        # "Is this account linked to another number?" looks numbers up by account.
        Index("ix_linked_numbers_account", "account_id"),
    )


class Bill(db.Model):
    """A bill raised on an account, and how it was paid."""

    __tablename__ = "bills"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("consumer_accounts.id"))
    bill_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount_due: Mapped[Decimal] = mapped_column(MONEY)
    amount_after_due: Mapped[Decimal] = mapped_column(MONEY)
    paid_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_bills_account_date", "account_id", "bill_date"),)


class SupplyFault(db.Model):
    """A supply fault reported through the IVR; ``reference`` is read and sent to the caller."""

    __tablename__ = "supply_faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(12), unique=True)
    phone: Mapped[str] = mapped_column(PHONE)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("consumer_accounts.id"))
    call_sid: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(5), default="hi")
    # "open" until the field staff close it.
    status: Mapped[str] = mapped_column(String(20), default="open")
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_supply_faults_phone_reported", "phone", "reported_at"),)
