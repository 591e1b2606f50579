"""The demo seed puts consumers on smart and prepaid meters, some of them cut off."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models.consumers import ConsumerAccount
from ivr.demo import seed_consumers


def test_the_demo_has_smart_and_prepaid_meters_some_cut_off(app):
    with app.app_context():
        seed_consumers(120)
        rows = db.session.execute(
            select(
                ConsumerAccount.meter_kind,
                ConsumerAccount.supply_status,
                func.count(),
                func.count(ConsumerAccount.head_end_meter_id),
            ).group_by(ConsumerAccount.meter_kind, ConsumerAccount.supply_status)
        ).all()
    counts = {(kind, status): (n, with_id) for kind, status, n, with_id in rows}
    assert counts[("smart", "disconnected")][0] >= 1
    assert counts[("prepaid", "disconnected")][0] >= 1
    assert counts[("postpaid", "disconnected")][0] >= 1
    for (kind, _), (n, with_id) in counts.items():
        assert with_id == (0 if kind == "postpaid" else n)
    assert sum(n for (kind, _), (n, _) in counts.items() if kind == "smart") == 40
