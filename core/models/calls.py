"""Missed calls, the callbacks they open, the SMS we send, the block list."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import PHONE, UTCDateTime, utcnow


class MissedCallOutcome(StrEnum):
    """What became of one missed call."""

    QUEUED = "queued"  # opened a new callback
    MERGED = "merged"  # joined the caller's open callback
    WITHHELD = "withheld"  # no caller ID
    INVALID = "invalid"  # a caller ID that is not a usable number
    NOT_ALLOWED = "not_allowed"  # a number from a country we do not call
    BLOCKED = "blocked"  # on the block list
    RATE_LIMITED = "rate_limited"  # too many missed calls in the last hour


class CallbackStatus(StrEnum):
    """Where a callback stands. The open ones are in ``OPEN_CALLBACK_STATUSES``."""

    PENDING = "pending"
    CLAIMED = "claimed"
    CALLING = "calling"
    DONE = "done"
    EXPIRED = "expired"
    UNREACHABLE = "unreachable"


OPEN_CALLBACK_STATUSES = (CallbackStatus.PENDING, CallbackStatus.CLAIMED, CallbackStatus.CALLING)
"""Statuses in which a callback still waits on the call centre; a number has one at most."""

OPEN_CALLBACK_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_CALLBACK_STATUSES))
"""The same, as the SQL predicate of the partial unique index (and the upsert that uses it)."""

PENDING_CALLBACK_SQL = f"status = '{CallbackStatus.PENDING}'"
"""The predicate of the take-next index: the queue is the pending callbacks only."""


class MessageStatus(StrEnum):
    """Where an outgoing SMS stands."""

    QUEUED = "queued"  # recorded, waiting for a worker (or for its next attempt)
    SENDING = "sending"  # a worker holds it
    SENT = "sent"  # the provider (or the outbox) took it
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # we gave up, or the provider refused it for good
    # The provider may have taken it but never said so (no answer in time, or the worker
    # died while asking): never sent again by itself, lest it go twice; a person checks the
    # provider's log and sends it again with ``flask queue resend`` if it never left.
    UNKNOWN = "unknown"


class Callback(db.Model):
    """A consumer waiting to be called back by an operator."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(PHONE)
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.PENDING)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    missed_call_count: Mapped[int] = mapped_column(Integer, default=1)
    first_missed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_missed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The console's claim (migration 0004): the operator holding the callback while it is
    # claimed or being called, and since when; a stale claim returns to the queue.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the last call came to (callcenter.dispositions.Disposition).
    disposition: Mapped[str | None] = mapped_column(String(32))
    # The time the consumer asked to be called back at.
    callback_later_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Only an operator speaking this language may take the callback.
    required_language: Mapped[str | None] = mapped_column(String(5))
    # The part of the day the consumer asked to be called in (core.callback_slots; None:
    # as soon as possible); due_at is the slot's next start (migration 0018).
    slot: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        # One open callback per number: a new missed call joins it. Partial unique indexes
        # exist on both SQLite and PostgreSQL, and the intake upserts against this one.
        Index(
            "uq_callbacks_open_phone",
            "phone",
            unique=True,
            sqlite_where=db.text(OPEN_CALLBACK_SQL),
            postgresql_where=db.text(OPEN_CALLBACK_SQL),
        ),
        # The queue in its order (callcenter.queue.queue_order): take-next and the queue page
        # walk it from the top and stop at their LIMIT, however long the queue. Partial: it
        # holds the pending callbacks only, not a year of closed ones, and a callback that
        # leaves the queue is not written into it again.
        Index(
            "ix_callbacks_take_next",
            db.text("priority DESC"),
            "due_at",
            "id",
            sqlite_where=db.text(PENDING_CALLBACK_SQL),
            postgresql_where=db.text(PENDING_CALLBACK_SQL),
        ),
        # A caller's earlier callbacks, newest first (the callback page's history).
        Index("ix_callbacks_phone_created", "phone", "created_at"),
        # The dashboard's day and the CSV export's range, by first missed call.
        Index("ix_callbacks_first_missed", "first_missed_at"),
        # Callbacks closed after a moment (the dashboard's queue length over a day); the
        # open ones have none, so the intake never writes this index.
        Index(
            "ix_callbacks_closed",
            "closed_at",
            sqlite_where=db.text("closed_at IS NOT NULL"),
            postgresql_where=db.text("closed_at IS NOT NULL"),
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CALLBACK_STATUSES


class MissedCall(db.Model):
    """One missed call as the provider reported it, whatever became of it."""

    __tablename__ = "missed_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_raw: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(PHONE)
    dialled: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # A callback's missed calls are found by its number: no index on callback_id, since
    # each index costs every intake commit a page write. The dashboard's day needs one by
    # time, or it reads a year of missed calls to count today's.
    __table_args__ = (
        Index("ix_missed_calls_phone_received", "phone", "received_at"),
        Index("ix_missed_calls_received", "received_at"),
    )


class OutboundMessage(db.Model):
    """An SMS we send; with no provider configured, this table is the outbox."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(PHONE)
    template: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5))
    body: Mapped[str] = mapped_column(Text)
    dlt_template_id: Mapped[str | None] = mapped_column(String(40))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the next attempt is due; while a worker holds the message, when its attempt began.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the relay handed the message to RQ; None while it waits in SQL only.
    job_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The RQ job that sends it (a batch of messages, ``callqueue.sms_batch``): the sweep
    # asks Redis about this job to find messages whose job was lost.
    job_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # At most one message of a template per callback (one acknowledgement, say),
        # however many times the intake or a job runs.
        UniqueConstraint("callback_id", "template", name="uq_outbound_messages_callback_template"),
        # Every index is written on each intake commit, so these few serve every lookup:
        # the relay's and the sweep's (status, job_queued_at, next_attempt_at), the message
        # of a callback (the unique constraint above), a delivery report's provider_sid
        # (partial: a message has none until it is sent, so the intake never writes it).
        Index("ix_outbound_messages_pending", "status", "job_queued_at", "next_attempt_at"),
        Index(
            "uq_outbound_messages_provider_sid",
            "provider_sid",
            unique=True,
            sqlite_where=db.text("provider_sid IS NOT NULL"),
            postgresql_where=db.text("provider_sid IS NOT NULL"),
        ),
    )


class InboundMessage(db.Model):
    """An SMS a consumer sent us, and what it asked for (``ivr.sms_keywords``).

    Kept so that a provider delivering the same message twice is acted on once (its id is
    unique), and so that a number sending words we do not know gets the help reply once a
    day, not once a message (an auto-responder would answer each of ours).
    """

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(PHONE)
    body: Mapped[str] = mapped_column(Text)
    # What was made of it: a slot name, "soonest", "unknown" (help sent or not), "blocked".
    outcome: Mapped[str] = mapped_column(String(16))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_inbound_messages_sender_received", "sender", "received_at"),)


class BlockedNumber(db.Model):
    """A number whose missed calls are recorded but never queued."""

    __tablename__ = "blocked_numbers"

    phone: Mapped[str] = mapped_column(PHONE, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
