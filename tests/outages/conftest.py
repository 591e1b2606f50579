"""Outage fixtures: consumers on feeders, and a supervisor logged in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from core.extensions import db
from core.models import utcnow
from core.models.outages import OutageKind
from ivr.demo import add_consumer
from outages.records import NewOutage, record_outage
from tests.callcenter.conftest import (  # noqa: F401  (fixtures)
    operator,
    operator_id,
    supervisor,
    supervisor_id,
)

FEEDER = "F0007"
OTHER_FEEDER = "F0008"


def phone(n: int) -> str:
    return f"+9171{n:08d}"


def seed_feeder(
    app: Flask, feeder: str, count: int, *, first: int = 0, area: str = "Ward 3"
) -> None:
    """Put ``count`` consumers on ``feeder``: every fourth speaks English, every fifth has two
    numbers."""
    with app.app_context():
        for n in range(first, first + count):
            phones = [phone(n)] + ([phone(n + 50_000)] if n % 5 == 0 else [])
            add_consumer(
                f"{1000000000 + n}",
                phones,
                [],
                feeder=feeder,
                area=area,
                language="en" if n % 4 == 0 else "hi",
            )
        db.session.commit()


def new_outage(
    kind: OutageKind = OutageKind.UNPLANNED, place: str = FEEDER, **changes
) -> NewOutage:
    now = utcnow()
    fields = {
        "kind": kind,
        "scope": "feeder",
        "place": place,
        "starts_at": now - timedelta(minutes=5),
        "expected_restoration_at": now + timedelta(hours=3),
        "reason_code": "line_fault",
        "reason_note": "",
        "submission_key": "a" * 32,
        **changes,
    }
    return NewOutage(**fields)


def planned(ahead: timedelta, hours: int, **changes) -> NewOutage:
    """A planned outage starting ``ahead`` from now and lasting ``hours``."""
    start = utcnow() + ahead
    return new_outage(
        OutageKind.PLANNED,
        starts_at=start,
        expected_restoration_at=start + timedelta(hours=hours),
        **changes,
    )


def record(app: Flask, new: NewOutage) -> int:
    with app.app_context():
        outage, _ = record_outage(new, None)
        return outage.id


@pytest.fixture()
def feeders(app: Flask) -> None:
    seed_feeder(app, FEEDER, 40)
    seed_feeder(app, OTHER_FEEDER, 10, first=100, area="Ward 4")
