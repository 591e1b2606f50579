"""Turn a missed call into a record and, when it should be, a callback and an SMS."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from callqueue.hours import next_calling_time
from callqueue.sms import enqueue_message, record_message
from core.config import mapping_setting, split_list
from core.database import begin_write, insert_for
from core.extensions import db
from core.models import (
    OPEN_CALLBACK_STATUSES,
    BlockedNumber,
    Callback,
    CallbackStatus,
    MissedCall,
    MissedCallOutcome,
    utcnow,
)
from core.phone import mask, read_caller_id
from telephony.inbound import InboundCall

log = logging.getLogger("sampark.intake")

ACK_TEMPLATE = "missed_call_ack"
"""The SMS a caller gets when their missed call opens a callback."""


@dataclass(frozen=True)
class IntakeResult:
    """What the intake did with one missed call."""

    outcome: MissedCallOutcome | None
    callback_id: int | None = None
    message_id: int | None = None
    duplicate: bool = False


def language_for(dialled: str) -> str:
    """Pick the caller's language from the number they dialled, else the default."""
    config = current_app.config
    return mapping_setting(config["LANGUAGE_BY_DIALLED_NUMBER"]).get(
        dialled, config["DEFAULT_LANGUAGE"]
    )


def record_missed_call(call: InboundCall, now: datetime | None = None) -> IntakeResult:
    """Record one missed call; open or join the caller's callback; queue the acknowledgement.

    All the writes are one transaction, so a missed call is recorded with its callback and
    its SMS or not at all; the SMS job is queued after the commit.
    """
    now = now or utcnow()
    config = current_app.config
    caller = read_caller_id(
        call.caller, config["DEFAULT_REGION"], _allowed_regions(config["ALLOWED_REGIONS"])
    )
    session = db.session
    try:
        begin_write(session)
        phone = caller.e164 if caller.usable else None
        outcome = caller.problem
        callback_id, opened = None, False
        if phone is not None:
            outcome = _screen(phone, now)
            if outcome is None:
                callback_id, opened = _open_or_join_callback(phone, call.dialled, now)
                outcome = MissedCallOutcome.QUEUED if opened else MissedCallOutcome.MERGED
        inserted = session.execute(
            insert_for(session, MissedCall.__table__)
            .values(
                call_sid=call.call_sid,
                caller_raw=call.caller,
                phone=caller.e164,
                dialled=call.dialled,
                outcome=outcome,
                callback_id=callback_id,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["call_sid"])
            .returning(MissedCall.id)
        ).scalar_one_or_none()
        if inserted is None:
            # Twilio retried a webhook we already recorded: undo the callback's count too.
            session.rollback()
            return IntakeResult(None, duplicate=True)
        message_id = None
        if opened and phone is not None:
            message_id = record_message(
                session,
                key=ACK_TEMPLATE,
                to=phone,
                language=language_for(call.dialled),
                callback_id=callback_id,
            )
        session.commit()
    except IntegrityError:
        # Two deliveries of one call raced each other; the other one recorded it.
        session.rollback()
        return IntakeResult(None, duplicate=True)
    except BaseException:
        session.rollback()
        raise
    log.info("missed call %s from %s: %s", call.call_sid, mask(caller.e164 or call.caller), outcome)
    if message_id is not None:
        enqueue_message(message_id)
    return IntakeResult(outcome, callback_id, message_id)


def _allowed_regions(setting: str) -> frozenset[str]:
    return frozenset(region.upper() for region in split_list(setting))


def _screen(phone: str, now: datetime) -> MissedCallOutcome | None:
    """Return why this number's call is not queued (blocked, too many calls), or None."""
    recent = (
        select(func.count())
        .select_from(MissedCall)
        .where(MissedCall.phone == phone, MissedCall.received_at >= now - timedelta(hours=1))
        .scalar_subquery()
    )
    blocked = exists().where(BlockedNumber.phone == phone)
    calls_last_hour, is_blocked = db.session.execute(select(recent, blocked)).one()
    if is_blocked:
        return MissedCallOutcome.BLOCKED
    if calls_last_hour >= current_app.config["MISSED_CALLS_PER_HOUR_LIMIT"]:
        log.warning("%s: %d missed calls within the hour, not queued", mask(phone), calls_last_hour)
        return MissedCallOutcome.RATE_LIMITED
    return None


def _open_or_join_callback(phone: str, dialled: str, now: datetime) -> tuple[int, bool]:
    """Open a callback for ``phone`` or join its open one; return (id, whether opened)."""
    session = db.session
    open_statuses = Callback.__table__.c.status.in_(OPEN_CALLBACK_STATUSES)
    statement = insert_for(session, Callback.__table__).values(
        phone=phone,
        language=language_for(dialled),
        status=CallbackStatus.PENDING,
        priority=current_app.config["CALLBACK_DEFAULT_PRIORITY"],
        due_at=next_calling_time(now),
        missed_call_count=1,
        first_missed_at=now,
        last_missed_at=now,
        attempts=0,
        created_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["phone"],
        index_where=open_statuses,
        set_={
            "missed_call_count": Callback.__table__.c.missed_call_count + 1,
            "last_missed_at": statement.excluded.last_missed_at,
        },
    ).returning(Callback.id, Callback.missed_call_count)
    callback_id, count = session.execute(statement).one()
    return callback_id, count == 1
