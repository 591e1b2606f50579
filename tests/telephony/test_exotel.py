"""Exotel's dialect: Passthru by GET, the secret path, quoted digits, its REST API."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from callqueue.campaigns import CampaignError, create_campaign
from core.extensions import db
from core.models import MissedCall
from core.models.campaigns import CampaignKind
from telephony import TelephonySettingsError, caller_side
from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError
from telephony.exotel import ExotelProvider, unquote_digits
from tests.conftest import (
    EXOTEL_API_KEY,
    EXOTEL_API_TOKEN,
    EXOTEL_SID,
    EXOTEL_WEBHOOK_TOKEN,
    post_as,
    provider_settings,
    run_jobs,
)

PASSTHRU = f"/exotel/{EXOTEL_WEBHOOK_TOKEN}/ivr/missed-call"


@pytest.fixture()
def app(make_app, provider_apis):
    return make_app(**provider_settings("exotel", provider_apis))


def missed_calls(app) -> list[MissedCall]:
    with app.app_context():
        calls = db.session.scalars(select(MissedCall)).all()
        db.session.expunge_all()
        return calls


def test_passthru_gets_a_missed_call_by_get_and_records_it_once(app):
    query = {"CallSid": "b6e3f0c2", "CallFrom": "09812345678", "CallTo": "08030000000"}

    for _ in range(2):  # Exotel retries a Passthru it had no answer to
        answer = app.test_client().get(PASSTHRU, query_string=query)
        assert answer.status_code == 200

    (call,) = missed_calls(app)
    assert call.outcome == "queued"
    with app.app_context():
        from core.models import Callback

        assert db.session.scalar(select(Callback.phone)) == "+919812345678"


def test_a_wrong_or_missing_path_token_is_404_and_records_nothing(app):
    query = {"CallSid": "c1", "CallFrom": "09812345678"}
    for path in (
        "/exotel/not-the-token/ivr/missed-call",
        f"/exotel/{EXOTEL_WEBHOOK_TOKEN}x/ivr/missed-call",
        "/exotel/",
    ):
        assert app.test_client().get(path, query_string=query).status_code == 404
    assert missed_calls(app) == []


def test_exotels_path_means_nothing_to_a_deployment_that_does_not_take_exotel(make_app):
    app = make_app()  # Twilio
    answer = app.test_client().get(PASSTHRU, query_string={"CallSid": "c2", "CallFrom": "1"})
    assert answer.status_code == 404
    assert missed_calls(app) == []


def test_basic_credentials_are_required_when_configured(make_app, provider_apis):
    app = make_app(
        **provider_settings("exotel", provider_apis),
        EXOTEL_WEBHOOK_USER="exotel",
        EXOTEL_WEBHOOK_PASSWORD="s3cret-pass",
    )
    query = {"CallSid": "c3", "CallFrom": "09812345678"}
    client = app.test_client()
    assert client.get(PASSTHRU, query_string=query).status_code == 403
    wrong = {"Authorization": "Basic ZXhvdGVsOndyb25n"}  # exotel:wrong
    assert client.get(PASSTHRU, query_string=query, headers=wrong).status_code == 403
    assert missed_calls(app) == []
    side = caller_side(app)
    assert client.get(PASSTHRU, query_string=query, headers=side.sign("", {})).status_code == 200
    assert len(missed_calls(app)) == 1


def test_taking_exotel_without_a_path_token_refuses_to_start(make_app, provider_apis):
    with pytest.raises(TelephonySettingsError, match="EXOTEL_WEBHOOK_TOKEN"):
        make_app(**{**provider_settings("exotel", provider_apis), "EXOTEL_WEBHOOK_TOKEN": ""})


@pytest.mark.parametrize(
    ("given", "keys"),
    [('"123"', "123"), ('"1000004321#"', "1000004321#"), ("2", "2"), ('""', ""), (' "9" ', "9")],
)
def test_digits_arrive_in_quotes_and_are_read_without_them(given, keys):
    assert unquote_digits(given) == keys


def test_quoted_digits_choose_in_the_ivr(app):
    side = caller_side(app)
    call = side.call("c4", "+919812345678", "+918030000000", "in-progress")
    answer = post_as(
        app.test_client(), side, "/ivr/voice/language/answer", {**call, "digits": '"2"'}
    )
    verbs = side.read(answer.get_data(as_text=True))
    assert verbs[-1].kind == "redirect" and "lang=en" in verbs[-1].text


def test_sms_carry_the_dlt_ids_and_report_back_under_the_secret_path(app, provider_apis):
    side = caller_side(app)
    post_as(
        app.test_client(),
        side,
        "/ivr/missed-call",
        side.call("c5", "+919812345678", "+918030000000", "ringing"),
    )
    run_jobs(app)
    (sms,) = provider_apis["exotel"].messages
    assert (sms["From"], sms["To"], sms["SmsType"]) == ("CSPDCL", "+919812345678", "transactional")
    assert sms["DltEntityId"] == "1101234567890123456"
    assert urlsplit(sms["StatusCallback"]).path == side.path("/sms/status")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, TransientTelephonyError),
        (429, TransientTelephonyError),
        (400, PermanentTelephonyError),
    ],
)
def test_rest_errors_say_whether_a_retry_can_help(provider_apis, status, kind):
    exotel_api = provider_apis["exotel"]
    exotel_api.reset()
    exotel = ExotelProvider(
        EXOTEL_SID, EXOTEL_API_KEY, EXOTEL_API_TOKEN, api_base_url=exotel_api.base_url
    )
    exotel_api.fail_next(status, "refused by the stand-in")
    with pytest.raises(kind, match=f"Exotel {status}: refused by the stand-in"):
        exotel.send_sms("+919812345678", "x", sender="CSPDCL", status_callback=None,
                        dlt_template_id=None)  # fmt: skip
    assert exotel_api.messages == []


def test_campaigns_are_refused_where_the_provider_runs_its_own_flows(app):
    from core.models.campaigns import Campaign

    with app.app_context():
        with pytest.raises(CampaignError, match="Twilio or Plivo"):
            create_campaign(CampaignKind.OVERDUE_BILLS)
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
