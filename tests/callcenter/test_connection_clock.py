"""The connection clock in the console: field engineers record stages, supervisors watch.

Applications are paid the way the payments side pays them (status set, then the
``application_paid`` signal); everything after goes through the console's pages with
their CSRF tokens, as a browser would.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from connections import stages
from core.extensions import db
from core.models import OutboundMessage, User, utcnow
from core.models.applications import Application
from core.models.connections import ConnectionStage
from tests.callcenter.conftest import csrf_token, login
from tests.callcenter.test_applications import NEW_CONNECTION, make_callback
from tests.conftest import run_jobs
from tests.connections.support import (
    clock_of,
    make_application,
    make_engineer,
    paid_application,
    pay,
)

ABHANPUR = "Raipur/Abhanpur"
ZONE = ZoneInfo("Asia/Kolkata")


def signed_in(app, username):
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client, response.headers["Location"]


@pytest.fixture()
def engineer(app):
    make_engineer(app, "jeetu", ABHANPUR)
    client, _ = signed_in(app, "jeetu")
    return client


def page_of(application_id):
    return f"/console/connections/{application_id}"


def post_stage(client, application_id, stage, seen, reason="", **extra):
    html = client.get(page_of(application_id)).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "stage": stage, "seen_stage": seen, "reason": reason}
    data.update(extra)
    return client.post(f"{page_of(application_id)}/stage", data=data)


def stage_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(ConnectionStage.id)))


def table_rows(html, table_id):
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    cells = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
    ]
    return [row for row in cells if row]


# ------------------------------------------------------------------ the whole path


def submit_by_operator(app):
    """An operator fills and submits a new-connection application during a call."""
    make_engineer(app, "asha", None, role="operator")
    console, _ = signed_in(app, "asha")
    callback_id = make_callback(app)
    url = f"/console/applications/new/new_connection?callback={callback_id}&lang=en"
    html = console.get(url).get_data(as_text=True)
    form = {**NEW_CONNECTION, "csrf_token": csrf_token(html), "action": "submit"}
    response = console.post(url, data=form)
    assert response.status_code == 303
    with app.app_context():
        return db.session.scalar(select(Application.id))


def record_all(app, application_id, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        for seen, stage in zip(stages.FLOW, stages.FLOW[1:], strict=False):
            stages.record_stage(application_id, user, stage=stage, seen_stage=seen)


def test_paid_to_energised_with_the_clock_and_the_dashboard(app, twilio_api):
    now = utcnow()
    first = submit_by_operator(app)  # rural, Raipur / Abhanpur (the form's answers)
    run_jobs(app)
    twilio_api.reset()
    pay(app, first, now - timedelta(hours=30))

    make_engineer(app, "jeetu", ABHANPUR)
    engineer, landing = signed_in(app, "jeetu")
    assert landing.endswith("/console/connections/")
    listing = engineer.get("/console/connections/").get_data(as_text=True)
    assert 'http-equiv="refresh"' in listing
    [row] = table_rows(listing, "open-connections")
    due_day = (now + timedelta(hours=90)).astimezone(ZONE).date()
    days_left = (due_day - now.astimezone(ZONE).date()).days
    assert row[1] == "Raipur / Abhanpur (rural)" and row[4].startswith(f"{days_left} d left")

    html = engineer.get(page_of(first)).get_data(as_text=True)
    assert "site_inspected" in html and "meter_allotted" not in html.split('id="stage"')[1]
    for seen, stage in zip(stages.FLOW, stages.FLOW[1:], strict=False):
        response = post_stage(engineer, first, stage, seen)
        assert response.status_code == 302, response.get_data(as_text=True)
        page = engineer.get(response.headers["Location"]).get_data(as_text=True)
        assert str(stages.LABELS[stage]) in page
    assert 'id="stage-form"' not in page  # energised: nothing more to record
    history = page.split('id="stage-history"')[1].split("</ol>")[0]
    assert history.count("<li>") == 5 and history.count("Jeetu") == 4

    clock = clock_of(app, first)
    assert clock.stage == "connected"
    hours = (clock.energised_at - clock.started_at).total_seconds() / 3600
    assert 30 <= hours < 30.1
    assert clock.due_at == clock.paid_at + timedelta(days=5)
    assert "Energised after 30.0 h" in page and 'id="compensation">₹0.00<' in page

    run_jobs(app)
    bodies = [message["Body"] for message in twilio_api.messages]
    # The consumer chose Hindi on the form: a message at each stage, none at payment.
    assert len(bodies) == 4 and all("NC-" in body for body in bodies)
    # (Sends overlap, so they reach the provider in any order.)
    for words in ("स्थल निरीक्षण", "मीटर आवंटित", "मीटर लग गया", "कनेक्शन चालू कर दिया"):
        assert sum(words in body for body in bodies) == 1, words
    assert {message["To"] for message in twilio_api.messages} == {"+919876543210"}

    # More applications so the figures have something to count.
    jeetu = make_engineer(app, "jeetu2", ABHANPUR, phone=None)
    bhola = make_engineer(app, "bhola", "Bastar")
    urban = paid_application(app, "NC-2026-000101", now - timedelta(hours=10), area_type="urban")
    record_all(app, urban, jeetu)
    bastar = paid_application(
        app, "NC-2026-000102", now - timedelta(hours=48), district="Bastar", block=""
    )
    record_all(app, bastar, bhola)
    paid_application(app, "NC-2026-000103", now - timedelta(days=6) + timedelta(hours=1))
    local_now = now.astimezone(ZONE)
    midnight = datetime.combine(local_now.date() + timedelta(days=1), time(0), ZONE)
    to_midnight = midnight - local_now
    if to_midnight < timedelta(minutes=10):
        pytest.skip("too close to midnight in India for an application due later today")
    paid_application(app, "NC-2026-000104", now - timedelta(days=5) + to_midnight / 2)

    make_engineer(app, "sunil", None, role="supervisor")
    supervisor, _ = signed_in(app, "sunil")
    dashboard = supervisor.get("/console/dashboard/connections")
    assert dashboard.status_code == 200
    html = dashboard.get_data(as_text=True)

    def figure(name):
        return re.search(rf'id="{name}"><span class="value">([^<]*)<', html).group(1)

    assert figure("due-today") == "1"
    assert figure("overdue") == "1"
    # Hours to energise: 10 (urban), 30 (rural), 48 (Bastar).
    assert figure("median-energise") == "30.0 h"
    assert figure("p90-energise") == "44.4 h"  # 30 + 0.8 × 18
    assert figure("within-limit") == "100%"
    assert figure("within-incentive") == "33%"  # only the urban one, within 12 h
    assert table_rows(html, "per-area") == [
        ["Bastar", "1", "48.0 h", "48.0 h", "100% (1)", "0% (0)", "0", "0", "₹0.00"],
        ["Raipur / Abhanpur", "2", "20.0 h", "28.0 h", "100% (2)", "50% (1)", "2", "1", "₹50.00"],
    ]
    assert table_rows(html, "per-engineer") == [
        ["Bhola", "1", "48.0 h", "48.0 h", "100% (1)", "0% (0)", "0", "0", "₹0.00"],
        ["Jeetu", "1", "30.0 h", "30.0 h", "100% (1)", "0% (0)", "0", "0", "₹0.00"],
        ["Jeetu2", "1", "10.0 h", "10.0 h", "100% (1)", "100% (1)", "0", "0", "₹0.00"],
    ]
    assert "NC-2026-000103" in html.split('id="overdue-list"')[1].split("</ul>")[0]

    # The overdue line on the main dashboard too.
    main = supervisor.get("/console/dashboard/").get_data(as_text=True)
    alerts = main.split('id="connection-alerts"')[1].split("</section>")[0]
    assert "(1)" in alerts and "NC-2026-000103" in alerts and "1 day late" in alerts

    export = supervisor.get("/console/dashboard/export/connections.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = {
        row["application"]: row
        for row in csv.DictReader(io.StringIO(export.get_data(as_text=True)))
    }
    assert len(rows) == 5
    number = clock_number(app, first)
    assert rows[number]["state"] == "energised" and rows[number]["engineer"] == "Jeetu"
    assert rows[number]["within_limit"] == "yes" and rows[number]["within_incentive"] == "no"
    assert rows[number]["hours_to_energise"].startswith("30.0")
    late = rows["NC-2026-000103"]
    assert (late["state"], late["days_late"], late["compensation"]) == ("overdue", "1", "50.00")
    assert rows["NC-2026-000104"]["state"] == "due_today"


def clock_number(app, application_id):
    with app.app_context():
        return db.session.get(Application, application_id).number


# ------------------------------------------------------------------ who may do what


def test_an_engineer_of_another_area_gets_403_and_changes_nothing(app):
    application_id = paid_application(app, "NC-2026-000201", utcnow())
    make_engineer(app, "bhola", "Bastar")
    other, _ = signed_in(app, "bhola")
    assert other.get(page_of(application_id)).status_code == 403
    listing = other.get("/console/connections/").get_data(as_text=True)
    assert "NC-2026-000201" not in listing
    token = csrf_token(listing)
    response = other.post(
        f"{page_of(application_id)}/stage",
        data={"csrf_token": token, "stage": "site_inspected", "seen_stage": "paid"},
    )
    assert response.status_code == 403
    assert clock_of(app, application_id).stage == "paid" and stage_count(app) == 1


def test_operators_cannot_open_or_change_stages(app, engineer):
    application_id = paid_application(app, "NC-2026-000202", utcnow())
    make_engineer(app, "asha", None, role="operator")
    operator, _ = signed_in(app, "asha")
    assert operator.get("/console/connections/").status_code == 403
    assert operator.get(page_of(application_id)).status_code == 403
    token = csrf_token(operator.get("/console/").get_data(as_text=True))
    response = operator.post(
        f"{page_of(application_id)}/stage",
        data={"csrf_token": token, "stage": "site_inspected", "seen_stage": "paid"},
    )
    assert response.status_code == 403 and stage_count(app) == 1


def test_supervisors_see_every_area_and_record_nothing(app):
    raipur = paid_application(app, "NC-2026-000203", utcnow())
    bastar = paid_application(app, "NC-2026-000204", utcnow(), district="Bastar")
    make_engineer(app, "sunil", None, role="supervisor")
    supervisor, _ = signed_in(app, "sunil")
    listing = supervisor.get("/console/connections/").get_data(as_text=True)
    assert "NC-2026-000203" in listing and "NC-2026-000204" in listing
    page = supervisor.get(page_of(bastar)).get_data(as_text=True)
    assert 'id="stage-form"' not in page and "Bastar" in page
    response = post_stage(supervisor, raipur, "site_inspected", "paid")
    assert response.status_code == 403 and stage_count(app) == 2


def test_a_field_engineer_stays_out_of_the_call_centre(app, engineer):
    response = engineer.get("/console/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/connections/")
    assert engineer.get("/console/dashboard/").status_code == 403
    assert engineer.get("/console/applications/new/new_connection").status_code == 302
    token = csrf_token(engineer.get("/console/connections/").get_data(as_text=True))
    assert engineer.post("/console/take-next", data={"csrf_token": token}).status_code == 403


# ------------------------------------------------------------------ bad input


def test_no_stage_on_an_unpaid_application(app, engineer):
    application_id = make_application(app, "NC-2026-000205")
    response = engineer.get(page_of(application_id))
    assert response.status_code == 409 and "not paid yet" in response.get_data(as_text=True)
    token = csrf_token(engineer.get("/console/connections/").get_data(as_text=True))
    response = engineer.post(
        f"{page_of(application_id)}/stage",
        data={"csrf_token": token, "stage": "site_inspected", "seen_stage": "paid"},
    )
    assert response.status_code == 409 and stage_count(app) == 0
    assert engineer.get(page_of(999999)).status_code == 404
    assert engineer.get("/console/connections/１２").status_code == 404
    assert engineer.get("/console/connections/abc").status_code == 404


def test_reject_without_a_reason_keeps_what_was_typed(app, engineer):
    application_id = paid_application(app, "NC-2026-000206", utcnow())
    response = post_stage(engineer, application_id, "rejected", "paid", reason="  no ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Give the reason for rejecting" in html
    assert (
        '<textarea id="reason" maxlength="300" name="reason" rows="3">\r\n  no </textarea>' in html
    )
    assert '<option value="rejected" selected>' in html
    assert clock_of(app, application_id).stage == "paid" and stage_count(app) == 1
    response = post_stage(
        engineer, application_id, "rejected", "paid", reason="House locked, wrong address"
    )
    assert response.status_code == 302
    assert clock_of(app, application_id).reject_reason == "House locked, wrong address"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"stage": "meter_installed"}, 409, "stages cannot be skipped"),
        ({"stage": ""}, 400, "Choose the stage to record."),
        ({"stage": "energized"}, 400, "Not a valid choice"),
        ({"stage": "site_inspected", "seen_stage": ""}, 400, "The form is incomplete."),
        ({"stage": "site_inspected", "seen_stage": "meter_installed"}, 409, "changed to"),
        ({"stage": "site_inspected", "reason": "x" * 301}, 400, "300"),
    ],
)
def test_malformed_stage_posts_are_refused_clearly(app, engineer, fields, status, message):
    application_id = paid_application(app, "NC-2026-000207", utcnow())
    data = {"stage": "site_inspected", "seen_stage": "paid", "reason": "", **fields}
    response = post_stage(
        engineer, application_id, data["stage"], data["seen_stage"], data["reason"]
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert clock_of(app, application_id).stage == "paid" and stage_count(app) == 1


def test_going_back_after_a_stage_is_refused(app, engineer):
    application_id = paid_application(app, "NC-2026-000208", utcnow())
    assert post_stage(engineer, application_id, "site_inspected", "paid").status_code == 302
    response = post_stage(engineer, application_id, "site_inspected", "site_inspected")
    assert response.status_code == 409 and "already recorded" in response.get_data(as_text=True)
    assert stage_count(app) == 2


def test_a_post_without_its_csrf_token_changes_nothing(app, engineer):
    application_id = paid_application(app, "NC-2026-000209", utcnow())
    response = engineer.post(
        f"{page_of(application_id)}/stage", data={"stage": "site_inspected", "seen_stage": "paid"}
    )
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert clock_of(app, application_id).stage == "paid"
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboundMessage.id))) == 0


# ------------------------------------------------------------------ accounts


def test_users_create_takes_a_field_engineers_area(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "jeetu",
            "--role",
            "field_engineer",
            "--area",
            " Raipur / Abhanpur ",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "for Raipur/Abhanpur" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "jeetu"))
        assert (user.role, user.area) == ("field_engineer", "Raipur/Abhanpur")
    refused = runner.invoke(
        args=[
            "users",
            "create",
            "ravi",
            "--role",
            "field_engineer",
            "--password",
            "a long password",
        ]
    )
    assert refused.exit_code != 0 and "needs DISTRICT" in refused.output
    refused = runner.invoke(
        args=["users", "create", "ravi", "--area", "Raipur", "--password", "a long password"]
    )
    assert refused.exit_code != 0 and "only a field engineer" in refused.output
