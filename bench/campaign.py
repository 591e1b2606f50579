"""Campaign pace: does one worker place calls as fast as the supervisor's pace asks?

``run(args)`` seeds consumers whose latest bill is overdue (one statement each for the
accounts, their numbers and their bills), creates an announcement campaign over them at
``--campaign-rate`` calls a second (50 by default), schedules it, and starts one
``flask queue worker`` (with its scheduler) on a fresh SQLite file and its own Redis, the
provider being the outbox. It reports the calls placed a second from the first placement
to the last, against the set pace, and how late each call went out against its due time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.server import (
    bench_environment,
    replace_between_markers,
    start_process,
    stop_process,
    wait_for_rq_workers,
)

DEFAULT_RATE = 50.0
"""The pace set for the campaign, calls a second."""

DEFAULT_CALLS = 1500
"""Calls in the campaign: 30 s of calls at 50 a second."""

TARGET_SHARE = 0.95
"""The placed pace must reach this share of the set pace."""

LEAD_SECONDS = 2.0
"""How long after creation the first call is due: the worker is up by then."""

README_START, README_END = "<!-- bench:campaign-pace:start -->", "<!-- bench:campaign-pace:end -->"

_SERIES = {
    "postgresql": "SELECT i FROM generate_series(1, :count) AS g(i)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
    "SELECT i FROM n",
}


def seed_overdue_accounts(connection: Any, count: int, *, today: date, prefix: str = "OD") -> None:
    """Add ``count`` accounts, each with one linked number and one unpaid bill past due.

    Three ``INSERT … SELECT`` statements: 100,000 accounts take seconds, not minutes. The
    numbers are +91 7000000001 onwards; account numbers are ``prefix`` and the row's number.
    """
    series = _SERIES[connection.dialect.name]
    connection.execute(
        text(
            "INSERT INTO consumer_accounts (account_number, name, address, category, area_type,"
            " supply_status, language, created_at)"
            f" SELECT :prefix || i, 'Campaign Consumer', '', 'domestic', 'rural', 'active',"
            f" 'hi', CURRENT_TIMESTAMP FROM ({series}) AS numbers"
        ),
        {"count": count, "prefix": prefix},
    )
    connection.execute(
        text(
            "INSERT INTO linked_numbers (phone, account_id)"
            " SELECT '+91' || (7000000000 + id), id FROM consumer_accounts"
            " WHERE account_number LIKE :pattern"
        ),
        {"pattern": f"{prefix}%"},
    )
    connection.execute(
        text(
            "INSERT INTO bills (account_id, bill_date, due_date, amount_due, amount_after_due)"
            " SELECT id, :billed, :due, 1234.50, 1284.50 FROM consumer_accounts"
            " WHERE account_number LIKE :pattern"
        ),
        {
            "pattern": f"{prefix}%",
            "billed": today - timedelta(days=30),
            "due": today - timedelta(days=15),
        },
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure the pace one worker places a campaign's calls at; return the figures."""
    from app import create_app
    from callqueue.campaigns import create_campaign, schedule_calls
    from core.extensions import db
    from core.models import utcnow
    from core.models.campaigns import CampaignKind

    rate, calls = args.campaign_rate, args.campaign_calls
    with bench_environment(CALLING_HOURS="00:00-23:59:59", TIMEZONE="Asia/Kolkata") as env:
        app = create_app(
            {
                "DATABASE_URL": env["DATABASE_URL"],
                "REDIS_URL": env["REDIS_URL"],
                "SECRET_KEY": "bench",
                "CALLING_HOURS": "00:00-23:59:59",
                "CALLER_ID": "+911140000001",
                "PUBLIC_BASE_URL": env["PUBLIC_BASE_URL"],
            }
        )
        with app.app_context(), db.engine.begin() as connection:
            seed_overdue_accounts(connection, calls, today=date.today())
        worker = start_process(["flask", "queue", "worker"], env)
        try:
            with app.app_context():
                wait_for_rq_workers()
                created = create_campaign(
                    CampaignKind.OVERDUE_BILLS,
                    name="pace",
                    rate=rate,
                    now=utcnow() + timedelta(seconds=LEAD_SECONDS),
                )
                schedule_calls(created.id)
                db.session.rollback()
            placed = _wait_until_placed(app, created.id, calls, timeout=calls / rate * 4 + 60)
        finally:
            stop_process(worker)
    return _figures(placed, rate, calls)


def _wait_until_placed(
    app: Any, campaign_id: int, calls: int, *, timeout: float
) -> list[tuple[Any, Any]]:
    """Return (due, placed) times of every placed call once all are placed (or time is up)."""
    from sqlalchemy import func, select

    from core.extensions import db
    from core.models.campaigns import CampaignCall

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            done = db.session.scalar(
                select(func.count()).where(
                    CampaignCall.campaign_id == campaign_id, CampaignCall.call_sid.is_not(None)
                )
            )
            db.session.rollback()
            if done >= calls:
                break
            time.sleep(0.5)
        rows = db.session.execute(
            select(CampaignCall.due_at, CampaignCall.updated_at)
            .where(CampaignCall.campaign_id == campaign_id, CampaignCall.call_sid.is_not(None))
            .order_by(CampaignCall.updated_at)
        ).all()
        db.session.rollback()
    return [(row.due_at, row.updated_at) for row in rows]


def _figures(placed: list[tuple[Any, Any]], rate: float, calls: int) -> dict[str, Any]:
    if len(placed) < 2:
        return {"set_rate": rate, "calls": calls, "placed": len(placed), "ok": False}
    span = (placed[-1][1] - placed[0][1]).total_seconds()
    achieved = (len(placed) - 1) / span if span else 0.0
    late = sorted(max((at - due).total_seconds(), 0.0) * 1000 for due, at in placed)
    return {
        "set_rate": rate,
        "calls": calls,
        "placed": len(placed),
        "placed_per_second": round(achieved, 1),
        "share_of_set_rate": round(achieved / rate, 3),
        "late_p50_ms": round(statistics.median(late), 1),
        "late_p99_ms": round(late[min(len(late) - 1, int(len(late) * 0.99))], 1),
        "late_max_ms": round(late[-1], 1),
        "ok": len(placed) == calls and achieved >= rate * TARGET_SHARE,
    }


def write_readme(readme: Path, f: dict[str, Any]) -> None:
    """Replace the figures between the campaign-pace markers in README.md."""
    lines = [
        f"Measured by `python -m bench --only campaign-pace` on {time.strftime('%Y-%m-%d')}: "
        f"{os.cpu_count()} cores, SQLite, embedded Redis, one `flask queue worker`, the outbox "
        f"provider, {f['calls']:,} calls at a set pace of {f['set_rate']:g}/s.",
        "",
        "| set pace | placed calls/s | share | late p50 | late p99 | late max |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {f['set_rate']:g}/s | {f['placed_per_second']} | {f['share_of_set_rate']} "
        f"| {f['late_p50_ms']} ms | {f['late_p99_ms']} ms | {f['late_max_ms']} ms |",
    ]
    replace_between_markers(readme, README_START, README_END, lines)
