"""A 100,000-call campaign is recorded in batches: missed calls meanwhile are answered promptly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.campaign import seed_overdue_accounts
from callqueue.campaigns import campaign_recorded, create_campaign
from core.extensions import db
from core.models import MissedCall
from core.models.campaigns import Campaign, CampaignCall, CampaignKind
from tests.support.missed_calls import missed_calls_while

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = 100_000
"""The campaign's size: recorded in one transaction, it held missed calls up for 7.8 s."""

LONGEST_WAIT_SECONDS = 2.0
"""A bound well under the 15 s Twilio waits for a webhook, not a speed target."""

CREATE = """
import json, os, sys
from app import create_app
from callqueue.campaigns import create_campaign
from core.models.campaigns import CampaignKind
app = create_app(json.loads(os.environ["TEST_APP_CONFIG"]))
with app.app_context():
    print(create_campaign(CampaignKind.OVERDUE_BILLS, name="large", rate=50).calls)
"""


def test_missed_calls_are_answered_promptly_while_a_large_campaign_is_recorded(app, client):
    with app.app_context(), db.engine.begin() as connection:
        seed_overdue_accounts(connection, CONSUMERS, today=date.today())
    config = {
        key: app.config[key]
        for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CALLING_HOURS", "TESTING")
    }
    creator = subprocess.Popen(
        [sys.executable, "-c", CREATE],
        cwd=ROOT,
        env={**os.environ, "TEST_APP_CONFIG": json.dumps(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    load = missed_calls_while(client, app, creator, _recording)
    waits_while_recording, n = load.waits, load.calls
    assert load.returncode == 0, load.errors
    assert int(load.output.split()[-1]) == CONSUMERS
    assert len(waits_while_recording) >= 10, "the campaign was recorded before it was measured"
    assert max(waits_while_recording) < LONGEST_WAIT_SECONDS, (
        f"a missed call waited {max(waits_while_recording):.2f} s "
        f"(median {sorted(waits_while_recording)[len(waits_while_recording) // 2]:.3f} s)"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MissedCall)) == n


def _recording(app) -> bool:
    """Tell whether the campaign exists with some but not yet all of its calls recorded."""
    with app.app_context():
        recorded_at = db.session.scalar(
            select(Campaign.recorded_at).where(Campaign.name == "large")
        )
        calls = db.session.scalar(select(func.count()).select_from(CampaignCall))
        db.session.rollback()
        return recorded_at is None and bool(calls)


class Interrupted(Exception):
    """Stands for Ctrl-C, raised where the command line's progress bar would be drawn."""


def test_an_interrupted_campaign_is_resumed_without_calling_anyone_twice(app):
    with app.app_context(), db.engine.begin() as connection:
        seed_overdue_accounts(connection, 2500, today=date.today())

    def stop_after_first_batch(count: int, total: int) -> None:
        assert (count, total) == (1000, 2500)
        raise Interrupted

    with app.app_context():
        try:
            create_campaign(
                CampaignKind.OVERDUE_BILLS, name="cut", rate=10, progress=stop_after_first_batch
            )
        except Interrupted:
            pass
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.name == "cut"))
        assert not campaign_recorded(campaign_id)
        first_batch = db.session.scalar(select(func.max(CampaignCall.due_at)))
    runner = app.test_cli_runner()

    again = runner.invoke(args=["campaign", "create", "--kind", "overdue-bills", "--name", "cut"])
    assert f"run `flask campaign resume {campaign_id}`" in again.output

    resumed = runner.invoke(args=["campaign", "resume", str(campaign_id)])

    assert resumed.exit_code == 0, resumed.output
    assert f"Campaign {campaign_id}: 2500 number(s) to call." in resumed.output
    assert "2500 call(s) scheduled." in resumed.output
    with app.app_context():
        assert campaign_recorded(campaign_id)
        rows = db.session.execute(
            select(CampaignCall.phone, CampaignCall.due_at).order_by(CampaignCall.due_at)
        ).all()
    assert len({phone for phone, _ in rows}) == len(rows) == 2500
    due = [at for _, at in rows]
    # The rest follow the calls recorded first at the campaign's pace, none at once.
    assert due[1000] > first_batch
    gaps = [later - earlier for earlier, later in zip(due, due[1:], strict=False)]
    assert min(gaps) >= timedelta(seconds=0.1)
