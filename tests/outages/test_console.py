"""The supervisors' outage page: recording, moving, closing, and every bad input refused."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import OutboundMessage, utcnow
from core.models.console import AuditEvent
from core.models.outages import Outage
from tests.callcenter.conftest import csrf_token
from tests.outages.conftest import FEEDER

PAGE = "/console/outages/"
ZONE = ZoneInfo("Asia/Kolkata")


def local(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def form_fields(client) -> dict[str, str]:
    """The page's CSRF token and the new form's submission key."""
    html = client.get(PAGE).get_data(as_text=True)
    key = html.split('name="submission" type="hidden" value="', 1)[1][:32]
    return {"csrf_token": csrf_token(html), "submission": key}


def good(**changes) -> dict[str, str]:
    fields = {
        "kind": "unplanned",
        "scope": "feeder",
        "place": FEEDER.lower(),
        "starts_at": "",
        "expected_restoration_at": local(timedelta(hours=4)),
        "reason_code": "transformer",
        "reason_note": "DT burnt near the school",
    }
    fields.update(changes)
    return fields


def outages(app) -> list[Outage]:
    with app.app_context():
        found = list(db.session.scalars(select(Outage).order_by(Outage.id)))
        db.session.expunge_all()
        return found


def test_a_supervisor_records_an_outage_and_sees_it_listed_with_its_sms(app, supervisor, feeders):
    response = supervisor.post(PAGE, data={**form_fields(supervisor), **good()})
    assert response.status_code == 303
    (outage,) = outages(app)
    assert (outage.feeder, outage.kind, outage.state) == (FEEDER, "unplanned", "announced")
    page = supervisor.get(PAGE).get_data(as_text=True)
    assert "recorded; its SMS notices are on their way" in page
    assert f'id="outage-{outage.id}"' in page and "feeder F0007" in page
    with app.app_context():
        audited = db.session.scalar(select(func.count()).where(AuditEvent.entity == "outage"))
    assert audited == 1
    # The list the page refreshes itself with.
    rows = supervisor.get("/console/outages/list").get_data(as_text=True)
    assert f'id="outage-{outage.id}"' in rows and "<html" not in rows


def test_moving_the_restoration_and_closing(app, supervisor, feeders):
    supervisor.post(PAGE, data={**form_fields(supervisor), **good()})
    (outage,) = outages(app)
    token = form_fields(supervisor)["csrf_token"]
    later = local(timedelta(hours=6))
    response = supervisor.post(
        f"{PAGE}{outage.id}/restoration",
        data={"csrf_token": token, "expected_restoration_at": later},
    )
    assert response.status_code == 303
    (moved,) = outages(app)
    assert moved.expected_restoration_at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M") == later
    response = supervisor.post(
        f"{PAGE}{outage.id}/close", data={"csrf_token": token, "state": "restored"}
    )
    assert response.status_code == 303
    assert outages(app)[0].state == "restored"
    # Closed twice: a clear answer, nothing changed.
    again = supervisor.post(
        f"{PAGE}{outage.id}/close", data={"csrf_token": token, "state": "cancelled"}
    )
    assert again.status_code == 409 and "restored already" in again.get_data(as_text=True)
    assert outages(app)[0].state == "restored"


@pytest.mark.parametrize(
    "changes, heard",
    [
        ({"scope": "area", "place": "Ward 99"}, "No consumer is on area &#39;Ward 99&#39;"),
        ({"place": "   "}, "Give the feeder code or the area"),
        ({"place": "F9999"}, "No consumer is on feeder &#39;F9999&#39;"),
        (
            {
                "starts_at": local(timedelta(hours=2)),
                "expected_restoration_at": local(timedelta(hours=1)),
            },
            "The expected restoration must be after the start.",
        ),
        ({"expected_restoration_at": local(timedelta(hours=-1))}, "must be after the start"),
        ({"expected_restoration_at": "tomorrow-ish"}, "Not a valid datetime value"),
        ({"kind": "sometimes"}, "Not a valid choice"),
        ({"reason_code": "aliens"}, "Not a valid choice"),
        ({"scope": ""}, "Choose feeder or area."),
        ({"place": "F" * 81}, "at most 80 characters"),
        ({"submission": "not-a-key"}, "Reload the page and send the form again."),
    ],
)
def test_bad_input_is_refused_with_the_typed_values_kept(app, supervisor, feeders, changes, heard):
    data = {**form_fields(supervisor), **good(), **changes}
    response = supervisor.post(PAGE, data=data)
    assert 400 <= response.status_code < 500
    page = response.get_data(as_text=True)
    assert heard in page
    assert "DT burnt near the school" in page  # what was typed is still there
    assert outages(app) == []


def test_an_empty_area_is_explained_and_nothing_is_sent(app, supervisor, feeders):
    response = supervisor.post(
        PAGE, data={**form_fields(supervisor), **good(scope="area", place="Ward 99")}
    )
    assert response.status_code == 400
    assert "no notice would reach anyone and nothing was recorded" in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_the_same_form_sent_twice_records_one_outage(app, supervisor, feeders):
    data = {**form_fields(supervisor), **good()}
    assert supervisor.post(PAGE, data=data).status_code == 303
    assert supervisor.post(PAGE, data=data).status_code == 303
    assert len(outages(app)) == 1
    assert "was recorded already; nothing was sent twice" in supervisor.get(PAGE).get_data(
        as_text=True
    )
    # Another form for the same feeder and hours: refused, pointing at the first.
    second = supervisor.post(PAGE, data={**form_fields(supervisor), **good()})
    assert second.status_code == 409
    assert "is announced for these hours already" in second.get_data(as_text=True)
    assert len(outages(app)) == 1


def test_a_post_without_its_csrf_token_changes_nothing(app, supervisor, feeders):
    data = {**form_fields(supervisor), **good()}
    del data["csrf_token"]
    response = supervisor.post(PAGE, data=data)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert outages(app) == []


def test_an_operator_may_not_record_or_close_outages(app, operator, feeders):
    assert operator.get(PAGE).status_code == 403
    response = operator.post(PAGE, data=good())
    assert response.status_code in (400, 403)
    assert operator.post(f"{PAGE}1/close", data={"state": "restored"}).status_code in (400, 403)
    assert outages(app) == []


def test_malformed_posts_never_fail_the_server(app, supervisor, feeders):
    token = form_fields(supervisor)["csrf_token"]
    for path, data in [
        (PAGE, {"csrf_token": token}),
        (PAGE, {"csrf_token": token, "kind": ["planned", "unplanned"], "place": "\x00"}),
        (f"{PAGE}999/close", {"csrf_token": token, "state": "restored"}),
        (
            f"{PAGE}999/restoration",
            {"csrf_token": token, "expected_restoration_at": local(timedelta(hours=2))},
        ),
        (f"{PAGE}1/close", {"csrf_token": token, "state": "exploded"}),
        (
            f"{PAGE}1/restoration",
            {"csrf_token": token, "expected_restoration_at": "2026-13-45T99:99"},
        ),
    ]:
        response = supervisor.post(path, data=data)
        assert 400 <= response.status_code < 500, (path, data, response.status_code)
    assert supervisor.post(f"{PAGE}abc/close", data={"csrf_token": token}).status_code == 404
    assert outages(app) == []
