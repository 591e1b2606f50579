"""What a call came to, and what becomes of the callback after it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from callcenter.exceptions import DispositionError
from callcenter.floor import set_state
from callcenter.queue import AUDIT_ENTITY, lock_callback, require_holder
from core.audit import record_audit
from core.database import write_transaction
from core.extensions import db
from core.hours import calling_hours
from core.models import Callback, CallbackStatus, OperatorState, User, utcnow


class Disposition(StrEnum):
    """The outcomes an operator records after a call."""

    APPLICATION_SUBMITTED = "application_submitted"
    INFORMATION_ONLY = "information_only"
    CALL_BACK_LATER = "call_back_later"
    WRONG_NUMBER = "wrong_number"
    NOT_INTERESTED = "not_interested"
    LANGUAGE_NOT_SPOKEN = "language_not_spoken"


LABELS = {
    Disposition.APPLICATION_SUBMITTED: _l("Application submitted"),
    Disposition.INFORMATION_ONLY: _l("Information only"),
    Disposition.CALL_BACK_LATER: _l("Call back later"),
    Disposition.WRONG_NUMBER: _l("Wrong number"),
    Disposition.NOT_INTERESTED: _l("Not interested"),
    Disposition.LANGUAGE_NOT_SPOKEN: _l("Language not spoken"),
}
"""What the console calls each disposition, in the page's language."""

CLOSING = frozenset(
    {
        Disposition.APPLICATION_SUBMITTED,
        Disposition.INFORMATION_ONLY,
        Disposition.WRONG_NUMBER,
        Disposition.NOT_INTERESTED,
    }
)
"""Dispositions after which nobody calls the consumer back."""


def record_disposition(
    callback_id: int,
    operator: User,
    disposition: Disposition,
    *,
    call_back_at: datetime | None = None,
    language: str | None = None,
) -> Callback:
    """Record what the call came to and close the callback or put it back in the queue."""
    session = db.session
    session.rollback()
    now = utcnow()
    with write_transaction(session):
        callback = lock_callback(session, callback_id)
        require_holder(callback, operator)
        before = {
            "status": callback.status,
            "disposition": callback.disposition,
            "claimed_by_id": callback.claimed_by_id,
            "due_at": callback.due_at,
            "required_language": callback.required_language,
            "callback_later_at": callback.callback_later_at,
        }
        callback.disposition = disposition
        callback.claimed_by_id = None
        callback.claimed_at = None
        if disposition in CLOSING:
            callback.status = CallbackStatus.DONE
            callback.closed_at = now
        elif disposition is Disposition.CALL_BACK_LATER:
            callback.due_at = _check_call_back_time(call_back_at, now)
            callback.callback_later_at = callback.due_at
            callback.status = CallbackStatus.PENDING
        else:
            code = (language or "").strip().lower()
            if not code or not code.isalpha() or len(code) > 5:
                raise DispositionError(_("Choose the language the consumer speaks."))
            callback.required_language = code
            callback.due_at = now
            callback.status = CallbackStatus.PENDING
        after = {field: getattr(callback, field) for field in before}
        # The operator's after-call work starts now: no callback is offered until it ends.
        set_state(session, operator.id, OperatorState.AFTER_CALL_WORK, now)
        record_audit(
            session,
            actor_id=operator.id,
            entity=AUDIT_ENTITY,
            entity_id=callback.id,
            action="disposition",
            changes={f: (before[f], after[f]) for f in before if before[f] != after[f]},
        )
    return callback


def _check_call_back_time(call_back_at: datetime | None, now: datetime) -> datetime:
    if call_back_at is None:
        raise DispositionError(_("Choose when to call back."))
    if call_back_at <= now:
        raise DispositionError(_("The time to call back must be in the future."))
    hours = calling_hours()
    if not hours.is_open(call_back_at):
        opens = hours.next_open(call_back_at).astimezone(hours.zone)
        raise DispositionError(
            _(
                "That time is outside calling hours; the next calling time after it is %(time)s.",
                time=f"{opens:%d %b %Y %H:%M}",
            )
        )
    return call_back_at
