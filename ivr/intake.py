"""Turn a missed call into a record and, when it should be, a callback and an SMS."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError

from callqueue.sms import insert_message, prepare_message
from core.config import settings
from core.database import Prepared, RawCursor, write_in_group
from core.extensions import db
from core.models import OPEN_CALLBACK_SQL, MissedCallOutcome, UTCDateTime, utcnow
from core.phone import mask, read_caller_id
from telephony.records import InboundCall

log = logging.getLogger("sampark.intake")

ACK_TEMPLATE = "missed_call_ack"
"""The SMS a caller gets when their missed call opens a callback."""


@dataclass(frozen=True)
class IntakeResult:
    """What the intake did with one missed call."""

    outcome: MissedCallOutcome | None
    message_id: int | None = None
    duplicate: bool = False


def language_for(dialled: str) -> str:
    """Pick the caller's language from the number they dialled, else the default."""
    config = settings()
    return config.language_by_dialled_number.get(dialled, config.DEFAULT_LANGUAGE)


def record_missed_call(call: InboundCall, now: datetime | None = None) -> IntakeResult:
    """Record one missed call; open or join the caller's callback; queue the acknowledgement.

    All the writes are one transaction, so a missed call is recorded with its callback and
    its SMS or not at all. Redis is not touched here: the relay queues the SMS job, so a
    Redis outage cannot cost a webhook its answer or a caller their record.
    """
    plan = _plan(call, now or utcnow())
    try:
        outcome, message_id = write_in_group(db.engine, lambda cursor: _write(cursor, plan))
    except (_AlreadyRecorded, IntegrityError):
        # The provider retried a webhook we recorded already (perhaps at the same moment): the
        # rollback undid this delivery's count on the callback too.
        return IntakeResult(None, duplicate=True)
    # One line per call would cost the webhook a sixth of its time, mostly in the write to
    # the log; the record is in SQL and the server's access log has the request. What
    # needs a person's eye (a caller over the hourly limit) is logged as a warning.
    if log.isEnabledFor(logging.DEBUG):
        log.debug("missed call %s from %s: %s", call.call_sid, mask(plan.caller_masked), outcome)
    # The acknowledgement waits in SQL; the relay hands it to RQ (callqueue.relay).
    return IntakeResult(outcome, message_id)


class _AlreadyRecorded(Exception):
    """This CallSid is recorded already."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything the intake writes, worked out before it takes its turn to write."""

    call: dict[str, Any]
    problem: MissedCallOutcome | None
    callback: dict[str, Any] | None
    message: dict[str, Any] | None
    caller_masked: str


def _plan(call: InboundCall, now: datetime) -> _Plan:
    config = settings()
    caller = read_caller_id(call.caller, config.DEFAULT_REGION, config.allowed_regions)
    phone = caller.e164 if caller.usable else None
    callback = message = None
    if phone is not None:
        language = language_for(call.dialled)
        callback = callback_request(phone, language, now)
        message = prepare_message(key=ACK_TEMPLATE, to=phone, language=language)
    return _Plan(
        call={
            "call_sid": call.call_sid,
            "caller_raw": call.caller,
            "phone": caller.e164,
            "dialled": call.dialled,
            "now": now,
        },
        problem=caller.problem,
        callback=callback,
        message=message,
        caller_masked=caller.e164 or call.caller,
    )


def callback_request(
    phone: str, language: str, now: datetime, slot: str | None = None
) -> dict[str, Any]:
    """Return the values ``open_callback`` takes for a consumer asking to be called back.

    ``slot``: the part of the day they asked for (``core.callback_slots``); None, as soon
    as calling hours allow. The callback falls due at the slot's next start.
    """
    config = settings()
    slot = slot if slot in config.callback_slots.names else None
    return {
        "phone": phone,
        "language": language,
        "priority": config.CALLBACK_DEFAULT_PRIORITY,
        "slot": slot,
        "due_at": config.callback_slots.next_start(slot, now),
        "now": now,
        "since": now - timedelta(hours=1),
        "hourly_limit": config.MISSED_CALLS_PER_HOUR_LIMIT,
    }


def open_callback(
    cursor: RawCursor, callback: dict[str, Any]
) -> tuple[MissedCallOutcome, int | None, bool]:
    """Screen a number, then open its callback or join the open one.

    Shared by missed calls and the IVR's "call me back", so both land in one queue under
    the same block list and hourly limit. Returns the outcome, the callback's id (None
    when screened out) and whether this request opened it.
    """
    # One statement screens and writes; only a screened-out number costs a second one,
    # to say why. A concurrent block or unblock (PostgreSQL) is settled by asking again.
    for _ in range(_SCREEN_TRIES):
        row = _OPEN_OR_JOIN_CALLBACK.execute(cursor, callback).fetchone()
        if row is not None:
            callback_id, count = row
            opened = count == 1
            outcome = MissedCallOutcome.QUEUED if opened else MissedCallOutcome.MERGED
            return outcome, callback_id, opened
        screened = _screen(cursor, callback)
        if screened is not None:
            return screened, None, False
    raise RuntimeError(f"screening of {mask(callback['phone'])} did not settle")


def choose_slot(cursor: RawCursor, callback_id: int, callback: dict[str, Any]) -> None:
    """Give an open callback the slot its consumer just chose (``callback_request``'s values).

    A consumer who already waits and chooses again (in the IVR, by SMS) moves their
    callback rather than opening a second one. A pending one falls due at the slot's
    start; one an operator holds keeps its due time, as it is being worked already.
    """
    _CHOOSE_SLOT.execute(cursor, callback | {"id": callback_id})


def _write(cursor: RawCursor, plan: _Plan) -> tuple[MissedCallOutcome, int | None]:
    """Write the missed call, its callback and its SMS; raise ``_AlreadyRecorded`` for a repeat."""
    outcome = plan.problem
    callback_id, opened = None, False
    if plan.callback is not None:
        outcome, callback_id, opened = open_callback(cursor, plan.callback)
    assert outcome is not None
    inserted = _INSERT_MISSED_CALL.insert(
        cursor, {**plan.call, "outcome": str(outcome), "callback_id": callback_id}
    )
    if inserted is None:
        raise _AlreadyRecorded(plan.call["call_sid"])
    message_id = None
    if opened and plan.message is not None:
        message_id = insert_message(cursor, plan.message, callback_id=callback_id)
    return outcome, message_id


# The intake's statements, in SQL that SQLite and PostgreSQL both read. Written once, they
# spare the webhook the cost of building SQLAlchemy statements on every call.
_NOW = bindparam("now", type_=UTCDateTime())
_SINCE = bindparam("since", type_=UTCDateTime())

_SCREEN = Prepared(
    text(
        """
    SELECT
        (SELECT count(*) FROM missed_calls WHERE phone = :phone AND received_at >= :since),
        EXISTS (SELECT 1 FROM blocked_numbers WHERE phone = :phone)
    """
    ).bindparams(_SINCE)
)

_INSERT_MISSED_CALL = Prepared(
    text(
        """
    INSERT INTO missed_calls
        (call_sid, caller_raw, phone, dialled, outcome, callback_id, received_at)
    VALUES (:call_sid, :caller_raw, :phone, :dialled, :outcome, :callback_id, :now)
    ON CONFLICT (call_sid) DO NOTHING
    RETURNING id
    """
    ).bindparams(_NOW)
)

_SCREEN_TRIES = 3
"""How often a number is screened and written before the intake gives up on it."""

# A number neither blocked nor over the hourly limit opens a callback, or joins its open
# one: the conflict target names the partial unique index of open callbacks. A screened-out
# number writes nothing and returns no row. (The WHERE also keeps SQLite from reading
# ON CONFLICT as a join constraint of the SELECT; the CAST gives PostgreSQL one type for
# :phone, which it would otherwise see as text here and as varchar below.)
_OPEN_OR_JOIN_CALLBACK = Prepared(
    text(
        f"""
    INSERT INTO callbacks
        (phone, language, status, priority, slot, due_at, missed_call_count, first_missed_at,
         last_missed_at, attempts, created_at)
    SELECT CAST(:phone AS VARCHAR(20)), :language, 'pending', :priority,
        CAST(:slot AS VARCHAR(16)), :due_at, 1, :now, :now, 0, :now
    WHERE NOT EXISTS (SELECT 1 FROM blocked_numbers WHERE phone = :phone)
        AND (SELECT count(*) FROM missed_calls
             WHERE phone = :phone AND received_at >= :since) < :hourly_limit
    ON CONFLICT (phone) WHERE {OPEN_CALLBACK_SQL}
    DO UPDATE SET
        missed_call_count = callbacks.missed_call_count + 1,
        last_missed_at = excluded.last_missed_at
    RETURNING id, missed_call_count
    """
    ).bindparams(_NOW, _SINCE, bindparam("due_at", type_=UTCDateTime()))
)


_CHOOSE_SLOT = Prepared(
    text(
        """
    UPDATE callbacks
    SET slot = CAST(:slot AS VARCHAR(16)),
        due_at = CASE WHEN status = 'pending' THEN :due_at ELSE due_at END
    WHERE id = :id
    """
    ).bindparams(bindparam("due_at", type_=UTCDateTime()))
)


def _screen(cursor: RawCursor, callback: dict[str, Any]) -> MissedCallOutcome | None:
    """Return why this number's call is not queued (blocked, too many calls), or None."""
    calls_last_hour, is_blocked = _SCREEN.execute(cursor, callback).fetchone()
    if is_blocked:
        return MissedCallOutcome.BLOCKED
    if calls_last_hour >= callback["hourly_limit"]:
        phone = mask(callback["phone"])
        log.warning("%s: %d missed calls within the hour, not queued", phone, calls_last_hour)
        return MissedCallOutcome.RATE_LIMITED
    return None
