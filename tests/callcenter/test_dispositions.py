"""Dispositions after a call: what becomes of the callback, and the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Callback, CallbackStatus, utcnow
from core.models.console import AuditEvent
from tests.callcenter.conftest import create_user, login, post_form

IST = ZoneInfo("Asia/Kolkata")


def claim(client):
    response = post_form(client, "/console/", "/console/take-next")
    return int(response.headers["Location"].rsplit("/", 1)[1])


def dispose(client, callback_id, **data):
    page = f"/console/callbacks/{callback_id}"
    return post_form(client, page, f"{page}/disposition", data)


def load(app, callback_id):
    with app.app_context():
        callback = db.session.get(Callback, callback_id)
        db.session.expunge(callback)
        return callback


@pytest.mark.parametrize(
    "outcome",
    ["application_submitted", "information_only", "wrong_number", "not_interested"],
)
def test_a_closing_disposition_marks_the_callback_done(
    app, operator, operator_id, callback_factory, outcome
):
    callback_factory("+919811111111")
    callback_id = claim(operator)

    response = dispose(operator, callback_id, disposition=outcome)

    assert response.status_code == 302
    callback = load(app, callback_id)
    assert callback.status == CallbackStatus.DONE
    assert callback.disposition == outcome
    assert callback.closed_at is not None
    assert callback.claimed_by_id is None
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "disposition"))
        assert event.actor_id == operator_id
        assert event.changes["status"] == ["claimed", "done"]
        assert event.changes["disposition"] == [None, outcome]
    assert callback_id not in [r["id"] for r in operator.get("/console/queue.json").json["rows"]]


def test_call_back_later_puts_it_back_due_at_the_chosen_time(make_app, callback_factory):
    app = make_app(CALLING_HOURS="09:00-21:00")
    create_user(app, "asha")
    operator = app.test_client()
    login(operator, "asha")
    callback_factory("+919811111111")
    callback_id = claim(operator)
    tomorrow = (utcnow().astimezone(IST) + timedelta(days=1)).date()
    chosen = datetime.combine(tomorrow, datetime.min.time(), IST).replace(hour=10, minute=30)

    response = dispose(
        operator, callback_id, disposition="call_back_later", call_back_at=f"{tomorrow}T10:30"
    )

    assert response.status_code == 302
    callback = load(app, callback_id)
    assert callback.status == CallbackStatus.PENDING
    assert callback.due_at == chosen
    assert callback.callback_later_at == chosen
    assert callback.claimed_by_id is None
    assert callback.disposition == "call_back_later"


def test_call_back_later_outside_calling_hours_is_refused_and_keeps_the_form(
    make_app, callback_factory
):
    app = make_app(CALLING_HOURS="09:00-21:00")
    operator_id = create_user(app, "asha")
    operator = app.test_client()
    login(operator, "asha")
    callback_factory("+919811111111")
    callback_id = claim(operator)
    tomorrow = (utcnow().astimezone(IST) + timedelta(days=1)).date()

    response = dispose(
        operator, callback_id, disposition="call_back_later", call_back_at=f"{tomorrow}T22:15"
    )

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "outside calling hours" in text
    assert f"{(tomorrow + timedelta(days=1)):%d %b %Y} 09:00" in text
    assert f'value="{tomorrow}T22:15"' in text  # what was typed is kept
    callback = load(app, callback_id)
    assert (callback.status, callback.claimed_by_id) == (CallbackStatus.CLAIMED, operator_id)
    assert callback.disposition is None


@pytest.mark.parametrize(
    ("when", "message"),
    [("", "Choose when to call back."), ("past", "must be in the future"), ("junk", "valid")],
)
def test_call_back_later_needs_a_future_time(app, operator, callback_factory, when, message):
    callback_factory("+919811111111")
    callback_id = claim(operator)
    if when == "past":
        when = (utcnow().astimezone(IST) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    response = dispose(operator, callback_id, disposition="call_back_later", call_back_at=when)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert load(app, callback_id).status == CallbackStatus.CLAIMED


def test_language_not_spoken_sends_it_to_an_operator_who_speaks_it(
    app, second_operator, callback_factory
):
    # Ravi speaks only Hindi; the consumer speaks Bhojpuri.
    create_user(app, "bhola", languages="hi,bho", phone="+919800000003")
    speaker = app.test_client()
    login(speaker, "bhola")
    callback_factory("+919811111111")
    callback_id = claim(second_operator)

    response = dispose(
        second_operator, callback_id, disposition="language_not_spoken", language="bho"
    )

    assert response.status_code == 302
    callback = load(app, callback_id)
    assert (callback.status, callback.required_language) == (CallbackStatus.PENDING, "bho")
    assert callback.due_at <= utcnow()
    assert (
        post_form(second_operator, "/console/", "/console/take-next").headers["Location"]
        == "/console/"
    )
    assert claim(speaker) == callback_id


def test_language_not_spoken_needs_the_language(app, operator, callback_factory):
    callback_factory("+919811111111")
    callback_id = claim(operator)

    response = dispose(operator, callback_id, disposition="language_not_spoken")

    assert response.status_code == 400
    assert "Choose the language the consumer speaks." in response.get_data(as_text=True)
    assert load(app, callback_id).status == CallbackStatus.CLAIMED


def test_an_unknown_or_missing_disposition_is_refused(app, operator, callback_factory):
    callback_factory("+919811111111")
    callback_id = claim(operator)

    missing = dispose(operator, callback_id)
    unknown = dispose(operator, callback_id, disposition="sold_a_fridge")

    assert missing.status_code == 400
    assert unknown.status_code == 400
    assert "Not a valid choice" in unknown.get_data(as_text=True)
    assert load(app, callback_id).status == CallbackStatus.CLAIMED


def test_a_disposition_on_a_closed_callback_is_refused(app, operator, callback_factory):
    callback_factory("+919811111111")
    callback_id = claim(operator)
    dispose(operator, callback_id, disposition="information_only")

    again = dispose(operator, callback_id, disposition="wrong_number")

    assert again.status_code == 409
    assert load(app, callback_id).disposition == "information_only"


def test_the_callback_page_shows_the_trail_of_changes(app, operator, callback_factory):
    callback_factory("+919811111111")
    callback_id = claim(operator)
    page = f"/console/callbacks/{callback_id}"
    post_form(operator, page, f"{page}/release")
    post_form(operator, "/console/", "/console/take-next")

    text = operator.get(page).get_data(as_text=True)

    # Words, not codes: who took it and gave it back, each status by its name.
    assert text.count("Taken by Asha") == 2
    assert "Given back to the queue by Asha" in text
    assert "status: Taken → Waiting" in text
    assert "taken by: — → Asha" in text and "taken by: Asha → —" in text
    assert "claimed_by_id" not in text and "claim_timeout" not in text
