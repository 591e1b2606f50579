"""Helpers for the connection clock's tests: paid applications, field engineers.

An application is paid the way the payments side does it: its status is set to paid and
committed, then ``core.events.application_paid`` is sent with the app as sender.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from callcenter.auth import hash_password
from core import events
from core.extensions import db
from core.models import Role, User, utcnow
from core.models.applications import Application, ApplicationStatus
from core.models.connections import ConnectionClock

PASSWORD = "correct horse battery"

_hashes: dict[str, str] = {}


def make_application(
    app: Flask,
    number: str,
    *,
    area_type: str = "rural",
    district: str = "Raipur",
    block: str = "Abhanpur",
    phone: str = "+919812345678",
    language: str = "en",
    status: str = ApplicationStatus.DEMAND_ISSUED,
    submitted_at: datetime | None = None,
    service: str = "new_connection",
) -> int:
    """Put a submitted application with its demand note in the database; return its id."""
    with app.app_context():
        application = Application(
            number=number,
            service=service,
            status=status,
            phone=phone,
            language=language,
            data={"area_type": area_type, "district": district, "block_tehsil": block},
            submitted_at=submitted_at or utcnow(),
        )
        db.session.add(application)
        db.session.commit()
        return application.id


def pay(app: Flask, application_id: int, paid_at: datetime) -> None:
    """Mark an application paid and announce it, as the payments side does."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        application.status = ApplicationStatus.PAID
        db.session.commit()
        events.application_paid.send(app, application_id=application_id, paid_at=paid_at)


def paid_application(app: Flask, number: str, paid_at: datetime, **kwargs: Any) -> int:
    """Make an application and pay it at ``paid_at``; return its id."""
    application_id = make_application(app, number, **kwargs)
    pay(app, application_id, paid_at)
    return application_id


def make_engineer(
    app: Flask,
    username: str,
    area: str | None,
    *,
    phone: str | None = "+919811111111",
    role: Role = Role.FIELD_ENGINEER,
    languages: str = "hi,en",
) -> int:
    """Create a field engineer (or another user) directly in the database; return the id."""
    if PASSWORD not in _hashes:
        _hashes[PASSWORD] = hash_password(PASSWORD)
    with app.app_context():
        user = User(
            username=username,
            name=username.title(),
            password_hash=_hashes[PASSWORD],
            role=role,
            phone=phone,
            languages=languages,
            area=area,
            active=True,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def clock_of(app: Flask, application_id: int) -> ConnectionClock | None:
    """Return an application's clock, detached, or None."""
    with app.app_context():
        clock = db.session.scalar(
            select(ConnectionClock).where(ConnectionClock.application_id == application_id)
        )
        if clock is not None:
            db.session.expunge(clock)
        return clock


def user(app: Flask, user_id: int) -> User:
    """Return a user, detached."""
    with app.app_context():
        found = db.session.get(User, user_id)
        db.session.expunge(found)
        return found
