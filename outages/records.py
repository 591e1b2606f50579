"""Recording an outage, moving its expected restoration, closing it, and finding it.

Every change is one short transaction with an audit entry; the notices follow
(``outages.notices``). A place is a feeder code or an area name exactly as the consumer
records carry them: a place no consumer is in is refused, since its notice would reach
nobody and the supervisor has most likely mistyped it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from core.audit import record_audit
from core.config import settings
from core.database import write_transaction
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, utcnow
from core.models.consumers import ConsumerAccount, LinkedNumber
from core.models.outages import NoticeKind, Outage, OutageKind, OutageNotice, OutageState
from outages.exceptions import (
    AlreadyAnnounced,
    NoConsumersThere,
    OutageClosed,
    OutageError,
    OutageNotFound,
)
from outages.notices import start_recording, withdraw_unsent
from outages.spoken import REASONS, Said, restoration_prompts

MAX_DURATION = timedelta(days=7)
"""The longest an outage may be announced for; longer is a typing mistake."""

MAX_AHEAD = timedelta(days=60)
"""How far ahead a planned outage may be announced."""

MAX_KNOWN_PLACES = 500
"""Feeders and areas offered as suggestions on the console form."""


@dataclass(frozen=True)
class NewOutage:
    """What a supervisor asked for, checked for shape by the form."""

    kind: OutageKind
    scope: str  # "feeder" or "area"
    place: str
    starts_at: datetime
    expected_restoration_at: datetime
    reason_code: str
    reason_note: str
    submission_key: str


def normalise_place(scope: str, place: str) -> str:
    """Return a feeder code in capitals, an area name with single spaces."""
    place = " ".join(place.split())
    return place.upper() if scope == "feeder" else place


def consumers_at(scope: str, place: str) -> int:
    """Return how many numbers are linked to accounts on the feeder, or in the area."""
    column = ConsumerAccount.feeder if scope == "feeder" else ConsumerAccount.area
    return (
        db.session.scalar(
            select(func.count(func.distinct(LinkedNumber.phone)))
            .join(ConsumerAccount, ConsumerAccount.id == LinkedNumber.account_id)
            .where(column == place)
        )
        or 0
    )


def known_places(scope: str) -> list[str]:
    """Return feeder codes or area names the consumer records carry (for suggestions)."""
    column = ConsumerAccount.feeder if scope == "feeder" else ConsumerAccount.area
    return list(
        db.session.scalars(
            select(column)
            .where(column.is_not(None))
            .distinct()
            .order_by(column)
            .limit(MAX_KNOWN_PLACES)
        )
    )


def check_times(starts_at: datetime, restoration: datetime, now: datetime, *, new: bool) -> None:
    """Refuse a restoration before the start, in the past, too far ahead or too long after."""
    if restoration <= starts_at:
        raise OutageError(_("The expected restoration must be after the start."))
    if restoration <= now:
        raise OutageError(_("The expected restoration has passed already; give a later time."))
    if restoration - starts_at > MAX_DURATION:
        raise OutageError(_("An outage may be announced for seven days at most; check the dates."))
    if new and starts_at - now > MAX_AHEAD:
        raise OutageError(_("A planned outage may be announced up to 60 days ahead."))


def record_outage(new: NewOutage, user_id: int | None) -> tuple[Outage, bool]:
    """Record an outage and start its notices; return it and whether it is new.

    The same form sent twice (its submission key) gives the outage recorded the first time.
    """
    session = db.session
    existing = session.scalar(select(Outage).where(Outage.submission_key == new.submission_key))
    if existing is not None:
        return existing, False
    now = utcnow()
    if new.reason_code not in REASONS:
        raise OutageError(_("Choose a reason from the list."))
    place = normalise_place(new.scope, new.place)
    if not place:
        raise OutageError(_("Give the feeder code or the area the outage is in."))
    check_times(new.starts_at, new.expected_restoration_at, now, new=True)
    numbers = consumers_at(new.scope, place)
    if numbers == 0:
        if new.scope == "feeder":
            message = _(
                "No consumer is on feeder %(place)r, so no notice would reach anyone and nothing "
                "was recorded. Check the feeder as the consumer records spell it.",
                place=place,
            )
        else:
            message = _(
                "No consumer is on area %(place)r, so no notice would reach anyone and nothing "
                "was recorded. Check the area as the consumer records spell it.",
                place=place,
            )
        raise NoConsumersThere(message)
    feeder = place if new.scope == "feeder" else None
    area = place if new.scope == "area" else None
    try:
        with write_transaction(session):
            overlapping = session.scalar(
                select(Outage.id).where(
                    Outage.state == OutageState.ANNOUNCED,
                    Outage.feeder == feeder if feeder else Outage.area == area,
                    Outage.starts_at < new.expected_restoration_at,
                    Outage.expected_restoration_at > new.starts_at,
                )
            )
            if overlapping is not None:
                raise AlreadyAnnounced(
                    _(
                        "Outage %(id)s on the same feeder or area is announced for these hours "
                        "already; change its restoration time instead of recording another.",
                        id=overlapping,
                    )
                )
            outage = Outage(
                kind=str(new.kind),
                feeder=feeder,
                area=area,
                starts_at=new.starts_at,
                expected_restoration_at=new.expected_restoration_at,
                reason_code=new.reason_code,
                reason_note=new.reason_note,
                state=OutageState.ANNOUNCED,
                recorded_by_id=user_id,
                created_at=now,
                updated_at=now,
                submission_key=new.submission_key,
            )
            session.add(outage)
            session.flush()
            record_audit(
                session,
                actor_id=user_id,
                entity="outage",
                entity_id=outage.id,
                action="recorded",
                changes={
                    "place": (None, outage.place),
                    "kind": (None, outage.kind),
                    "starts_at": (None, outage.starts_at),
                    "expected_restoration_at": (None, outage.expected_restoration_at),
                    "reason_code": (None, outage.reason_code),
                    "numbers": (None, numbers),
                },
            )
    except IntegrityError:
        # The same form, sent twice at once: the other request recorded it.
        existing = session.scalar(select(Outage).where(Outage.submission_key == new.submission_key))
        if existing is None:
            raise
        return existing, False
    start_recording(outage.id)
    return outage, True


def _open_outage(outage_id: int) -> Outage:
    outage = db.session.get(Outage, outage_id, with_for_update=True)
    if outage is None:
        raise OutageNotFound(_("There is no outage %(id)s.", id=outage_id))
    if outage.state != OutageState.ANNOUNCED:
        if outage.state == OutageState.RESTORED:
            message = _("Outage %(id)s is restored already; nothing was changed.", id=outage_id)
        else:
            message = _("Outage %(id)s is cancelled already; nothing was changed.", id=outage_id)
        raise OutageClosed(message)
    return outage


def update_restoration(outage_id: int, restoration: datetime, user_id: int | None) -> Outage:
    """Move an announced outage's expected restoration (the IVR says the new time at once)."""
    session = db.session
    with write_transaction(session):
        outage = _open_outage(outage_id)
        check_times(outage.starts_at, restoration, utcnow(), new=False)
        before = outage.expected_restoration_at
        outage.expected_restoration_at = restoration
        outage.updated_at = utcnow()
        record_audit(
            session,
            actor_id=user_id,
            entity="outage",
            entity_id=outage_id,
            action="restoration_moved",
            changes={"expected_restoration_at": (before, restoration)},
        )
    return outage


def close_outage(outage_id: int, state: OutageState, user_id: int | None) -> Outage:
    """Close an outage as restored or cancelled; unsent notices are withdrawn."""
    if state not in (OutageState.RESTORED, OutageState.CANCELLED):
        raise OutageError(_("An outage closes as restored or cancelled."))
    session = db.session
    send_restored = (
        bool(current_app.config["OUTAGE_RESTORED_SMS"]) and state == OutageState.RESTORED
    )
    with write_transaction(session):
        outage = _open_outage(outage_id)
        now = utcnow()
        outage.state = str(state)
        outage.closed_at = now
        outage.updated_at = now
        # Nobody needs a notice of an outage that is over, or called off.
        withdrawn = withdraw_unsent(outage_id)
        if not send_restored or outage.notices_recorded_at is None:
            outage.restored_notices_recorded_at = now  # nothing (more) to send
        record_audit(
            session,
            actor_id=user_id,
            entity="outage",
            entity_id=outage_id,
            action=str(state),
            changes={"state": (OutageState.ANNOUNCED, state), "notices_withdrawn": (0, withdrawn)},
        )
    if outage.restored_notices_recorded_at is None:
        start_recording(outage_id, NoticeKind.RESTORED)
    return outage


# -- what the console lists ------------------------------------------------------------


@dataclass(frozen=True)
class OutageRow:
    """An outage with how its notices stand."""

    outage: Outage
    notices: int
    sent: int
    waiting: int
    failed: int
    restored_sent: int


def listed_outages(now: datetime | None = None) -> list[OutageRow]:
    """Return the announced outages, then those closed in the last OUTAGE_RECENT_DAYS days."""
    now = now or utcnow()
    since = now - timedelta(days=int(current_app.config["OUTAGE_RECENT_DAYS"]))
    outages = list(
        db.session.scalars(
            select(Outage)
            .where((Outage.state == OutageState.ANNOUNCED) | (Outage.closed_at >= since))
            .order_by((Outage.state == OutageState.ANNOUNCED).desc(), Outage.starts_at.desc())
        )
    )
    counts = _notice_counts([outage.id for outage in outages])
    return [OutageRow(outage, *counts.get(outage.id, (0, 0, 0, 0, 0))) for outage in outages]


def _notice_counts(outage_ids: list[int]) -> dict[int, tuple[int, int, int, int, int]]:
    if not outage_ids:
        return {}
    status = OutboundMessage.status
    is_notice = OutageNotice.kind == NoticeKind.NOTICE
    sent = status.in_((MessageStatus.SENT, MessageStatus.DELIVERED))

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        select(
            OutageNotice.outage_id,
            count(is_notice),
            count(is_notice & sent),
            count(is_notice & status.in_((MessageStatus.QUEUED, MessageStatus.SENDING))),
            count(is_notice & status.in_((MessageStatus.FAILED, MessageStatus.UNDELIVERED))),
            count(~is_notice & sent),
        )
        .join(OutboundMessage, OutboundMessage.id == OutageNotice.message_id)
        .where(OutageNotice.outage_id.in_(outage_ids))
        .group_by(OutageNotice.outage_id)
    ).all()
    return {row[0]: tuple(int(value or 0) for value in row[1:]) for row in rows}  # type: ignore[misc]


# -- what a caller hears ----------------------------------------------------------------


def current_outage_for(phone: str | None, now: datetime | None = None) -> Outage | None:
    """Return the current outage on a feeder or in an area of the caller's accounts, if any.

    Every IVR call asks at the language step, and nearly always no outage is announced: the
    few announced ones are read first (``ix_outages_state_feeder``), and the caller's
    accounts only when there are some.
    """
    if not phone:
        return None
    now = now or utcnow()
    current = db.session.scalars(
        select(Outage)
        .where(Outage.state == OutageState.ANNOUNCED, Outage.starts_at <= now)
        .order_by(Outage.starts_at.desc())
    ).all()
    if not current:
        return None
    places = db.session.execute(
        select(ConsumerAccount.feeder, ConsumerAccount.area)
        .join(LinkedNumber, LinkedNumber.account_id == ConsumerAccount.id)
        .where(LinkedNumber.phone == phone)
    ).all()
    feeders = {feeder for feeder, _ in places if feeder}
    areas = {area for _, area in places if area}
    return next((o for o in current if o.feeder in feeders or o.area in areas), None)


def outage_prompts(phone: str | None, now: datetime | None = None) -> list[Said]:
    """Return what the IVR says to a caller with a current outage (nothing when none)."""
    now = now or utcnow()
    outage = current_outage_for(phone, now)
    if outage is None:
        return []
    opening = Said(
        "outage_planned" if outage.kind == OutageKind.PLANNED else "outage_unplanned", {}
    )
    return [
        opening,
        *restoration_prompts(outage.expected_restoration_at, now, settings().zone),
    ]
