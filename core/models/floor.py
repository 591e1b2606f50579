"""The operator floor: where each operator stands between calls (ready, after-call work, away)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class OperatorState(StrEnum):
    """What an operator said or did last. "On a call" is not kept: it is holding a callback."""

    AVAILABLE = "available"
    AFTER_CALL_WORK = "after_call_work"  # just recorded an outcome; a timer runs
    AWAY = "away"


class OperatorStatus(db.Model):
    """One operator's state and since when; no row means available since they logged in."""

    __tablename__ = "operator_states"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=OperatorState.AVAILABLE)
    state_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
