"""Supply outages on a feeder or in an area, and the notices sent to the consumers there."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import PHONE, UTCDateTime, utcnow


class OutageKind(StrEnum):
    """Whether the DISCOM chose the outage (maintenance) or it happened (a fault)."""

    PLANNED = "planned"
    UNPLANNED = "unplanned"


class OutageState(StrEnum):
    """Where an outage stands: announced until it is restored or called off."""

    ANNOUNCED = "announced"
    RESTORED = "restored"
    CANCELLED = "cancelled"


class NoticeKind(StrEnum):
    """Which SMS a consumer got about an outage."""

    NOTICE = "notice"  # the outage itself
    RESTORED = "restored"  # supply is back


class Outage(db.Model):
    """An outage on one feeder or in one area, as a supervisor recorded it."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    # Exactly one of the two names where it is: a feeder code, or an area.
    feeder: Mapped[str | None] = mapped_column(String(40))
    area: Mapped[str | None] = mapped_column(String(80))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_restoration_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason_code: Mapped[str] = mapped_column(String(20))
    reason_note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default=OutageState.ANNOUNCED)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When every consumer's notice was recorded; None while (or if cut short) recording.
    notices_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same for the restoration SMS, when those are sent.
    restored_notices_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A hash of the form's fields and the recorder: the same form sent twice is one outage.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_outages_state_feeder", "state", "feeder", "area"),)

    @property
    def place(self) -> str:
        """Return where the outage is, as a person reads it."""
        return f"feeder {self.feeder}" if self.feeder else f"area {self.area}"


class OutageNotice(db.Model):
    """One SMS about an outage to one number: unique, so recording twice sends once."""

    __tablename__ = "outage_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"))
    kind: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(PHONE)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("outage_id", "kind", "phone", name="uq_outage_notices_phone"),
        # The console counts an outage's notices by the state of their messages.
        Index("ix_outage_notices_message", "message_id"),
    )
