"""The operator floor: after-call work and away hold back take-next; the supervisors' wallboard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import Callback, CallbackStatus, OperatorStatus, utcnow
from core.models.attempts import CallAttempt
from tests.callcenter.conftest import create_user, login, make_callback, post_form


@pytest.fixture()
def app(make_app):
    return make_app(AFTER_CALL_WORK_SECONDS=120, WALLBOARD_REFRESH_SECONDS=7)


def take_next(client):
    return post_form(client, "/console/", "/console/take-next")


def record_outcome(client, callback_id: int, outcome: str = "information_only"):
    page = f"/console/callbacks/{callback_id}"
    return post_form(client, page, f"{page}/disposition", {"disposition": outcome})


def test_recording_an_outcome_starts_after_call_work_that_holds_back_take_next(
    app, operator, operator_id, callback_factory
):
    first = callback_factory("+919811111111")
    second = callback_factory("+919822222222")
    assert take_next(operator).headers["Location"].endswith(f"/callbacks/{first}")
    assert record_outcome(operator, first).status_code == 302

    refused = take_next(operator)
    assert refused.headers["Location"].endswith("/console/")
    queue = operator.get("/console/").get_data(as_text=True)
    assert "After-call work: the next callback is offered in" in queue
    assert re.search(r'id="my-state-now">After-call work until \d\d:\d\d:\d\d', queue)
    with app.app_context():
        assert db.session.get(Callback, second).status == CallbackStatus.PENDING

    # "Ready" ends it at once.
    assert (
        post_form(operator, "/console/", "/console/state", {"state": "available"}).status_code
        == 302
    )
    assert take_next(operator).headers["Location"].endswith(f"/callbacks/{second}")


def test_after_call_work_ends_by_itself_after_its_seconds(make_app):
    app = make_app(AFTER_CALL_WORK_SECONDS=0)
    create_user(app, "asha")
    client = app.test_client()
    login(client, "asha")
    first = make_callback(app, "+919811111111")
    second = make_callback(app, "+919822222222")
    assert take_next(client).headers["Location"].endswith(f"/callbacks/{first}")
    record_outcome(client, first)
    assert take_next(client).headers["Location"].endswith(f"/callbacks/{second}")


def test_away_holds_back_take_next_until_ready(app, operator, operator_id, callback_factory):
    callback_id = callback_factory("+919811111111")
    post_form(operator, "/console/", "/console/state", {"state": "away"})
    take_next(operator)
    assert "You are marked away" in operator.get("/console/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Callback, callback_id).claimed_by_id is None
        assert db.session.get(OperatorStatus, operator_id).state == "away"
    post_form(operator, "/console/", "/console/state", {"state": "available"})
    assert take_next(operator).headers["Location"].endswith(f"/callbacks/{callback_id}")


def test_the_state_form_refuses_bad_input_and_forged_posts(app, operator, operator_id):
    bad = post_form(operator, "/console/", "/console/state", {"state": "on_holiday"})
    assert bad.status_code == 400
    assert "Not a valid choice" in bad.get_data(as_text=True)
    forged = operator.post("/console/state", data={"state": "away"})
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.get(OperatorStatus, operator_id) is None


def test_the_wallboard_shows_operators_by_state_and_the_queue(app, supervisor, callback_factory):
    asha = create_user(app, "asha", name="Asha")
    ravi = create_user(app, "ravi", name="Ravi", phone="+919800000002")
    create_user(app, "kiran", name="Kiran", phone="+919800000003")
    meena = create_user(app, "meena", name="Meena", phone="+919800000004")
    callback_factory("+919811111111", waited=timedelta(minutes=47))
    callback_factory("+919822222222", due_at=utcnow() + timedelta(hours=2))
    held = callback_factory("+919833333333", status=CallbackStatus.CLAIMED)
    now = utcnow()
    with app.app_context():
        callback = db.session.get(Callback, held)
        callback.claimed_by_id, callback.claimed_at = asha, now - timedelta(seconds=90)
        db.session.add(OperatorStatus(user_id=ravi, state="after_call_work", state_since=now))
        db.session.add(OperatorStatus(user_id=meena, state="away", state_since=now))
        db.session.add(
            CallAttempt(callback_id=held, operator_id=asha, number=1, status="completed")
        )
        db.session.commit()

    board = supervisor.get("/console/wallboard.json").get_json()
    assert (board["pending"], board["due"], board["calls_today"]) == (2, 1, 1)
    assert board["oldest_wait_minutes"] == 47
    counts = {state["state"]: state["count"] for state in board["states"]}
    assert counts == {"available": 1, "on_call": 1, "after_call_work": 1, "away": 1}
    by_name = {operator["name"]: operator for operator in board["operators"]}
    assert by_name["Asha"]["state"] == "on_call"
    assert by_name["Asha"]["callback_id"] == held
    assert by_name["Asha"]["callback_url"] == f"/console/callbacks/{held}"
    assert 89 <= by_name["Asha"]["seconds_in_state"] <= 100
    assert by_name["Asha"]["calls_today"] == 1
    assert by_name["Ravi"]["label"] == "After-call work"
    assert 110 <= by_name["Ravi"]["seconds_left"] <= 120
    assert by_name["Meena"]["state"] == "away"
    assert by_name["Kiran"]["state"] == "available"
    assert "Sunil" not in by_name  # supervisors are not on the floor

    page = supervisor.get("/console/wallboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-source="/console/wallboard.json"' in html
    assert 'data-refresh-seconds="7"' in html
    assert "wallboard.js" in html and "<script>" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    row = html[html.index(f'data-id="{ravi}"') :].split("</tr>")[0]
    assert "After-call work" in row and "s left" in row


def test_the_wallboard_is_for_supervisors(app, operator, operator_id):
    assert operator.get("/console/wallboard").status_code == 403
    assert operator.get("/console/wallboard.json").status_code == 403
    anonymous = app.test_client().get("/console/wallboard.json")
    assert anonymous.status_code in (302, 401)


def test_a_held_callback_shows_on_the_wallboard_once_taken(app, operator, operator_id, supervisor):
    callback_id = make_callback(app, "+919811111111")
    take_next(operator)
    board = supervisor.get("/console/wallboard.json").get_json()
    [asha] = [each for each in board["operators"] if each["id"] == operator_id]
    assert (asha["state"], asha["callback_id"]) == ("on_call", callback_id)
    record_outcome(operator, callback_id)
    board = supervisor.get("/console/wallboard.json").get_json()
    [asha] = [each for each in board["operators"] if each["id"] == operator_id]
    assert asha["state"] == "after_call_work"
