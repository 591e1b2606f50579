"""The connection clock: one per paid new-connection application, and its stage history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class ConnectionClock(db.Model):
    """Where a paid application stands, and by when it must be energised.

    Made when the application is paid (``core.events.application_paid``); its area,
    area class and deadline are fixed then, so a later change of settings does not move a
    promise already made to the consumer.
    """

    __tablename__ = "connection_clocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    # The form's area type ("urban"/"rural": the incentive window) and the class the
    # timeline counts days for ("urban", "rural", "metro", "municipal", "hilly_rural").
    area_type: Mapped[str] = mapped_column(String(10))
    area_class: Mapped[str] = mapped_column(String(16))
    district: Mapped[str] = mapped_column(String(80))
    subdivision: Mapped[str] = mapped_column(String(80), default="")
    # The event the clock counts from ("payment", "submission", "demand") and its time.
    start_event: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    incentive_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An ApplicationStatus from PAID on (the application's status follows it).
    stage: Mapped[str] = mapped_column(String(20))
    stage_at: Mapped[datetime] = mapped_column(UTCDateTime)
    energised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    energised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(300))
    # Set once, when the overdue alert went to the area's engineers.
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The engineer's list and the overdue sweep: open clocks by deadline.
        Index("ix_connection_clocks_open_due", "energised_at", "rejected_at", "due_at"),
        Index("ix_connection_clocks_area", "district", "subdivision"),
        Index("ix_connection_clocks_energised", "energised_at"),
    )

    @property
    def is_open(self) -> bool:
        """Tell whether the connection is still to be made (neither energised nor rejected)."""
        return self.energised_at is None and self.rejected_at is None


class ConnectionStage(db.Model):
    """One stage recorded on an application after payment: who, when, and why (rejection)."""

    __tablename__ = "connection_stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    stage: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300))
    # None for the stage the system records itself (paid).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_connection_stages_application", "application_id", "at"),)
