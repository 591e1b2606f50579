"""Call recordings play in the console, fetched through the app with the provider's credentials.

Each test runs once per provider: the recording sits on that provider's stand-in behind its
HTTP Basic credentials, and the supervisor's browser only ever sees the app's own URL.
"""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Role
from core.models.attempts import CallAttempt
from tests.callcenter.conftest import create_user, login, make_callback
from tests.conftest import provider_settings
from tests.support.recordings import FAKE_MP3


@pytest.fixture()
def app(make_app, provider_name, provider_apis):
    return make_app(CALL_RECORDING=True, **provider_settings(provider_name, provider_apis))


@pytest.fixture()
def standin(provider_name, twilio_api, provider_apis):
    return twilio_api if provider_name == "twilio" else provider_apis[provider_name]


def signed_in(app, username: str, role: Role):
    create_user(app, username, role=role, phone=None)
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def attempt_with(app, provider_name: str, recording_url: str | None) -> tuple[int, int]:
    """Record a finished call of a callback with ``recording_url``; return both ids."""
    callback_id = make_callback(app, "+919876543210")
    operator_id = create_user(app, "asha")
    with app.app_context():
        attempt = CallAttempt(
            callback_id=callback_id,
            operator_id=operator_id,
            number=1,
            provider=provider_name,
            call_sid="CALL-1",
            status="completed",
            recording_url=recording_url,
        )
        db.session.add(attempt)
        db.session.commit()
        return callback_id, attempt.id


def test_a_supervisor_plays_a_recording_fetched_with_the_providers_credentials(
    app, provider_name, standin
):
    raw_url = standin.add_recording("RE0123456789abcdef0123456789abcdef")
    callback_id, attempt_id = attempt_with(app, provider_name, raw_url)
    supervisor = signed_in(app, "sunil", Role.SUPERVISOR)

    page = supervisor.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)
    assert f'src="/console/recordings/{attempt_id}"' in page
    assert raw_url not in page and standin.base_url not in page and "twilio.com" not in page

    played = supervisor.get(f"/console/recordings/{attempt_id}")
    assert played.status_code == 200
    assert played.mimetype == "audio/mpeg"
    assert played.get_data() == FAKE_MP3
    assert played.headers["Cache-Control"] == "private, no-store"
    [fetch] = standin.recordings.fetches
    assert fetch.status == 200
    assert fetch.path.endswith(".mp3")  # for Twilio: MP3 asked for, not its default WAV
    if provider_name == "twilio":
        assert fetch.auth == (standin.account_sid, standin.auth_token)
    else:
        assert fetch.auth == standin.media_credentials


def test_operators_neither_see_nor_fetch_recordings(app, provider_name, standin):
    callback_id, attempt_id = attempt_with(app, provider_name, standin.add_recording("RE1"))
    operator = signed_in(app, "ravi", Role.OPERATOR)
    assert "<audio" not in operator.get(f"/console/callbacks/{callback_id}").get_data(True)
    assert operator.get(f"/console/recordings/{attempt_id}").status_code == 403
    assert standin.recordings.fetches == []


def test_a_recording_on_another_host_is_never_fetched_with_the_credentials(
    app, provider_name, standin
):
    _, attempt_id = attempt_with(app, provider_name, "http://127.0.0.1:9/steal.mp3")
    supervisor = signed_in(app, "sunil", Role.SUPERVISOR)
    refused = supervisor.get(f"/console/recordings/{attempt_id}")
    assert refused.status_code == 404
    assert "does not hand over this recording" in refused.get_data(as_text=True)


def test_a_recording_the_provider_no_longer_has_is_a_clear_refusal(app, provider_name, standin):
    gone = standin.add_recording("RE2").replace("RE2", "RE3")
    _, attempt_id = attempt_with(app, provider_name, gone)
    supervisor = signed_in(app, "sunil", Role.SUPERVISOR)
    answer = supervisor.get(f"/console/recordings/{attempt_id}")
    assert answer.status_code == 404
    assert "no longer has it" in answer.get_data(as_text=True)


def test_a_provider_in_trouble_is_worth_trying_again(app, provider_name, standin):
    _, attempt_id = attempt_with(app, provider_name, standin.add_recording("RE4"))
    supervisor = signed_in(app, "sunil", Role.SUPERVISOR)
    standin.recordings.fail_next(503)
    answer = supervisor.get(f"/console/recordings/{attempt_id}")
    assert answer.status_code == 502
    assert "try again in a minute" in answer.get_data(as_text=True)
    assert supervisor.get(f"/console/recordings/{attempt_id}").get_data() == FAKE_MP3


def test_a_call_without_a_recording_is_not_found(app, provider_name):
    callback_id, attempt_id = attempt_with(app, provider_name, None)
    supervisor = signed_in(app, "sunil", Role.SUPERVISOR)
    assert "<audio" not in supervisor.get(f"/console/callbacks/{callback_id}").get_data(True)
    assert supervisor.get(f"/console/recordings/{attempt_id}").status_code == 404
    assert supervisor.get("/console/recordings/987654").status_code == 404
