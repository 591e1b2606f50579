"""The queue honours callback slots: a morning callback is offered from the morning's start."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from callcenter.queue import claim_next
from core.extensions import db
from core.models import Callback, User
from ivr.actions import request_callback
from tests.callcenter.conftest import create_user, make_callback


def zone_where_it_is(hour: int) -> str:
    """Return a fixed-offset zone in which it is now ``hour`` o'clock (minutes as in UTC).

    The queue reads the real clock; the zone moves the calling day under it instead.
    """
    offset = (hour - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return f"Etc/GMT{-offset:+d}"  # POSIX signs: Etc/GMT-5 is five hours ahead of UTC


def take(app, operator_id: int) -> int | None:
    with app.app_context():
        return claim_next(db.session.get(User, operator_id))


def ask(app, phone: str, slot: str | None) -> int:
    with app.app_context():
        request_callback(phone, "hi", slot, chosen=True)
        return db.session.scalar(select(Callback.id).where(Callback.phone == phone))


def test_a_morning_callback_is_not_offered_at_eight(make_app):
    app = make_app(TIMEZONE=zone_where_it_is(8))  # default slots: morning 09:00-12:00
    operator_id = create_user(app, "asha", languages="hi")
    morning = ask(app, "+919811111111", "morning")
    soonest = ask(app, "+919822222222", None)

    assert take(app, operator_id) == soonest
    # The morning callback waits for nine o'clock, though the queue has nothing else.
    with app.app_context():
        db.session.execute(db.update(Callback).values(status="done"))
        db.session.commit()
    assert take(app, operator_id) is None
    with app.app_context():
        callback = db.session.get(Callback, morning)
        local = callback.due_at.astimezone(app.extensions["settings"].zone)
        assert (local.hour, local.minute, callback.slot) == (9, 0, "morning")


def test_a_morning_callback_is_offered_at_nine_in_the_queue_order(make_app):
    app = make_app(TIMEZONE=zone_where_it_is(9))
    operator_id = create_user(app, "asha", languages="hi")
    evening = ask(app, "+919833333333", "evening")
    morning = ask(app, "+919811111111", "morning")

    assert take(app, operator_id) == morning
    with app.app_context():
        assert db.session.get(Callback, evening).slot == "evening"
    # Evening has not started: nothing else is offered.
    with app.app_context():
        db.session.execute(db.update(Callback).where(Callback.id == morning).values(status="done"))
        db.session.commit()
    assert take(app, operator_id) is None


def test_the_console_shows_the_slot_on_the_queue_and_callback_pages(app, operator, supervisor):
    slotted = make_callback(app, "+919811111111", slot="evening")
    plain = make_callback(app, "+919822222222")

    page = operator.get("/console/").get_data(as_text=True)
    assert "(Evening)" in page
    rows = {row["id"]: row for row in operator.get("/console/queue.json").json["rows"]}
    assert (rows[slotted]["slot"], rows[plain]["slot"]) == ("evening", None)
    assert rows[slotted]["slot_label"] == "Evening"
    callback_page = operator.get(f"/console/callbacks/{slotted}").get_data(True)
    assert "<dt>Slot asked for</dt><dd>Evening</dd>" in callback_page
    assert "Slot asked for" not in operator.get(f"/console/callbacks/{plain}").get_data(True)

    today = datetime.now(app.extensions["settings"].zone).date()
    days = f"from={today - timedelta(days=1)}&to={today}"
    export = supervisor.get(f"/console/dashboard/export/callbacks.csv?{days}")
    rows = {
        int(row["callback_id"]): row
        for row in csv.DictReader(io.StringIO(export.get_data(as_text=True)))
    }
    assert (rows[slotted]["slot"], rows[plain]["slot"]) == ("evening", "")
