"""The stages after payment: the clock a payment starts, and each stage an engineer records.

The stages run in one order, one step at a time (``FLOW``); a connection may be rejected,
with a reason, at any stage before it is energised. Every change is written with its
history row, its audit event and the consumer's SMS in one transaction, on the condition
that the stage is still the one the engineer saw, so a double submit records nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from callqueue.sms import record_message
from connections.exceptions import (
    ApplicationNotFound,
    BadStage,
    NotPaid,
    NotYourArea,
    StageConflict,
)
from connections.timeline import AREA_TYPES, RURAL, local_day, split_area, timeline
from core import events
from core.audit import record_audit
from core.extensions import db
from core.models import Role, User, utcnow
from core.models.applications import Application, ApplicationStatus
from core.models.connections import ConnectionClock, ConnectionStage
from core.models.consumers import ConsumerAccount

log = logging.getLogger("sampark.connections")

S = ApplicationStatus

FLOW: tuple[ApplicationStatus, ...] = (
    S.PAID,
    S.SITE_INSPECTED,
    S.METER_ALLOTTED,
    S.METER_INSTALLED,
    S.CONNECTED,
)
"""The stages after payment, in the only order they may be recorded."""

CLOSED = (S.CONNECTED, S.REJECTED)

LABELS: dict[str, Any] = {
    S.PAID: _l("Paid"),
    S.SITE_INSPECTED: _l("Site inspected"),
    S.METER_ALLOTTED: _l("Meter allotted"),
    S.METER_INSTALLED: _l("Meter installed"),
    S.CONNECTED: _l("Energised"),
    S.REJECTED: _l("Rejected"),
}
"""Each stage's name, in the console page's language (the console's catalogue)."""

CLOCKED_SERVICES = ("new_connection",)
"""Services whose payment starts the clock (the rules' timelines are for new connections)."""

AUDIT_ENTITY = "application"

MAX_REASON = 300
MIN_REASON = 5

SMS_KEYS = {stage: f"connection_{stage}" for stage in (*FLOW[1:], S.REJECTED)}
"""The consumer's SMS at each stage an engineer records."""


def next_stages(stage: str) -> tuple[ApplicationStatus, ...]:
    """Return the stages that may follow ``stage``: the next in the flow, or a rejection."""
    if stage not in FLOW or stage == S.CONNECTED:
        return ()
    return (FLOW[FLOW.index(S(stage)) + 1], S.REJECTED)


# ------------------------------------------------------------------ the clock starts


@dataclass(frozen=True)
class Area:
    """Where an application is, and whether the place is urban or rural."""

    area_type: str
    district: str
    subdivision: str


def area_of(application: Application) -> Area:
    """Return an application's area: the form's district, block/tehsil and area type.

    A form without an area type (another service) takes its account's; failing both, rural.
    """
    data = application.data or {}
    area_type = data.get("area_type")
    if area_type not in AREA_TYPES and application.account_number:
        area_type = db.session.scalar(
            select(ConsumerAccount.area_type).where(
                ConsumerAccount.account_number == application.account_number
            )
        )
    if area_type not in AREA_TYPES:
        area_type = RURAL
    district = str(data.get("district") or "").strip()[:80]
    subdivision = str(data.get("block_tehsil") or "").strip()[:80]
    return Area(str(area_type), district, subdivision)


def _clock_start(application: Application, paid_at: datetime) -> datetime:
    if timeline().starts == "payment" or application.submitted_at is None:
        return paid_at
    return application.submitted_at


def start_clock(application_id: int, paid_at: datetime) -> ConnectionClock | None:
    """Start the clock of a paid application; a second call for it changes nothing.

    Returns the clock, or None when the application is not one the clock counts.
    """
    application = db.session.get(Application, application_id)
    if application is None or application.service not in CLOCKED_SERVICES:
        return None
    existing = _clock_of(application_id)
    if existing is not None:
        return existing
    if application.status != S.PAID:
        log.warning("application %s paid but its status is %s", application_id, application.status)
        return None
    rules = timeline()
    area = area_of(application)
    area_class = rules.area_class(area.area_type, area.district, area.subdivision)
    started_at = _clock_start(application, paid_at)
    clock = ConnectionClock(
        application_id=application_id,
        area_type=area.area_type,
        area_class=area_class,
        district=area.district,
        subdivision=area.subdivision,
        start_event=rules.starts,
        started_at=started_at,
        paid_at=paid_at,
        due_at=started_at + rules.allowed(area_class),
        incentive_due_at=started_at + rules.incentive_window(area.area_type),
        stage=S.PAID,
        stage_at=paid_at,
    )
    db.session.add(clock)
    db.session.add(ConnectionStage(application_id=application_id, stage=S.PAID, at=paid_at))
    try:
        db.session.commit()
    except IntegrityError:
        # The same payment announced twice at once: the other one started it.
        db.session.rollback()
        return _clock_of(application_id)
    return clock


def _clock_of(application_id: int) -> ConnectionClock | None:
    return db.session.scalar(
        select(ConnectionClock).where(ConnectionClock.application_id == application_id)
    )


def on_application_paid(
    sender: Flask, *, application_id: int, paid_at: datetime, **_: object
) -> None:
    """Start the clock when the payments side says an application is paid."""
    start_clock(application_id, paid_at)


# ------------------------------------------------------------------ who may see and record


def engineer_area(user: User) -> tuple[str, str] | None:
    """Return a field engineer's (district, subdivision), or None for other users."""
    if user.role != Role.FIELD_ENGINEER or not user.area:
        return None
    return split_area(user.area)


def in_area(area: tuple[str, str], clock: ConnectionClock) -> bool:
    """Tell whether a clock's application lies in an engineer's area."""
    district, subdivision = area
    if clock.district.casefold() != district.casefold():
        return False
    return not subdivision or clock.subdivision.casefold() == subdivision.casefold()


def may_see(user: User, clock: ConnectionClock) -> bool:
    """Supervisors see every application; a field engineer those of their area."""
    if user.may(Role.SUPERVISOR):
        return True
    area = engineer_area(user)
    return area is not None and in_area(area, clock)


def may_record(user: User, clock: ConnectionClock) -> bool:
    """Only the field engineers of the application's area record its stages."""
    area = engineer_area(user)
    return area is not None and in_area(area, clock)


def clock_for(application_id: int, user: User) -> tuple[Application, ConnectionClock]:
    """Return an application and its clock, if ``user`` may see them."""
    application = db.session.get(Application, application_id)
    if application is None:
        raise ApplicationNotFound(_("No application %(id)s.", id=application_id))
    clock = _clock_of(application_id)
    if clock is None:
        raise NotPaid(
            _(
                "Application %(number)s is not paid yet: its stages start after payment.",
                number=application.number or application_id,
            )
        )
    if not may_see(user, clock):
        raise NotYourArea(
            _(
                "Application %(number)s is in %(area)s, not in your area.",
                number=application.number,
                area=area_label(clock),
            )
        )
    return application, clock


def area_label(clock: ConnectionClock) -> str:
    """Return "District / Subdivision" (or the district alone, or "no district")."""
    parts = [part for part in (clock.district, clock.subdivision) if part]
    return " / ".join(parts) or _("no district")


# ------------------------------------------------------------------ recording a stage


def record_stage(
    application_id: int,
    user: User,
    *,
    stage: str,
    seen_stage: str,
    reason: str = "",
) -> ConnectionClock:
    """Record ``stage`` on an application whose stage the engineer saw as ``seen_stage``."""
    application, clock = clock_for(application_id, user)
    if not may_record(user, clock):
        raise NotYourArea(
            _("Only the field engineers of this application's area record its stages.")
        )
    if stage not in LABELS or stage == S.PAID:
        raise BadStage(_("%(stage)r is not a stage that can be recorded.", stage=stage))
    if seen_stage != clock.stage:
        raise StageConflict(
            _(
                "The stage changed to %(stage)s since you opened the page; "
                "nothing was recorded. Check it and try again.",
                stage=LABELS[clock.stage],
            )
        )
    allowed = next_stages(clock.stage)
    if stage not in allowed:
        raise StageConflict(_refusal(clock.stage, stage))
    reason = " ".join(reason.split())
    if stage == S.REJECTED and not MIN_REASON <= len(reason) <= MAX_REASON:
        raise BadStage(
            _(
                "Give the reason for rejecting (%(min)s to %(max)s characters).",
                min=MIN_REASON,
                max=MAX_REASON,
            )
        )
    now = utcnow()
    changes: dict[str, object] = {"stage": stage, "stage_at": now}
    if stage == S.CONNECTED:
        changes.update(energised_at=now, energised_by_id=user.id)
    if stage == S.REJECTED:
        changes.update(rejected_at=now, reject_reason=reason)
    moved = db.session.execute(
        update(ConnectionClock)
        .where(ConnectionClock.id == clock.id, ConnectionClock.stage == seen_stage)
        .values(**changes)
    ).rowcount
    if not moved:
        db.session.rollback()
        raise StageConflict(
            _("Another change was recorded at the same moment; nothing was recorded.")
        )
    old_status = application.status
    application.status = stage
    db.session.add(
        ConnectionStage(
            application_id=application_id,
            stage=stage,
            reason=reason or None,
            actor_id=user.id,
            at=now,
        )
    )
    record_audit(
        db.session,
        actor_id=user.id,
        entity=AUDIT_ENTITY,
        entity_id=application_id,
        action="stage",
        changes={"status": (old_status, stage), **({"reason": (None, reason)} if reason else {})},
    )
    record_message(
        db.session,
        key=SMS_KEYS[stage],
        to=application.phone,
        language=application.language,
        values={
            "number": application.number,
            "due_date": local_day(clock.due_at).strftime("%d-%m-%Y"),
            "reason": reason,
        },
    )
    db.session.commit()
    db.session.refresh(clock)
    events.application_stage_changed.send(
        current_app._get_current_object(), application_id=application_id, stage=stage
    )
    return clock


def _refusal(current: str, wanted: str) -> str:
    if current in CLOSED:
        return _(
            "This application is closed (%(stage)s); its stage cannot change.",
            stage=LABELS[current],
        )
    following = next_stages(current)[0]
    if wanted == current:
        return _("%(stage)s is already recorded.", stage=LABELS[current])
    if wanted in FLOW and FLOW.index(S(wanted)) < FLOW.index(S(current)):
        return _(
            "The stage cannot go back from %(current)s to %(wanted)s.",
            current=LABELS[current],
            wanted=LABELS[wanted],
        )
    return _("Record %(stage)s first: stages cannot be skipped.", stage=LABELS[following])


def history(application_id: int) -> list[ConnectionStage]:
    """Return an application's stages, oldest first."""
    return list(
        db.session.scalars(
            select(ConnectionStage)
            .where(ConnectionStage.application_id == application_id)
            .order_by(ConnectionStage.at, ConnectionStage.id)
        )
    )
