"""``flask seed-demo`` puts every demo consumer on a feeder and in an area."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models.consumers import ConsumerAccount
from outages.records import consumers_at, known_places


def test_demo_consumers_are_on_feeders_of_five_hundred_in_areas_of_four_feeders(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--consumers", "2100"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        per_feeder = dict(
            db.session.execute(
                select(ConsumerAccount.feeder, func.count()).group_by(ConsumerAccount.feeder)
            ).all()
        )
        assert per_feeder == {"F0001": 500, "F0002": 500, "F0003": 500, "F0004": 500, "F0005": 100}
        assert known_places("area") == ["Ward 1", "Ward 2"]
        # Every tenth number is linked to the next account too: it is told once.
        assert consumers_at("feeder", "F0002") == 500
