"""The campaigns page: supervisors see how far each announcement campaign has got."""

from __future__ import annotations

from sqlalchemy import update

from callqueue.campaigns import create_campaign
from core.extensions import db
from core.models.campaigns import CampaignCall, CampaignKind
from tests.callqueue.test_campaigns import overdue_account


def test_supervisors_see_each_campaigns_progress(app, supervisor):
    overdue_account(app, "+919800000301")
    overdue_account(app, "+919800000302")
    overdue_account(app, "+919800000303")
    with app.app_context():
        created = create_campaign(CampaignKind.OVERDUE_BILLS, name="november dues")
        db.session.execute(
            update(CampaignCall)
            .where(CampaignCall.id == db.session.query(CampaignCall.id).limit(1).scalar_subquery())
            .values(status="done", callback_requested=True)
        )
        db.session.commit()
        campaign_id = created.id

    page = supervisor.get("/console/campaigns").get_data(as_text=True)

    row = page[page.index(f'id="campaign-{campaign_id}"') :].split("</tr>")[0]
    assert "november dues" in row
    assert "Overdue bills" in row
    assert '<progress max="3" value="1">' in row
    assert "1/3" in row
    assert "9800000301" not in page


def test_campaigns_page_is_for_supervisors_only(operator, supervisor):
    assert operator.get("/console/campaigns").status_code == 403
    assert "No campaign yet." in supervisor.get("/console/campaigns").get_data(as_text=True)
