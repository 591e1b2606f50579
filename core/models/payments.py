"""Payments: the gateway's payment links, each payment received, and the webhook events seen.

Only the gateway's ids are kept of a payment (payment id, link id): never a card number,
a UPI handle or a bank account.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.consumers import MONEY
from core.models.types import UTCDateTime, utcnow


class LinkStatus(StrEnum):
    """Where a payment link stands."""

    PENDING = "pending"
    """Recorded with the demand note; the job that asks the gateway for it has not finished."""
    CREATED = "created"
    """The gateway made it; its short URL went out in the demand SMS."""
    UNAVAILABLE = "unavailable"
    """The gateway could not make it; the SMS said where to pay instead."""
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    EXPIRED = "expired"


class PaymentOutcome(StrEnum):
    """What a recorded payment did."""

    PAID = "paid"
    """It completed the demand (or the bill's dues)."""
    PART = "part"
    """Part of a bill, or an instalment of a link that is paid in full: nothing to check."""
    PARTIAL = "partial"
    """Less than the demand: recorded, flagged, the application stays unpaid."""
    WRONG_AMOUNT = "wrong_amount"
    """More than the demand: recorded, flagged, not treated as paid."""
    ALREADY_PAID = "already_paid"
    """The demand was paid already: a second payment, to refund or check."""
    NO_DEMAND = "no_demand"
    """The application has no demand to pay (or no unpaid bill for an account)."""
    UNKNOWN_REFERENCE = "unknown_reference"
    """The gateway's reference names no application: the money is there, the owner is not."""


FLAGGED_OUTCOMES = frozenset(
    {
        PaymentOutcome.PARTIAL,
        PaymentOutcome.WRONG_AMOUNT,
        PaymentOutcome.ALREADY_PAID,
        PaymentOutcome.NO_DEMAND,
        PaymentOutcome.UNKNOWN_REFERENCE,
    }
)
"""Outcomes a supervisor must look at."""


class PaymentLink(db.Model):
    """The gateway's payment link of one application's demand note (one per application)."""

    __tablename__ = "payment_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    # The gateway refuses a second link with the same reference: a retry cannot make two.
    reference_id: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(20), default=LinkStatus.PENDING)
    gateway_link_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    short_url: Mapped[str | None] = mapped_column(String(200))
    expire_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    # When its job was handed to RQ (None: not yet); the sweep hands over what is due.
    job_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_payment_links_pending", "status", "job_queued_at"),)


class Payment(db.Model):
    """One payment received, through the gateway or posted by a biller, counter or kiosk."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "razorpay", or "posting" (BBPS, cash counters, kiosks).
    source: Mapped[str] = mapped_column(String(20))
    # razorpay, bbps, cash, kiosk.
    channel: Mapped[str] = mapped_column(String(20))
    # The gateway's payment id, or the poster's transaction id: one payment, recorded once.
    external_id: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(40))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("consumer_accounts.id"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    gateway_link_id: Mapped[str | None] = mapped_column(String(40))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_payments_source_external"),
        Index("ix_payments_application", "application_id"),
        # The supervisors' list of flagged payments, newest first.
        Index("ix_payments_flagged", "flagged", "id"),
        # The day's payments, looked at again by the sweep (meters.reconnection).
        Index("ix_payments_recorded", "recorded_at"),
    )


class PaymentEvent(db.Model):
    """A gateway webhook event already handled: a redelivery of it is answered and ignored."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_payment_events_event"),)
