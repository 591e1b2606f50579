"""``flask blocklist``: supervisors block abusive numbers from the command line."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import Callback, MissedCall
from tests.ivr.test_missed_call import missed_call


def test_a_blocked_number_gets_no_callback_until_unblocked(app, client, runner):
    result = runner.invoke(args=["blocklist", "add", "098123 45678", "--reason", "abusive"])
    assert result.exit_code == 0
    assert "+91******5678" in result.output
    assert "abusive" in runner.invoke(args=["blocklist", "list"]).output

    missed_call(client, "+919812345678", sid="CA" + "1" * 32)
    runner.invoke(args=["blocklist", "remove", "+919812345678"])
    missed_call(client, "+919812345678", sid="CA" + "2" * 32)

    with app.app_context():
        outcomes = db.session.scalars(select(MissedCall.outcome).order_by(MissedCall.id)).all()
        assert outcomes == ["blocked", "queued"]
        assert len(db.session.scalars(select(Callback)).all()) == 1


def test_blocklist_refuses_what_is_not_a_number(runner):
    result = runner.invoke(args=["blocklist", "add", "12345"])
    assert result.exit_code != 0
    assert "not a valid phone number" in result.output


def test_removing_a_number_that_is_not_blocked_says_so(runner):
    result = runner.invoke(args=["blocklist", "remove", "+919812345678"])
    assert result.exit_code == 1
    assert "is not blocked" in result.output
