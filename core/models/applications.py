"""Applications filled for consumers (new connection and other services) and their demand notes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import PHONE, UTCDateTime, utcnow


class ApplicationStatus(StrEnum):
    """Where an application stands, from the draft an operator saves to the connection."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    INSPECTION = "inspection"
    DEMAND_ISSUED = "demand_issued"
    PAID = "paid"
    # The stages field engineers record after payment (connections.stages), in order;
    # CONNECTED is "energised".
    SITE_INSPECTED = "site_inspected"
    METER_ALLOTTED = "meter_allotted"
    METER_INSTALLED = "meter_installed"
    CONNECTED = "connected"
    REJECTED = "rejected"


class Application(db.Model):
    """One application; ``number`` (``NC-2026-000123``) is given when it is submitted."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    # A service code of forms.registry.SERVICES ("new_connection", "name_transfer", …).
    service: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.DRAFT)
    phone: Mapped[str] = mapped_column(PHONE)
    account_number: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="hi")
    # The form's record (forms' to_record(): JSON-safe, Aadhaar masked).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    demand_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    demand_items: Mapped[list[Any] | None] = mapped_column(JSON)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the demand was paid in full (payments.mark_paid); never cleared once set.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_applications_phone", "phone"),
        # The callback page finds a caller's applications by number or by account.
        Index("ix_applications_account_number", "account_number"),
        # The dashboard's applications per operator, and the CSV export's range.
        Index("ix_applications_submitted", "submitted_at"),
        Index("ix_applications_created", "created_at"),
    )


class ApplicationCounter(db.Model):
    """The last sequence value issued for one application-number prefix in one year."""

    __tablename__ = "application_counters"

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
