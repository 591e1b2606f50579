"""The head-end adapter against the stand-in: commands, relay reads, and its errors by kind."""

from __future__ import annotations

import time

import pytest

from core.hours import CallingHoursError
from meters.exceptions import (
    HeadEndNotConfigured,
    PermanentHeadEndError,
    TransientHeadEndError,
    UnknownMeter,
)
from meters.head_end import HeadEnd, RelayState, head_end
from tests.meters.conftest import HEAD_END_PASSWORD, HEAD_END_USER
from tests.support.head_end_standin import HeadEndStandin
from tests.support.processes import free_port

METER = "SM000000042"


@pytest.fixture()
def api(head_end_api: HeadEndStandin) -> HeadEndStandin:
    head_end_api.reset()
    head_end_api.delay = 0.0
    return head_end_api


def client(api: HeadEndStandin, **options) -> HeadEnd:
    options.setdefault("user", HEAD_END_USER)
    options.setdefault("password", HEAD_END_PASSWORD)
    return HeadEnd(api.base_url, timeout=0.5, **options)


def test_a_connect_command_is_answered_with_a_command_id_and_the_relay_follows(api):
    head_end = client(api)
    assert head_end.relay_state(METER).known_state is RelayState.DISCONNECTED
    receipt = head_end.connect(METER, "sampark-reconnect-1")
    assert receipt.command_id.startswith("HE-")
    assert api.requests[-1]["body"] == {
        "mRID": "sampark-reconnect-1",
        "endDeviceControlType": "connect",
        "endDevice": {"mRID": METER},
    }
    reading = head_end.relay_state(METER)
    assert (reading.known_state, reading.command_id) == (RelayState.CONNECTED, receipt.command_id)
    assert head_end.disconnect(METER, "sampark-disconnect-1").command_id != receipt.command_id
    assert head_end.relay_state(METER).known_state is RelayState.DISCONNECTED


def test_the_relay_switches_after_the_head_ends_delay(head_end_api):
    head_end_api.reset()
    head_end_api.delay = 0.3
    try:
        head_end = client(head_end_api)
        head_end.connect(METER, "sampark-reconnect-2")
        assert head_end.relay_state(METER).state == "disconnected"
        time.sleep(0.4)
        assert head_end.relay_state(METER).state == "connected"
    finally:
        head_end_api.delay = 0.0


def test_the_same_correlation_id_is_the_same_command(api):
    head_end = client(api)
    first = head_end.connect(METER, "sampark-reconnect-3")
    again = head_end.connect(METER, "sampark-reconnect-3")
    assert first == again and len(api.switchings) == 1


def test_credentials_are_sent_and_a_bearer_token_works_too(head_end_api):
    with HeadEndStandin(token="secret-token") as api:
        assert HeadEnd(api.base_url, token="secret-token").connect(METER, "c-1").command_id
        with pytest.raises(PermanentHeadEndError, match="401"):
            HeadEnd(api.base_url, token="wrong").connect(METER, "c-2")
    head_end_api.reset()
    with pytest.raises(PermanentHeadEndError, match="401"):
        HeadEnd(head_end_api.base_url, user=HEAD_END_USER, password="wrong").connect(METER, "c-3")


def test_errors_are_split_into_passing_and_lasting(api):
    head_end = client(api)
    api.refusals = [500, 503, 429, 422, 409]
    for _ in range(3):
        with pytest.raises(TransientHeadEndError):
            head_end.connect(METER, "c-4")
    for status in (422, 409):
        with pytest.raises(PermanentHeadEndError, match=str(status)):
            head_end.connect(METER, "c-4")
    api.unknown_meters.add(METER)
    with pytest.raises(UnknownMeter, match="knows no meter"):
        head_end.connect(METER, "c-5")
    with pytest.raises(UnknownMeter):
        head_end.relay_state(METER)


def test_a_timeout_and_a_refused_connection_are_passing(api):
    api.slow_requests, api.slow_seconds = 1, 1.0
    with pytest.raises(TransientHeadEndError, match="ReadTimeout"):
        client(api).relay_state(METER)
    nobody = HeadEnd(f"http://127.0.0.1:{free_port()}", timeout=0.5)
    with pytest.raises(TransientHeadEndError, match="ConnectionError"):
        nobody.connect(METER, "c-6")


def test_without_a_head_end_url_no_client_is_made(make_app):
    app = make_app(HEAD_END_URL="")
    with app.app_context(), pytest.raises(HeadEndNotConfigured):
        head_end()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("HEAD_END_COMMAND_HOURS", "22:00-06:00"), ("HEAD_END_COMMAND_DAYS_OFF", "funday")],
)
def test_bad_command_hours_stop_the_start_naming_the_setting(make_app, setting, value):
    with pytest.raises(CallingHoursError, match=setting):
        make_app(**{setting: value})
