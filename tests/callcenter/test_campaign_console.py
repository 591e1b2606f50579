"""Supervisors create, pause, resume and cancel announcement campaigns from the console."""

from __future__ import annotations

from sqlalchemy import func, select

from callqueue.campaigns import create_campaign, job_id
from core.extensions import db
from core.models import Role
from core.models.campaigns import Campaign, CampaignKind
from tests.callcenter.conftest import create_user, login, post_form
from tests.callqueue.test_campaigns import calls_of, overdue_account, scheduled_at
from tests.conftest import provider_settings

PAGE = "/console/campaigns"


def campaign_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Campaign.id)))


def test_a_supervisor_creates_a_campaign_and_its_calls_are_scheduled(app, supervisor):
    overdue_account(app, "+919800000301")
    overdue_account(app, "+919800000302")

    created = post_form(
        supervisor, PAGE, PAGE, {"kind": "overdue-bills", "name": "dues march", "rate": "2"}
    )

    assert created.status_code == 302
    assert created.headers["Location"].endswith(PAGE)
    page = supervisor.get(PAGE).get_data(as_text=True)
    assert "Campaign “dues march”: 2 numbers to call." in page
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == "dues march"))
        assert campaign.rate == 2.0
    calls = calls_of(app, campaign.id)
    assert len(calls) == 2
    assert all(scheduled_at(app, job_id(call.id, 1)) is not None for call in calls)
    row = page[page.index(f'id="campaign-{campaign.id}"') :].split("</tr>")[0]
    assert '<td data-field="state" class="campaign-state">running</td>' in row
    assert "9800000301" not in page


def test_bad_campaign_input_is_refused_with_the_typed_values_kept(app, supervisor):
    for data, problem in (
        ({"kind": "overdue-bills", "rate": "fast"}, "Not a valid float value"),
        ({"kind": "overdue-bills", "rate": "500"}, "The rate runs from 0.01 to 50"),
        ({"kind": "unpaid-demand", "days": "-3"}, "Days run from 0 to 3650"),
        ({"kind": "unpaid-demand", "days": "seven"}, "Not a valid integer value"),
        ({"kind": "everyone"}, "Not a valid choice"),
        ({"kind": "overdue-bills", "name": "x" * 81}, "at most 80 characters"),
    ):
        answer = post_form(supervisor, PAGE, PAGE, {"name": "kept name", **data})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 400, data
        assert problem in html, data
        typed = {"name": "kept name", **data}
        for field in ("name", "rate", "days"):
            if field in typed:
                assert f'name="{field}" type="text" value="{typed[field]}"' in html or (
                    f'value="{typed[field]}"' in html
                ), (data, field)
    assert campaign_count(app) == 0


def test_a_campaign_the_provider_cannot_run_is_refused_with_its_reason(make_app, provider_apis):
    app = make_app(**provider_settings("exotel", provider_apis))
    create_user(app, "sunil", role=Role.SUPERVISOR)
    client = app.test_client()
    login(client, "sunil")
    answer = post_form(client, PAGE, PAGE, {"kind": "overdue-bills"})
    assert answer.status_code == 400
    assert "need a provider that rings numbers" in answer.get_data(as_text=True)
    assert campaign_count(app) == 0


def test_pause_resume_and_cancel(app, supervisor):
    for last in range(3):
        overdue_account(app, f"+91980000031{last}")
    with app.app_context():
        campaign_id = create_campaign(CampaignKind.OVERDUE_BILLS, name="to pause").id

    def act(action: str):
        return post_form(supervisor, PAGE, f"{PAGE}/{campaign_id}/{action}")

    def states() -> set[str]:
        return {call.status for call in calls_of(app, campaign_id)}

    def shown_state() -> str:
        rows = supervisor.get("/console/campaigns.json").get_json()["campaigns"]
        return next(row["state"] for row in rows if row["id"] == campaign_id)

    assert act("pause").status_code == 302
    assert states() == {"paused"}
    assert shown_state() == "paused"
    assert "paused: 3 waiting calls held back" in supervisor.get(PAGE).get_data(as_text=True)

    assert act("resume").status_code == 302
    assert states() == {"queued"}
    assert shown_state() == "running"
    calls = calls_of(app, campaign_id)
    assert all(scheduled_at(app, job_id(call.id, 1)) is not None for call in calls)

    assert act("cancel").status_code == 302
    assert states() == {"cancelled"}
    [row] = supervisor.get("/console/campaigns.json").get_json()["campaigns"]
    assert (row["state"], row["finished"], row["total"], row["cancelled"]) == (
        "cancelled",
        3,
        3,
        3,
    )
    # Nothing is left to resume: the cancelled calls stay cancelled.
    act("resume")
    assert states() == {"cancelled"}


def test_campaign_actions_refuse_forgery_strangers_and_unknowns(app, supervisor, operator):
    overdue_account(app, "+919800000301")
    with app.app_context():
        campaign_id = create_campaign(CampaignKind.OVERDUE_BILLS, name="guarded").id

    assert supervisor.post(f"{PAGE}/{campaign_id}/pause").status_code == 400  # no CSRF token
    assert post_form(operator, "/console/", f"{PAGE}/{campaign_id}/pause").status_code == 403
    assert post_form(operator, "/console/", PAGE, {"kind": "overdue-bills"}).status_code == 403
    assert operator.get("/console/campaigns.json").status_code == 403
    assert {call.status for call in calls_of(app, campaign_id)} == {"queued"}

    missing = post_form(supervisor, PAGE, f"{PAGE}/999999/pause")
    assert missing.status_code == 404
    assert "There is no campaign 999999" in missing.get_data(as_text=True)
    unknown = post_form(supervisor, PAGE, f"{PAGE}/{campaign_id}/explode")
    assert unknown.status_code == 400


def test_the_campaigns_page_refreshes_itself(app, supervisor):
    html = supervisor.get(PAGE).get_data(as_text=True)
    assert 'data-source="/console/campaigns.json"' in html
    assert "campaigns.js" in html and "<script>" not in html
    assert supervisor.get("/console/campaigns.json").get_json() == {"campaigns": []}
