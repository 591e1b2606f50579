"""Overdue connections: each raises one alert, an SMS to the engineers of its area."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select, update

from callqueue.sms import record_message
from connections.stages import area_label
from connections.timeline import local_day
from core.extensions import db
from core.models import Role, User, utcnow
from core.models.applications import Application
from core.models.connections import ConnectionClock
from core.phone import mask

log = logging.getLogger("sampark.connections")

SWEEP_BATCH = 200
"""Clocks alerted per sweep at most; the rest wait for the next one."""


def open_clocks():  # type: ignore[no-untyped-def]
    """Return a query of the clocks still open (neither energised nor rejected)."""
    return select(ConnectionClock).where(
        ConnectionClock.energised_at.is_(None), ConnectionClock.rejected_at.is_(None)
    )


def engineers_of(clock: ConnectionClock) -> list[User]:
    """Return the active field engineers whose area holds the clock's application."""
    district = clock.district.casefold()
    area = func.lower(User.area)
    candidates = db.session.scalars(
        select(User).where(
            User.role == Role.FIELD_ENGINEER,
            User.active.is_(True),
            area.in_([district, f"{district}/{clock.subdivision.casefold()}"]),
        )
    )
    return list(candidates)


def alert_overdue(now: datetime | None = None) -> int:
    """Alert the engineers of each connection newly past its deadline; return how many."""
    now = now or utcnow()
    due = db.session.scalars(
        open_clocks()
        .where(ConnectionClock.due_at < now, ConnectionClock.overdue_alerted_at.is_(None))
        .order_by(ConnectionClock.due_at)
        .limit(SWEEP_BATCH)
    ).all()
    alerted = 0
    for clock in due:
        # Claimed by a conditional update: two sweeps at once alert once.
        claimed = db.session.execute(
            update(ConnectionClock)
            .where(ConnectionClock.id == clock.id, ConnectionClock.overdue_alerted_at.is_(None))
            .values(overdue_alerted_at=now)
        ).rowcount
        if not claimed:
            db.session.rollback()
            continue
        application = db.session.get(Application, clock.application_id)
        engineers = [engineer for engineer in engineers_of(clock) if engineer.phone]
        for engineer in engineers:
            record_message(
                db.session,
                key="connection_overdue_engineer",
                to=engineer.phone,
                language=engineer.languages.split(",")[0],
                values={
                    "number": application.number if application else clock.application_id,
                    "area": area_label(clock),
                    "due_date": local_day(clock.due_at).strftime("%d-%m-%Y"),
                },
            )
            log.info("overdue alert for %s to %s", clock.application_id, mask(engineer.phone))
        if not engineers:
            log.warning(
                "application %s is overdue and %s has no engineer to alert",
                clock.application_id,
                area_label(clock),
            )
        db.session.commit()
        alerted += 1
    return alerted
