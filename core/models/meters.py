"""Reconnection orders: a smart or prepaid meter switched back on at the head-end after payment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class MeterKind(StrEnum):
    """How a consumer's meter is read and switched."""

    POSTPAID = "postpaid"  # read by a meter reader; cut off and restored by field staff
    PREPAID = "prepaid"  # switched through the head-end
    SMART = "smart"  # switched through the head-end


REMOTE_SWITCHED_KINDS = frozenset({MeterKind.PREPAID, MeterKind.SMART})
"""Meters the head-end can reconnect without a visit."""


class OrderStatus(StrEnum):
    """Where a reconnection order stands."""

    WAITING = "waiting"  # recorded; the command is not accepted yet (or is being retried)
    COMMANDED = "commanded"  # the head-end took the command; its relay state is polled
    CONNECTED = "connected"  # the relay reports connected
    ARMED = "armed"  # the relay is armed: the consumer presses the meter's button
    FAILED = "failed"  # given up: a person must look (the error says why)


OPEN_ORDER_STATUSES = (OrderStatus.WAITING, OrderStatus.COMMANDED)
"""Orders a job is still working on."""

OPEN_ORDER_SQL = "status IN ('waiting', 'commanded')"
"""The same, as SQL: the predicate of the sweep's partial index."""

UNCHECKED_SQL = "callback_checked_at IS NULL"
"""Orders the callback sweep has not looked at yet (finished ones are marked at once)."""


class ReconnectionOrder(db.Model):
    """One reconnection of one consumer's meter after one payment that cleared their dues.

    Unique per account and payment, so a signal delivered twice records one order; the
    ``step`` is claimed by each job run, so a job run twice sends nothing twice.
    """

    __tablename__ = "reconnection_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("consumer_accounts.id"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meter_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.WAITING)
    # Our id of the command (IEC 61968-9's mRID): the head-end takes it once, however often sent.
    correlation_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    command_id: Mapped[str | None] = mapped_column(String(64))
    relay_state: Mapped[str | None] = mapped_column(String(20))
    # Each run of the job claims the next step; the job of step n is reconnect-<id>-<n>.
    step: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # passing head-end errors
    polls: Mapped[int] = mapped_column(Integer, default=0)
    # When the job should next run; while a job runs, when its claim lapses.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    error: Mapped[str | None] = mapped_column(String(500))
    sms_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    callback_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    commanded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("account_id", "paid_at", name="uq_reconnection_orders_payment"),
        # The sweep's look for orders whose job Redis lost, and the IVR's "is one under way".
        Index(
            "ix_reconnection_orders_open",
            "next_attempt_at",
            sqlite_where=db.text(OPEN_ORDER_SQL),
            postgresql_where=db.text(OPEN_ORDER_SQL),
        ),
        Index("ix_reconnection_orders_account", "account_id", "created_at"),
        # The sweep's look for consumers owed a callback: orders not looked at yet.
        Index(
            "ix_reconnection_orders_unchecked",
            "paid_at",
            sqlite_where=db.text(UNCHECKED_SQL),
            postgresql_where=db.text(UNCHECKED_SQL),
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES
