"""Fixtures of the smart-meter tests: the head-end stand-in and an app that talks to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from core.embedded_redis import EmbeddedRedis
from core.events import dues_cleared
from core.extensions import db
from core.models.meters import ReconnectionOrder
from ivr.demo import add_consumer
from tests.support.head_end_standin import HeadEndStandin

HEAD_END_USER = "sampark"
HEAD_END_PASSWORD = "head-end-test-password"
ACCOUNT = "1000004321"
CALLER = "+919812345678"
METER = "SM000004321"


@pytest.fixture(scope="session")
def head_end_api() -> Iterator[HeadEndStandin]:
    with HeadEndStandin(user=HEAD_END_USER, password=HEAD_END_PASSWORD) as standin:
        yield standin


def head_end_settings(standin: HeadEndStandin) -> dict[str, Any]:
    """Settings that point the app at the stand-in, with quick polls and retries."""
    return {
        "HEAD_END_URL": standin.base_url,
        "HEAD_END_USER": HEAD_END_USER,
        "HEAD_END_PASSWORD": HEAD_END_PASSWORD,
        "HEAD_END_TIMEOUT": 0.5,
        "RECONNECT_POLL_SECONDS": 0,
        "RECONNECT_RETRY_BACKOFF": "0",
        "RECONNECT_MAX_ATTEMPTS": 3,
        "RECONNECT_MAX_POLLS": 5,
        "RECONCILE_AFTER_SECONDS": 0,
    }


@pytest.fixture()
def app(make_app, head_end_api: HeadEndStandin) -> Flask:
    head_end_api.reset()
    return make_app(**head_end_settings(head_end_api))


@pytest.fixture()
def own_redis(scratch_dir: str) -> Iterator[EmbeddedRedis]:
    """A Redis server of this test's own, to stop and start again."""
    server = EmbeddedRedis(os.path.join(scratch_dir, "redis-meters"), persist=False)
    server.start()
    yield server
    server.stop()


def paid_bills() -> list[dict[str, Any]]:
    return [
        {
            "bill_date": date(2026, 11, 1),
            "due_date": date(2026, 11, 15),
            "amount_due": Decimal("1520.50"),
            "amount_after_due": Decimal("1551.00"),
            "paid_amount": Decimal("1551.00"),
            "paid_on": date(2026, 12, 5),
        }
    ]


def add_meter_consumer(
    app: Flask,
    *,
    account: str = ACCOUNT,
    phone: str = CALLER,
    kind: str = "smart",
    meter: str | None = METER,
    supply_status: str = "disconnected",
    language: str = "hi",
) -> int:
    """Add a consumer whose dues are paid, on a meter of ``kind``; return the account's id."""
    with app.app_context():
        consumer = add_consumer(account, [phone], paid_bills(), supply_status=supply_status)
        consumer.meter_kind = kind
        consumer.head_end_meter_id = meter
        consumer.language = language
        db.session.commit()
        return consumer.id


def clear_dues(app: Flask, account_id: int, paid_at: datetime) -> None:
    """Send ``dues_cleared`` as the payment side does: after its commit, the app as sender."""
    with app.app_context():
        dues_cleared.send(current_app._get_current_object(), account_id=account_id, paid_at=paid_at)


def orders(app: Flask) -> list[ReconnectionOrder]:
    with app.app_context():
        found = list(db.session.scalars(select(ReconnectionOrder).order_by(ReconnectionOrder.id)))
        db.session.expunge_all()
        return found
