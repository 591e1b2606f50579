"""Campaign calls answered: the amount is announced, 1 repeats, 2 asks for a callback."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from callqueue.campaigns import create_campaign
from core.extensions import db
from core.models import Callback
from core.models.campaigns import CampaignCall, CampaignKind
from tests.callqueue.test_campaigns import (
    ACCOUNT_SID,
    add_application,
    calls_of,
    load_call,
    one_call_campaign,
    place,
    status_callback,
)
from tests.conftest import PUBLIC_BASE_URL, post_webhook
from tests.support.rendered_prompts import render_stand_ins

CONSUMER = "+919812345678"


def answer(client, call_id: int, sid: str, answered_by: str = "human", **options):
    params = {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "AnsweredBy": answered_by,
    }
    return post_webhook(client, f"/ivr/announce/{call_id}", params, **options)


def press(client, call_id: int, sid: str, keys: str | None):
    params = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress"}
    if keys is not None:
        params["Digits"] = keys
    return post_webhook(client, f"/ivr/announce/{call_id}/choice", params)


def twiml(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def spoken(element: ET.Element) -> str:
    return " ".join(say.text or "" for say in element.iter("Say"))


def placed(app, **options) -> tuple[int, str]:
    call_id = one_call_campaign(app, **options)
    assert place(app, call_id) == "placed"
    sid = load_call(app, call_id).call_sid
    assert sid
    return call_id, sid


def test_a_person_hears_the_overdue_bill_in_hindi_then_the_options(app, client):
    call_id, sid = placed(app)

    root = twiml(answer(client, call_id, sid))

    assert [child.tag for child in root] == ["Gather", "Redirect"]
    gather, redirect = root
    assert gather.get("action") == f"/ivr/announce/{call_id}/choice"
    assert gather.get("numDigits") == "1"
    assert redirect.text == f"/ivr/announce/{call_id}/choice"
    says = list(gather.iter("Say"))
    assert {say.get("language") for say in says} == {"hi-IN"}
    text = spoken(gather)
    assert "बिजली कंपनी" in text
    assert "बिल पर एक हज़ार दो सौ चौंतीस रुपये पचास पैसे बकाया है" in text
    assert "दस नवंबर दो हज़ार छब्बीस" in text
    assert "दोबारा सुनने के लिए 1 दबाएँ" in text and "कॉल बैक के लिए 2 दबाएँ" in text
    assert load_call(app, call_id).status == "answered"


def test_an_english_applicant_hears_the_demand_amount_in_english(app, client):
    add_application(app, CONSUMER, demand="5600.00", language="en", number="NC-2026-000042")
    with app.app_context():
        created = create_campaign(CampaignKind.UNPAID_DEMAND, days=7)
    [call] = calls_of(app, created.id)
    place(app, call.id)
    sid = load_call(app, call.id).call_sid

    root = twiml(answer(client, call.id, sid))

    [gather] = root.iter("Gather")
    assert {say.get("language") for say in gather.iter("Say")} == {"en-IN"}
    text = spoken(gather)
    assert "The demand amount is five thousand six hundred rupees." in text
    assert "To hear this again, press 1. To get a call back from an operator, press 2." in text


def test_1_repeats_the_announcement_and_no_key_says_goodbye(app, client):
    call_id, sid = placed(app, language="en")
    answer(client, call_id, sid)

    again = twiml(press(client, call_id, sid, "1"))
    assert "The amount due on your bill is one thousand two hundred" in spoken(again)
    assert again.find("Gather") is not None

    silent = twiml(press(client, call_id, sid, None))
    assert [child.tag for child in silent] == ["Say", "Hangup"]
    assert "Thank you." in spoken(silent)


def test_2_opens_a_callback_in_the_operators_queue(app, client):
    call_id, sid = placed(app, language="en")
    answer(client, call_id, sid)

    root = twiml(press(client, call_id, sid, "2"))

    assert "Your call back request has been registered." in spoken(root)
    assert root[-1].tag == "Hangup"
    with app.app_context():
        [callback] = db.session.scalars(select(Callback).where(Callback.phone == CONSUMER)).all()
        assert (callback.status, callback.language) == ("pending", "en")
    assert load_call(app, call_id).callback_requested
    status_callback(client, call_id, sid, "completed")
    assert load_call(app, call_id).status == "done"


def test_an_answering_machine_gets_a_short_message_and_is_recorded(app, client):
    call_id, sid = placed(app)

    root = twiml(answer(client, call_id, sid, answered_by="machine_start"))

    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert "बकाया" in spoken(root)
    status_callback(client, call_id, sid, "completed")
    call = load_call(app, call_id)
    assert (call.status, call.last_result) == ("machine", "machine")
    with app.app_context():
        assert db.session.scalar(select(Callback.id)) is None


def test_a_forged_answer_is_refused_and_records_nothing(app, client):
    call_id, sid = placed(app)

    response = answer(client, call_id, sid, answered_by="machine_start", signature="forged")
    forged_key = post_webhook(
        client, f"/ivr/announce/{call_id}/choice", {"Digits": "2"}, signature="bad"
    )

    assert (response.status_code, forged_key.status_code) == (403, 403)
    assert load_call(app, call_id).status == "calling"
    with app.app_context():
        assert db.session.scalar(select(Callback.id)) is None


def test_an_answer_for_an_unknown_or_finished_call_hangs_up(app, client):
    call_id, sid = placed(app)
    status_callback(client, call_id, sid, "failed")

    root = twiml(answer(client, call_id, sid))
    unknown = twiml(answer(client, call_id + 1000, sid))

    assert [child.tag for child in root] == ["Hangup"]
    assert [child.tag for child in unknown] == ["Hangup"]
    with app.app_context():
        assert db.session.get(CampaignCall, call_id).status == "failed"


def test_rendered_clips_play_the_amount_and_the_campaign_sentences(make_app, tmp_path):
    render_stand_ins(tmp_path, "hi")
    app = make_app(VOICE_PROMPTS_DIR=str(tmp_path))
    client = app.test_client()
    call_id, sid = placed(app)

    [gather] = twiml(answer(client, call_id, sid)).iter("Gather")

    plays = [play.text for play in gather.iter("Play")]
    audio = f"{PUBLIC_BASE_URL}/ivr/audio/hi/"
    assert f"{audio}bill_amount_due.1.wav?v=ffffffffffff" in plays
    assert f"{audio}num/34.wav?v=ffffffffffff" in plays
    assert f"{audio}word/paise.wav?v=ffffffffffff" in plays
    # The campaign's own sentences are in the catalogue and rendered like every prompt.
    assert f"{audio}campaign_intro.wav?v=ffffffffffff" in plays
    assert "बिजली कंपनी" not in spoken(gather)
    assert "बकाया है" not in spoken(gather)
