"""The queue page, take-next, claims held by one operator, and stale claims."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from callcenter.queue import claim_next, release_stale_claims
from core.extensions import db
from core.models import Callback, CallbackStatus, User, utcnow
from core.models.console import AuditEvent
from tests.callcenter.conftest import create_user, post_form


def take_next(client):
    return post_form(client, "/console/", "/console/take-next")


def status_of(app, callback_id):
    with app.app_context():
        callback = db.session.get(Callback, callback_id)
        return callback.status, callback.claimed_by_id


def test_the_queue_shows_pending_callbacks_best_first_with_numbers_masked(
    operator, callback_factory
):
    low = callback_factory("+919811111111", priority=0, due_at=utcnow() - timedelta(minutes=30))
    high_late = callback_factory(
        "+919822222222", priority=5, due_at=utcnow() - timedelta(minutes=1)
    )
    high_early = callback_factory("+919833333333", priority=5, due_at=utcnow() - timedelta(hours=1))
    callback_factory("+919844444444", status=CallbackStatus.DONE)

    page = operator.get("/console/").get_data(as_text=True)

    order = [page.index(f">{cid}</a>") for cid in (high_early, high_late, low)]
    assert order == sorted(order)
    assert "+91******3333" in page
    assert "9833333333" not in page
    assert "+91******4444" not in page  # done: not in the queue


def test_the_queue_json_has_wait_merged_calls_attempts_and_sla_colour(
    make_app, operator, callback_factory
):
    fresh = callback_factory("+919811111111", waited=timedelta(minutes=10), missed_calls=3)
    halfway = callback_factory("+919822222222", waited=timedelta(minutes=70), attempts=2)
    late = callback_factory("+919833333333", waited=timedelta(minutes=150))
    later = callback_factory("+919844444444", due_at=utcnow() + timedelta(hours=2))

    rows = {row["id"]: row for row in operator.get("/console/queue.json").json["rows"]}

    assert rows[fresh]["missed_calls"] == 3
    assert rows[fresh]["waited_minutes"] == 10
    assert rows[halfway]["attempts"] == 2
    assert [rows[i]["sla"] for i in (fresh, halfway, late)] == ["ok", "warn", "late"]
    assert rows[later]["due"] is False
    assert rows[fresh]["phone"] == "+91******1111"
    assert all("98111" not in str(row) for row in rows.values())


def test_the_queue_page_refreshes_itself_and_takes_n_as_take_next(operator):
    page = operator.get("/console/").get_data(as_text=True)
    script = operator.get("/console/static/queue.js").get_data(as_text=True)

    assert 'data-source="/console/queue.json"' in page
    assert 'data-refresh-seconds="5"' in page
    assert "queue.js" in page
    assert 'data-key="n"' in page  # pressed by keys.js, loaded on every page
    assert "keys.js" in page
    assert "samparkPoll(" in script


def test_take_next_claims_the_best_due_callback(app, operator, operator_id, callback_factory):
    callback_factory("+919811111111", priority=0)
    best = callback_factory("+919822222222", priority=3)
    callback_factory("+919833333333", priority=9, due_at=utcnow() + timedelta(hours=1))

    response = take_next(operator)

    assert response.headers["Location"] == f"/console/callbacks/{best}"
    assert status_of(app, best) == (CallbackStatus.CLAIMED, operator_id)
    assert operator.get("/console/queue.json").json["claim"]["id"] == best
    assert best not in [row["id"] for row in operator.get("/console/queue.json").json["rows"]]


def test_take_next_with_a_claim_held_returns_to_it(app, operator, callback_factory):
    first = callback_factory("+919811111111", priority=1)
    callback_factory("+919822222222")
    take_next(operator)

    again = take_next(operator)

    assert again.headers["Location"] == f"/console/callbacks/{first}"
    with app.app_context():
        claimed = db.session.scalars(
            select(Callback.id).where(Callback.status == CallbackStatus.CLAIMED)
        ).all()
    assert claimed == [first]


def test_take_next_with_nothing_due_says_so(operator, callback_factory):
    callback_factory("+919811111111", due_at=utcnow() + timedelta(minutes=30))

    response = take_next(operator)

    assert response.headers["Location"] == "/console/"
    assert "No callback is due for you right now." in operator.get("/console/").text


def test_take_next_gives_a_language_callback_only_to_a_speaker(
    app, operator, second_operator, callback_factory
):
    # Ravi speaks only Hindi; Asha speaks Hindi and English.
    english = callback_factory("+919811111111", priority=5, required_language="en")

    assert take_next(second_operator).headers["Location"] == "/console/"
    assert take_next(operator).headers["Location"] == f"/console/callbacks/{english}"


def test_an_operator_cannot_act_on_a_callback_someone_else_holds(
    app, operator, second_operator, operator_id, callback_factory
):
    callback_id = callback_factory("+919811111111")
    take_next(operator)
    page = f"/console/callbacks/{callback_id}"

    release = post_form(second_operator, page, f"{page}/release")
    disposition = post_form(
        second_operator, page, f"{page}/disposition", {"disposition": "wrong_number"}
    )
    call = post_form(second_operator, page, f"{page}/call")

    assert release.status_code == 409
    assert "claimed by Asha; nothing was changed" in release.get_data(as_text=True)
    assert disposition.status_code == 409
    assert call.status_code == 409
    assert status_of(app, callback_id) == (CallbackStatus.CLAIMED, operator_id)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["claim"]


def test_acting_on_a_callback_nobody_holds_is_refused(app, operator, callback_factory):
    callback_id = callback_factory("+919811111111")
    page = f"/console/callbacks/{callback_id}"

    response = post_form(operator, page, f"{page}/release")

    assert response.status_code == 409
    assert "not claimed by you" in response.get_data(as_text=True)
    assert status_of(app, callback_id) == (CallbackStatus.PENDING, None)


def test_an_unknown_callback_is_404(operator):
    assert operator.get("/console/callbacks/999999").status_code == 404


def test_release_gives_the_callback_back_and_is_audited(
    app, operator, operator_id, callback_factory
):
    callback_id = callback_factory("+919811111111")
    take_next(operator)
    page = f"/console/callbacks/{callback_id}"

    response = post_form(operator, page, f"{page}/release")

    assert response.headers["Location"] == "/console/"
    assert status_of(app, callback_id) == (CallbackStatus.PENDING, None)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.action, e.actor_id, e.entity, e.entity_id) for e in events] == [
            ("claim", operator_id, "callback", callback_id),
            ("release", operator_id, "callback", callback_id),
        ]
        assert events[1].changes == {
            "status": ["claimed", "pending"],
            "claimed_by_id": [operator_id, None],
        }


def test_a_claim_not_worked_in_time_returns_to_the_queue(make_app, callback_factory):
    app = make_app(CLAIM_TIMEOUT_MINUTES=15)
    operator_id = create_user(app, "asha")
    stale = callback_factory("+919811111111")
    fresh = callback_factory("+919822222222")
    with app.app_context():
        now = utcnow()
        for callback_id, claimed_at in ((stale, now - timedelta(minutes=16)), (fresh, now)):
            callback = db.session.get(Callback, callback_id)
            callback.status = CallbackStatus.CLAIMED
            callback.claimed_by_id = operator_id
            callback.claimed_at = claimed_at
        db.session.commit()

        assert release_stale_claims() == 1
        assert release_stale_claims() == 0
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_id == stale))
        assert (event.action, event.actor_id) == ("claim_timeout", None)

    assert status_of(app, stale) == (CallbackStatus.PENDING, None)
    assert status_of(app, fresh) == (CallbackStatus.CLAIMED, operator_id)


def test_concurrent_claimers_never_hold_the_same_callback(app, callback_factory):
    callbacks = 120
    claimers = 8
    user_ids = [
        create_user(app, f"op{n}", phone=f"+91980000{n:04d}", languages="hi")
        for n in range(claimers)
    ]
    for n in range(callbacks):
        callback_factory(f"+91981{n:07d}", priority=n % 3)
    won: dict[int, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(claimers)

    def claim_all(user_id: int) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                start.wait()
                mine = won.setdefault(user_id, [])
                while (callback_id := claim_next(user)) is not None:
                    mine.append(callback_id)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=claim_all, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    claims = Counter(cid for ids in won.values() for cid in ids)
    assert len(claims) == callbacks
    assert max(claims.values()) == 1
    assert sum(1 for ids in won.values() if ids) > 1  # they really did compete
    with app.app_context():
        holders = dict(db.session.execute(select(Callback.id, Callback.claimed_by_id)).all())
        claim_events = db.session.scalar(
            select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "claim")
        )
    for user_id, ids in won.items():
        assert all(holders[cid] == user_id for cid in ids)
    assert claim_events == callbacks
