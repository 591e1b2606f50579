"""Drive the real twilio SDK against TwilioStandin and check it answers like Twilio."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import twilio
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from .twilio_standin import TWILIO_API_BASE, TwilioStandin, sms_encoding, sms_segments

TO = "+919876543210"
FROM = "+14155550100"
# 100 Devanagari code points: UCS-2, so 67 per part -> 2 segments.
HINDI_100 = ("बिजली कटौती की शिकायत दर्ज हो गई है। " * 4)[:100]


class StandinHttpClient(TwilioHttpClient):
    """Send the SDK's api.twilio.com requests to a stand-in base URL instead."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Rewrite the Twilio API host, then send as the SDK normally would."""
        if url.startswith(TWILIO_API_BASE):
            url = self.base_url + url[len(TWILIO_API_BASE) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


@pytest.fixture
def standin() -> Iterator[TwilioStandin]:
    """Run a fresh stand-in for one test."""
    with TwilioStandin() as server:
        yield server


def make_client(standin: TwilioStandin, **kwargs: Any) -> tuple[Client, StandinHttpClient]:
    """Build a real twilio Client pointed at the stand-in."""
    http_client = StandinHttpClient(standin.base_url, timeout=5)
    kwargs.setdefault("username", standin.account_sid)
    kwargs.setdefault("password", standin.auth_token)
    return Client(http_client=http_client, **kwargs), http_client


@pytest.fixture
def client(standin: TwilioStandin) -> Iterator[Client]:
    """Yield a twilio Client for the stand-in and close its pooled connections."""
    sdk_client, http_client = make_client(standin)
    yield sdk_client
    assert http_client.session is not None
    http_client.session.close()


def rest_error(call: Any, *args: Any, **kwargs: Any) -> TwilioRestException:
    """Call an SDK method that must fail and return the raised exception."""
    with pytest.raises(TwilioRestException) as excinfo:
        call(*args, **kwargs)
    return excinfo.value


# -- messages ---------------------------------------------------------------------


def test_message_create_returns_twilio_like_resource(
    standin: TwilioStandin, client: Client
) -> None:
    assert len(HINDI_100) == 100
    message = client.messages.create(
        to=TO, from_=FROM, body=HINDI_100, status_callback="https://app.example/sms/status"
    )

    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.num_segments == "2"
    assert (message.to, message.from_, message.body) == (TO, FROM, HINDI_100)
    assert message.account_sid == standin.account_sid
    assert message.direction == "outbound-api"
    assert message.price is None and message.error_code is None
    assert message.num_media == "0"
    assert message.uri == f"/2010-04-01/Accounts/{standin.account_sid}/Messages/{message.sid}.json"
    assert message.date_created is not None
    assert abs(datetime.now(UTC) - message.date_created) < timedelta(minutes=1)


def test_message_create_records_what_the_sdk_sent(standin: TwilioStandin, client: Client) -> None:
    message = client.messages.create(
        to=TO, from_=FROM, body="Your complaint is registered", status_callback="https://cb"
    )

    [recorded] = standin.messages
    assert recorded == {
        "To": TO,
        "From": FROM,
        "Body": "Your complaint is registered",
        "StatusCallback": "https://cb",
        "sid": message.sid,
    }
    [request] = standin.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{standin.account_sid}/Messages.json"
    assert request.form["To"] == [TO]
    assert request.param("Body") == "Your complaint is registered"
    assert request.status == 201
    assert request.auth == (standin.account_sid, standin.auth_token)
    assert (request.header("authorization") or "").startswith("Basic ")
    assert (request.header("User-Agent") or "").startswith(f"twilio-python/{twilio.__version__}")
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"


def test_message_fetch_returns_the_stored_message(standin: TwilioStandin, client: Client) -> None:
    created = client.messages.create(to=TO, from_=FROM, body="hello")
    standin.set_message_status(created.sid, "delivered")

    fetched = client.messages(created.sid).fetch()

    assert fetched.sid == created.sid
    assert fetched.body == "hello"
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None
    assert standin.requests[-1].method == "GET"


def test_message_via_messaging_service_is_accepted(client: Client) -> None:
    service_sid = "MG" + "ab" * 16
    message = client.messages.create(to=TO, messaging_service_sid=service_sid, body="hi")

    assert message.status == "accepted"
    assert message.from_ is None
    assert message.messaging_service_sid == service_sid


def test_media_urls_are_recorded_as_a_list(standin: TwilioStandin, client: Client) -> None:
    message = client.messages.create(to=TO, from_=FROM, media_url=["https://img.example/bill.png"])

    assert message.num_media == "1"
    assert standin.messages[0]["MediaUrl"] == ["https://img.example/bill.png"]


def test_message_list_filters_by_recipient(client: Client) -> None:
    client.messages.create(to=TO, from_=FROM, body="one")
    client.messages.create(to="+919812345678", from_=FROM, body="two")

    listed = client.messages.list(to=TO)

    assert [m.body for m in listed] == ["one"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        pytest.param({"to": None, "from_": FROM, "body": "x"}, 21604, id="missing-to"),
        pytest.param({"to": TO, "from_": FROM}, 21602, id="missing-body"),
        pytest.param({"to": TO, "body": "x"}, 21603, id="missing-from"),
        pytest.param({"to": "9876543210", "from_": FROM, "body": "x"}, 21211, id="bad-to"),
        pytest.param({"to": TO, "from_": "+1-415", "body": "x"}, 21212, id="bad-from"),
        pytest.param({"to": TO, "from_": FROM, "body": "x" * 1601}, 21617, id="too-long"),
    ],
)
def test_message_validation_errors(
    standin: TwilioStandin, client: Client, kwargs: dict[str, Any], code: int
) -> None:
    error = rest_error(client.messages.create, **kwargs)

    assert (error.status, error.code) == (400, code)
    assert standin.messages == []
    response = standin.requests[0].response or {}
    assert set(response) == {"code", "message", "more_info", "status"}
    assert response["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension chars cost two septets
        ("€" * 81, "GSM-7", 2),
        ("a" * 152 + "€" + "a" * 8, "GSM-7", 2),  # escape pair is not split across parts
        ("अ" * 70, "UCS-2", 1),
        ("अ" * 71, "UCS-2", 2),
        ("अ" * 134, "UCS-2", 2),
        ("अ" * 135, "UCS-2", 3),
        (HINDI_100, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # surrogate pairs: two UTF-16 units each
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_sms_segments_follow_twilio_rules(body: str, encoding: str, segments: int) -> None:
    assert sms_encoding(body) == encoding
    assert sms_segments(body) == segments


# -- calls ------------------------------------------------------------------------


def test_call_create_records_repeated_status_callback_events(
    standin: TwilioStandin, client: Client
) -> None:
    call = client.calls.create(
        to=TO,
        from_=FROM,
        url="https://app.example/ivr/answer",
        status_callback="https://app.example/ivr/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        machine_detection="Enable",
        timeout=25,
        record=True,
    )

    assert call.sid is not None and call.sid.startswith("CA") and len(call.sid) == 34
    assert call.status == "queued"
    assert call.direction == "outbound-api"
    assert (call.to, call._from) == (TO, FROM)
    assert call.account_sid == standin.account_sid
    [recorded] = standin.calls
    assert recorded["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert recorded["MachineDetection"] == "Enable"
    assert recorded["Timeout"] == "25"
    assert recorded["Record"] == "true"
    assert recorded["sid"] == call.sid
    assert standin.requests[0].form["StatusCallbackEvent"] == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]


def test_call_create_with_inline_twiml(standin: TwilioStandin, client: Client) -> None:
    twiml = "<Response><Say>Namaste</Say></Response>"
    call = client.calls.create(to=TO, from_=FROM, twiml=twiml)

    assert call.status == "queued"
    assert standin.calls[0]["Twiml"] == twiml


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        pytest.param({"to": TO, "from_": FROM}, 21205, id="no-url-or-twiml"),
        pytest.param({"to": TO, "from_": FROM, "url": "not a url"}, 21205, id="bad-url"),
        pytest.param({"to": None, "from_": FROM, "url": "https://x"}, 21201, id="missing-to"),
        pytest.param({"to": TO, "from_": None, "url": "https://x"}, 21213, id="missing-from"),
        pytest.param({"to": "12345", "from_": FROM, "url": "https://x"}, 21211, id="bad-to"),
    ],
)
def test_call_validation_errors(
    standin: TwilioStandin, client: Client, kwargs: dict[str, Any], code: int
) -> None:
    error = rest_error(client.calls.create, **kwargs)

    assert (error.status, error.code) == (400, code)
    assert standin.calls == []


def test_call_update_completed_hangs_up(standin: TwilioStandin, client: Client) -> None:
    call = client.calls.create(to=TO, from_=FROM, url="https://x/answer")

    updated = client.calls(call.sid).update(status="completed")

    assert updated.status == "completed"
    assert updated.end_time is not None
    assert client.calls(call.sid).fetch().status == "completed"
    assert (standin.call_resource(call.sid) or {})["status"] == "completed"
    update = standin.requests[1]
    assert (update.method, update.form) == ("POST", {"Status": ["completed"]})
    assert update.path.endswith(f"/Calls/{call.sid}.json")


def test_call_update_cancel_leaves_answered_call_alone(
    standin: TwilioStandin, client: Client
) -> None:
    call = client.calls.create(to=TO, from_=FROM, url="https://x/answer")
    standin.set_call_status(call.sid, "in-progress", answered_by="human")

    assert client.calls(call.sid).update(status="canceled").status == "in-progress"
    assert client.calls(call.sid).update(url="https://x/next").status == "in-progress"


def test_call_update_errors(client: Client) -> None:
    call = client.calls.create(to=TO, from_=FROM, url="https://x/answer")
    client.calls(call.sid).update(status="completed")

    redirect = rest_error(client.calls(call.sid).update, url="https://x/next")
    bad_status = rest_error(client.calls(call.sid).update, status="ringing")

    assert (redirect.status, redirect.code) == (400, 21220)
    assert (bad_status.status, bad_status.code) == (400, 20001)


# -- auth, unknown resources ------------------------------------------------------


def test_wrong_auth_token_is_rejected(standin: TwilioStandin) -> None:
    sdk_client, http_client = make_client(standin, password="not-the-token")
    try:
        error = rest_error(sdk_client.messages.create, to=TO, from_=FROM, body="x")
    finally:
        assert http_client.session is not None
        http_client.session.close()

    assert (error.status, error.code) == (401, 20003)
    assert "Authenticate" in error.msg
    assert standin.messages == []
    assert standin.requests[0].status == 401


def test_unknown_sid_and_resource_give_404(standin: TwilioStandin, client: Client) -> None:
    missing_sid = "SM" + "0" * 32

    missing = rest_error(client.messages(missing_sid).fetch)
    unknown = rest_error(client.queues("QU" + "0" * 32).fetch)

    assert (missing.status, missing.code) == (404, 20404)
    assert f"/Messages/{missing_sid}.json was not found" in missing.msg
    assert (unknown.status, unknown.code) == (404, 20404)


def test_other_account_in_path_gives_404(standin: TwilioStandin) -> None:
    sdk_client, http_client = make_client(standin, account_sid="AC" + "f" * 32)
    try:
        error = rest_error(sdk_client.messages.create, to=TO, from_=FROM, body="x")
    finally:
        assert http_client.session is not None
        http_client.session.close()

    assert (error.status, error.code) == (404, 20404)


def test_raw_http_error_shapes(standin: TwilioStandin) -> None:
    credentials = (standin.account_sid, standin.auth_token)
    with requests.Session() as session:
        not_found = session.get(f"{standin.base_url}/nope", auth=credentials, timeout=5)
        no_auth = session.get(f"{standin.base_url}/2010-04-01/Accounts.json", timeout=5)

    assert not_found.status_code == 404
    assert not_found.json() == {
        "code": 20404,
        "message": "The requested resource /nope was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    assert no_auth.status_code == 401
    assert no_auth.json()["code"] == 20003
    assert no_auth.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'


# -- failure injection, delay, reset, waiting ---------------------------------------


def test_fail_next_fails_once_then_succeeds(standin: TwilioStandin, client: Client) -> None:
    standin.fail_next()

    error = rest_error(client.messages.create, to=TO, from_=FROM, body="retry me")
    message = client.messages.create(to=TO, from_=FROM, body="retry me")

    assert (error.status, error.code) == (500, 20500)
    assert message.status == "queued"
    assert [r.status for r in standin.requests] == [500, 201]
    assert [m["sid"] for m in standin.messages] == [message.sid]


def test_fail_next_can_target_one_resource(standin: TwilioStandin, client: Client) -> None:
    standin.fail_next(2, status=429, code=20429, resource="calls")

    client.messages.create(to=TO, from_=FROM, body="unaffected")
    first = rest_error(client.calls.create, to=TO, from_=FROM, url="https://x")
    second = rest_error(client.calls.create, to=TO, from_=FROM, url="https://x")
    call = client.calls.create(to=TO, from_=FROM, url="https://x")

    assert (first.status, first.code, second.code) == (429, 20429, 20429)
    assert "Too Many Requests" in first.msg
    assert call.status == "queued"


def test_delay_and_reset(standin: TwilioStandin, client: Client) -> None:
    standin.delay(0.3)
    started = time.monotonic()
    client.messages.create(to=TO, from_=FROM, body="slow")
    assert time.monotonic() - started >= 0.3

    standin.fail_next(3)
    standin.reset()

    assert standin.requests == [] and standin.messages == [] and standin.calls == []
    started = time.monotonic()
    client.messages.create(to=TO, from_=FROM, body="fast and successful")
    assert time.monotonic() - started < 0.3  # delay was cleared


def test_wait_for_messages_sees_background_sends(standin: TwilioStandin, client: Client) -> None:
    def send_later() -> None:
        time.sleep(0.05)
        client.messages.create(to=TO, from_=FROM, body="from a worker")

    worker = threading.Thread(target=send_later)
    worker.start()
    try:
        [message] = standin.wait_for_messages(1, timeout=5)
    finally:
        worker.join()

    assert message["Body"] == "from a worker"
    with pytest.raises(TimeoutError):
        standin.wait_for_messages(2, timeout=0.05)


# -- concurrency, keep-alive, shutdown --------------------------------------------


def test_concurrent_sends_from_threads(standin: TwilioStandin, client: Client) -> None:
    barrier = threading.Barrier(20)

    def send(i: int) -> str:
        barrier.wait(timeout=5)
        return client.messages.create(to=TO, from_=FROM, body=f"msg {i}").sid or ""

    with ThreadPoolExecutor(max_workers=20) as pool:
        sids = list(pool.map(send, range(20)))

    assert len(set(sids)) == 20
    assert sorted(m["Body"] for m in standin.messages) == sorted(f"msg {i}" for i in range(20))
    assert all(r.status == 201 for r in standin.requests)


def test_sequential_sends_reuse_one_keep_alive_connection(
    standin: TwilioStandin, client: Client
) -> None:
    for i in range(5):
        client.messages.create(to=TO, from_=FROM, body=f"msg {i}")

    assert len({r.client_address for r in standin.requests}) == 1


def test_stop_closes_open_keep_alive_connections_promptly() -> None:
    threads_before = threading.active_count()
    standin = TwilioStandin().start()
    sdk_client, http_client = make_client(standin)
    sdk_client.messages.create(to=TO, from_=FROM, body="x")  # leaves a pooled connection open

    started = time.monotonic()
    standin.stop()
    elapsed = time.monotonic() - started
    assert http_client.session is not None
    http_client.session.close()

    assert elapsed < 1.0
    assert threading.active_count() == threads_before
    with pytest.raises(RuntimeError):
        _ = standin.base_url
