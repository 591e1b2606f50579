"""Outbound announcement campaigns: who is called about what, and how each call went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import PHONE, UTCDateTime, utcnow


class CampaignKind(StrEnum):
    """What a campaign announces."""

    OVERDUE_BILLS = "overdue-bills"
    UNPAID_DEMAND = "unpaid-demand"


class CampaignCallStatus(StrEnum):
    """Where one consumer's call stands."""

    QUEUED = "queued"  # scheduled, not placed yet
    CALLING = "calling"  # placed, not answered yet
    ANSWERED = "answered"  # a person is hearing the announcement
    RETRYING = "retrying"  # busy or no answer; called again later
    MACHINE = "machine"  # an answering machine took it; a short message was left
    DONE = "done"  # a person heard the announcement and the call ended
    FAILED = "failed"  # not reached within the attempts, or the call could not be placed
    # The provider never answered the request to place it and may have placed it: not
    # placed again; its status callbacks (which name the call) still settle it.
    UNKNOWN = "unknown"
    PAUSED = "paused"  # waiting, held back by a supervisor until the campaign is resumed
    CANCELLED = "cancelled"  # never placed: a supervisor cancelled the campaign


FINAL_CALL_STATUSES = frozenset(
    {
        CampaignCallStatus.MACHINE,
        CampaignCallStatus.DONE,
        CampaignCallStatus.FAILED,
        CampaignCallStatus.CANCELLED,
    }
)
"""Statuses nothing moves a call out of."""


WAITING_CAMPAIGN_CALL_SQL = (
    f"status IN ('{CampaignCallStatus.QUEUED}', '{CampaignCallStatus.RETRYING}')"
)
"""Calls waiting for their job to run: the ones a lost Redis job leaves behind."""

PLACING_CAMPAIGN_CALL_SQL = f"status = '{CampaignCallStatus.CALLING}' AND call_sid IS NULL"
"""Calls a worker is placing (or died placing): the provider has not named them yet."""


class Campaign(db.Model):
    """One run of announcements, paced at ``rate`` calls per second."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique, so that creating the same campaign twice makes it once.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    rate: Mapped[float] = mapped_column(Float)
    min_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its last call was recorded; None while they are being recorded in batches, or
    # when that was interrupted (``flask campaign resume`` finishes it).
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignCall(db.Model):
    """One number to call in a campaign, with what to announce and how the calls went."""

    __tablename__ = "campaign_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    phone: Mapped[str] = mapped_column(PHONE)
    language: Mapped[str] = mapped_column(String(5), default="hi")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("consumer_accounts.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    status: Mapped[str] = mapped_column(String(12), default=CampaignCallStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    call_sid: Mapped[str | None] = mapped_column(String(64))
    # The provider's last word: busy, no-answer, completed, machine_start…
    last_result: Mapped[str | None] = mapped_column(String(24))
    callback_requested: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", "phone", name="uq_campaign_calls_phone"),
        Index("ix_campaign_calls_call_sid", "call_sid"),
        # The waiting calls in due order, whose oldest the sweep checks for jobs Redis lost;
        # calls placed and finished, most of every campaign, leave it.
        Index(
            "ix_campaign_calls_waiting",
            "due_at",
            sqlite_where=db.text(WAITING_CAMPAIGN_CALL_SQL),
            postgresql_where=db.text(WAITING_CAMPAIGN_CALL_SQL),
        ),
        # Calls being placed, not yet named: the sweep settles those a dead worker left.
        Index(
            "ix_campaign_calls_placing",
            "updated_at",
            sqlite_where=db.text(PLACING_CAMPAIGN_CALL_SQL),
            postgresql_where=db.text(PLACING_CAMPAIGN_CALL_SQL),
        ),
    )
