"""Outbound calls we place: each attempt to bridge an operator to a consumer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class AttemptStatus(StrEnum):
    """Where the operator's leg of an attempt stands: ours first, then the provider's."""

    CREATED = "created"  # recorded; the job that places the call has not run yet
    PLACING = "placing"  # a worker is asking the provider to place the call
    # The provider may have placed the call (it never answered us, or the worker died) and
    # cannot tell us: not placed again; a status callback or a person settles it.
    UNKNOWN = "unknown"
    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


FINAL_ATTEMPT_STATUSES = frozenset(
    {
        AttemptStatus.COMPLETED,
        AttemptStatus.BUSY,
        AttemptStatus.NO_ANSWER,
        AttemptStatus.FAILED,
        AttemptStatus.CANCELED,
    }
)
"""Statuses after which a call changes no more."""

ATTEMPT_STATUS_RANK: dict[str, int] = {
    AttemptStatus.CREATED: 0,
    AttemptStatus.PLACING: 1,
    AttemptStatus.UNKNOWN: 1,
    AttemptStatus.QUEUED: 2,
    AttemptStatus.INITIATED: 3,
    AttemptStatus.RINGING: 4,
    AttemptStatus.IN_PROGRESS: 5,
    **{status: 6 for status in FINAL_ATTEMPT_STATUSES},
}
"""How far along a call is; status callbacks arrive out of order and never move one back."""


class AttemptOutcome(StrEnum):
    """What an attempt came to for its callback, decided once."""

    ANSWERED = "answered"  # the consumer answered; the operator records a disposition
    UNANSWERED = "unanswered"  # the consumer (or the operator's failed leg) was not reached
    OPERATOR_UNREACHED = "operator_unreached"  # the operator did not pick up: not counted
    NOT_PLACED = "not_placed"  # the provider refused or failed the request: not counted


IN_FLIGHT_ATTEMPT_SQL = f"status IN ('{AttemptStatus.CREATED}', '{AttemptStatus.PLACING}')"
"""Attempts not yet with the provider: the ones a crash can leave behind."""


class CallAttempt(db.Model):
    """One call placed to bridge an operator to a consumer, and everything we heard of it."""

    __tablename__ = "call_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The attempt's number among the callback's attempts that reached the consumer's phone.
    number: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str | None] = mapped_column(String(16))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The operator's leg, as the provider last reported it (never moved backwards).
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.CREATED)
    status_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ringing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Seconds the operator's leg lasted (CallDuration).
    duration: Mapped[int | None] = mapped_column(Integer)
    # The consumer's leg, from the Dial action: completed, busy, no-answer, failed, canceled.
    consumer_status: Mapped[str | None] = mapped_column(String(16))
    consumer_duration: Mapped[int | None] = mapped_column(Integer)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    # Set once, when the attempt's result was applied to its callback (retry, close…).
    outcome: Mapped[str | None] = mapped_column(String(20))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_call_attempts_callback", "callback_id", "id"),
        # The wallboard's calls today.
        Index("ix_call_attempts_created", "created_at"),
        # The sweep's attempts left created or placing by a crash: a few among a year's.
        Index(
            "ix_call_attempts_in_flight",
            "status",
            "status_at",
            sqlite_where=db.text(IN_FLIGHT_ATTEMPT_SQL),
            postgresql_where=db.text(IN_FLIGHT_ATTEMPT_SQL),
        ),
    )
