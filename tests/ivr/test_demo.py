"""``flask seed-demo``: demo consumers the IVR can be tried with straight away."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from core.extensions import db
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from forms.numbers import INDIA_TIME
from ivr.demo import add_consumer, demo_phone
from ivr.simulator import CallSimulator, FlaskTransport, keys_from_list
from telephony import caller_side


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_demo_creates_consumers_to_call_about(make_app, tmp_path: Path):
    app = make_app(VOICE_PROMPTS_DIR=str(tmp_path))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo", "--consumers", "25"])
    assert result.exit_code == 0, result.output
    assert "Creating consumers" in result.output
    assert demo_phone(0) in result.output
    again = runner.invoke(args=["seed-demo", "--consumers", "5"])
    assert again.exit_code == 0, again.output

    with app.app_context():
        assert count(ConsumerAccount) == 30
        assert count(Bill) == 90
        assert count(LinkedNumber) == 33  # every tenth number also holds the next account
        numbers = db.session.scalars(select(ConsumerAccount.account_number)).all()
        assert all(len(number) == 10 for number in numbers)  # the DISCOM's BP-number length
        # Latest bills are ten days old and paid within a fortnight: never in the future.
        today = datetime.now(INDIA_TIME).date()
        assert db.session.scalar(select(func.max(Bill.paid_on))) <= today
        assert db.session.scalar(select(func.count()).where(Bill.paid_on > Bill.bill_date)) > 0
        # Rows added the ordinary way after a seed get fresh ids (sequences moved on).
        add_consumer("1234567890", [], [])
        db.session.commit()

    # Consumer 1 shares consumer 0's number: the IVR lists both accounts.
    side = caller_side(app)
    record = CallSimulator(
        FlaskTransport(app, side),
        side,
        to="+911800180001",
        caller=demo_phone(0),
        keys=keys_from_list("21"),
    ).run()
    said = record.said()
    assert "press one" in said and "press two" in said and "ending in" in said
