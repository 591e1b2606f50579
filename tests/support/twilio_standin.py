"""Local stand-in for Twilio's REST API (2010-04-01 Messages and Calls) for tests.

Tests drive the real ``twilio`` SDK against this server instead of
``https://api.twilio.com``: the SDK's HTTP client rewrites the base URL to
``TwilioStandin.base_url``. The stand-in checks HTTP Basic auth, validates the
parameters Twilio rejects most often, answers with Twilio-shaped JSON (resources
and ``{"code", "message", "more_info", "status"}`` errors), and records every
request so tests can assert on exactly what the SDK put on the wire.

Implemented, under ``/2010-04-01/Accounts/{AccountSid}/``:

* ``POST Messages.json`` (create), ``GET Messages.json`` (list, one page),
  ``GET Messages/{Sid}.json`` (fetch);
* ``POST Calls.json`` (create), ``GET Calls.json`` (list, one page),
  ``GET Calls/{Sid}.json`` (fetch), ``POST Calls/{Sid}.json`` (update: ``Status``,
  ``Url``, ``Twiml``).

Anything else under a known resource answers 405 (code 20004); every other
path answers 404 (code 20404).

What it does NOT do:

* send anything: no SMS, no calls, no status-callback or TwiML webhooks. A
  resource only changes status when a test calls ``set_message_status`` /
  ``set_call_status`` or updates a call through the API;
* price, deliver, or look up numbers; "To"/"From" checks are format checks only
  (no Twilio-number ownership, geo permissions, opt-outs or trial limits);
* SmartEncoded character replacement, scheduling validation, pagination (lists
  return every match in one page), or other products (Verify, Conversations...);
* TLS, regions or edges: the SDK must talk plain HTTP to ``base_url``.

Error codes follow Twilio's error dictionary (20003, 20004, 20404, 21201, 21205,
21211, 21212, 21213, 21220, 21602, 21603, 21604, 21617). The message texts and
the code for an invalid call-update ``Status`` (20001) are close approximations.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import socket
import sys
import threading
import traceback
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, urlsplit

from tests.support.recordings import RecordingShelf

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "TWILIO_API_BASE",
    "RecordedRequest",
    "TwilioStandin",
    "sms_encoding",
    "sms_segments",
]

TWILIO_API_BASE = "https://api.twilio.com"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "feedfacecafebeef" * 2
API_VERSION = "2010-04-01"

Json = dict[str, Any]
Resource = Literal["messages", "calls"]

# GSM 03.38 default alphabet (ESC excluded: it only introduces extension characters).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension-table characters cost two septets (ESC + char).
_GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")

# Parameters the SDK serialises as repeated form fields; always exposed as lists.
_REPEATED_PARAMS = frozenset(
    {"MediaUrl", "PersistentAction", "StatusCallbackEvent", "RecordingStatusCallbackEvent"}
)

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")
# Alphanumeric sender IDs: up to 11 characters with at least one letter.
_ALPHA_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_ROUTE = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+)/(?P<resource>Messages|Calls)"
    r"(?:/(?P<sid>[^/]+))?\.json$"
)
_TERMINAL_CALL_STATUSES = frozenset({"completed", "canceled", "failed", "busy", "no-answer"})
_CALL_ADDRESS_PREFIXES = ("client:", "sip:", "sim:")
_MESSAGE_CHANNEL_PREFIXES = ("whatsapp:", "messenger:", "rcs:")
_MAX_BODY_CHARS = 1600

_DEFAULT_ERROR_MESSAGES = {
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service is unavailable. Please try again",
}


def sms_encoding(body: str) -> Literal["GSM-7", "UCS-2"]:
    """Return the encoding Twilio would use for an SMS body."""
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in body):
        return "GSM-7"
    return "UCS-2"


def sms_segments(body: str) -> int:
    """Return the number of SMS segments Twilio would bill for a body."""
    if sms_encoding(body) == "GSM-7":
        costs = [2 if ch in _GSM7_EXTENDED else 1 for ch in body]
        single, per_part = 160, 153
    else:
        # UCS-2 counts UTF-16 code units, so astral characters (emoji) cost two.
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
        single, per_part = 70, 67
    if sum(costs) <= single:
        return 1
    # Fill parts greedily: an escape pair or surrogate pair is never split across parts.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the stand-in received, with the response it gave."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = field(repr=False)
    auth: tuple[str, str] | None
    client_address: tuple[str, int]
    status: int
    response: Json | None = field(default=None, repr=False)

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return a request header, matched case-insensitively."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def param(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of a form (or else query) parameter."""
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else default


@dataclass(frozen=True)
class _Failure:
    status: int
    code: int
    message: str
    resource: Resource | None


class _ApiError(Exception):
    """Abort request handling with a Twilio error response."""

    def __init__(self, status: int, code: int, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def payload(self) -> Json:
        """Return Twilio's legacy error JSON for this error."""
        body: Json = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        return body


class _Server(ThreadingHTTPServer):
    """Threading HTTP server that can force its keep-alive connections closed."""

    # The default backlog of 5 drops SYNs under a burst of concurrent sends, which
    # costs clients a 1 s retransmit.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], standin: TwilioStandin) -> None:
        self.standin = standin
        self._connections: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Track daemon handler threads ourselves: ThreadingMixIn only joins non-daemon
        # ones, and non-daemon ones would block interpreter exit if stop() is forgotten.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"twilio-standin-conn:{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections.add(request)
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down idle keep-alive sockets so their handler threads can exit."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A response cut off by stop() closing its socket is expected, not a bug.
        if self.standin._stopping.is_set() and isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def join_handlers(self, timeout: float) -> None:
        """Wait for every connection handler thread to finish."""
        with self._connections_lock:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join(timeout)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.1 so the SDK's requests.Session keeps connections alive as with Twilio.
    protocol_version = "HTTP/1.1"
    server_version = "twilio-standin"
    # A client that goes silent must not pin a handler thread forever.
    timeout = 30
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # stalls every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; requests are recorded on the stand-in instead."""

    def do_GET(self) -> None:
        """Handle a GET request: a recording's media, or the REST API."""
        standin = self.server.standin
        if not standin.recordings.serve(self, (standin.account_sid, standin.auth_token)):
            self._dispatch()

    def do_POST(self) -> None:
        """Handle a POST request."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Handle a PUT request."""
        self._dispatch()

    def do_PATCH(self) -> None:
        """Handle a PATCH request."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Handle a DELETE request."""
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, extra_headers = self.server.standin._handle(
            self.command, self.path, dict(self.headers.items()), body, self.client_address
        )
        data = json.dumps(payload).encode("utf-8") if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class TwilioStandin:
    """Serve a fake Twilio REST API on 127.0.0.1 and record what clients send."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # One lock guards all state; the condition lets tests wait for background sends.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._messages: list[Json] = []
        self._calls: list[Json] = []
        self._message_resources: dict[str, Json] = {}
        self._call_resources: dict[str, Json] = {}
        self._failures: deque[_Failure] = deque()
        self._delay = 0.0
        self.recordings = RecordingShelf()

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        """Bind the port and serve requests from a background thread."""
        if self._server is not None:
            raise RuntimeError("TwilioStandin is already running")
        self._stopping.clear()
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},  # bounds how long stop() waits
            name=f"twilio-standin:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join all server threads."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # cut injected delays short
        server.shutdown()
        server.close_connections()
        server.server_close()
        # Handlers exit as soon as their socket is shut down; the timeout only
        # guards against a handler stuck in a test's own code.
        server.join_handlers(timeout=5.0)
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"<TwilioStandin {self.account_sid} {where}>"

    @property
    def base_url(self) -> str:
        """Return the URL that replaces ``https://api.twilio.com``."""
        if self._server is None:
            raise RuntimeError("TwilioStandin is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- recorded traffic ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[Json]:
        """Return the decoded parameters of each created message, plus its ``sid``."""
        with self._lock:
            return copy.deepcopy(self._messages)

    @property
    def calls(self) -> list[Json]:
        """Return the decoded parameters of each created call, plus its ``sid``."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def message_resource(self, sid: str) -> Json | None:
        """Return the message JSON Twilio would serve now, or None if unknown."""
        with self._lock:
            resource = self._message_resources.get(sid)
            return copy.deepcopy(resource) if resource is not None else None

    def call_resource(self, sid: str) -> Json | None:
        """Return the call JSON Twilio would serve now, or None if unknown."""
        with self._lock:
            resource = self._call_resources.get(sid)
            return copy.deepcopy(resource) if resource is not None else None

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[Json]:
        """Block until at least ``count`` messages were created; return them."""
        return self._wait_for(self._messages, "messages", count, timeout)

    def wait_for_calls(self, count: int, timeout: float = 5.0) -> list[Json]:
        """Block until at least ``count`` calls were created; return them."""
        return self._wait_for(self._calls, "calls", count, timeout)

    def _wait_for(self, records: list[Json], what: str, count: int, timeout: float) -> list[Json]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(records) >= count, timeout):
                raise TimeoutError(
                    f"expected at least {count} {what} within {timeout}s, got {len(records)}"
                )
            return copy.deepcopy(records)

    # -- test controls -----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        code: int = 20500,
        message: str | None = None,
        *,
        resource: Resource | None = None,
    ) -> None:
        """Make the next ``n`` create requests (optionally of one resource) fail."""
        if resource not in (None, "messages", "calls"):
            raise ValueError(f"resource must be 'messages', 'calls' or None, not {resource!r}")
        if message is None:
            message = _DEFAULT_ERROR_MESSAGES.get(code, HTTPStatus(status).phrase)
        with self._lock:
            self._failures.extend(_Failure(status, code, message, resource) for _ in range(n))

    def delay(self, seconds: float) -> None:
        """Delay every following response by ``seconds`` (0 turns it off)."""
        with self._lock:
            self._delay = max(0.0, seconds)

    def reset(self) -> None:
        """Forget recorded requests, resources, injected failures and delay."""
        with self._lock:
            self._requests.clear()
            self._messages.clear()
            self._calls.clear()
            self._message_resources.clear()
            self._call_resources.clear()
            self._failures.clear()
            self._delay = 0.0
        self.recordings.reset()

    def add_recording(self, sid: str) -> str:
        """Keep a recording as Twilio does; return its ``RecordingUrl`` (no suffix) on Twilio.

        The app turns Twilio's host into this stand-in's, as the SDK's requests are.
        """
        path = f"/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"
        self.recordings.add(path + ".mp3")
        return "https://api.twilio.com" + path

    def set_message_status(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> Json:
        """Move a message to a new status, as Twilio would after delivery attempts."""
        with self._lock:
            resource = self._message_resources[sid]
            now = _rfc2822_now()
            resource.update(
                status=status,
                error_code=error_code,
                error_message=error_message,
                date_updated=now,
            )
            if status in {"sent", "delivered"} and resource["date_sent"] is None:
                resource["date_sent"] = now
            return copy.deepcopy(resource)

    def set_call_status(
        self,
        sid: str,
        status: str,
        *,
        duration: int | None = None,
        answered_by: str | None = None,
    ) -> Json:
        """Move a call to a new status, as Twilio would while the call progresses."""
        with self._lock:
            resource = self._call_resources[sid]
            _transition_call(resource, status)
            if duration is not None:
                resource["duration"] = str(duration)
            if answered_by is not None:
                resource["answered_by"] = answered_by
            return copy.deepcopy(resource)

    # -- request handling (runs on server threads) ----------------------------------

    def _handle(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        client_address: tuple[str, int],
    ) -> tuple[int, Json | None, dict[str, str]]:
        """Answer one request and record it."""
        with self._lock:
            delay = self._delay
        if delay:
            self._stopping.wait(delay)
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        if "x-www-form-urlencoded" in _get_header(headers, "Content-Type", ""):
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        auth = _basic_auth(_get_header(headers, "Authorization", ""))
        extra_headers: dict[str, str] = {}
        with self._lock:
            try:
                if auth != (self.account_sid, self.auth_token):
                    extra_headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
                    raise _ApiError(
                        401, 20003, "Authenticate", "Your AccountSid or AuthToken was incorrect."
                    )
                status, payload = self._route(method, url.path, query, form)
            except _ApiError as error:
                status, payload = error.status, error.payload()
            except Exception as error:
                # Answer instead of dropping the connection so a stand-in bug fails fast.
                traceback.print_exc(file=sys.stderr)
                status = 500
                payload = _ApiError(500, 20500, f"Twilio stand-in crashed: {error!r}").payload()
            self._requests.append(
                RecordedRequest(
                    method=method,
                    path=url.path,
                    query=query,
                    form=form,
                    headers=headers,
                    body=body,
                    auth=auth,
                    client_address=(client_address[0], client_address[1]),
                    status=status,
                    response=payload,
                )
            )
            self._changed.notify_all()
        return status, payload, extra_headers

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
    ) -> tuple[int, Json]:
        """Dispatch to the endpoint for ``path``; caller holds the lock."""
        match = _ROUTE.match(path)
        if match is None or match["account"] != self.account_sid:
            raise _not_found(path)
        resource, sid = match["resource"], match["sid"]
        if sid is None and method == "POST":
            self._raise_injected_failure("messages" if resource == "Messages" else "calls")
            if resource == "Messages":
                return 201, self._create_message(form)
            return 201, self._create_call(form)
        if sid is None and method == "GET":
            return 200, self._list(resource, path, query)
        store = self._message_resources if resource == "Messages" else self._call_resources
        if sid is not None and method == "GET":
            if sid not in store:
                raise _not_found(path)
            return 200, copy.deepcopy(store[sid])
        if sid is not None and method == "POST" and resource == "Calls":
            if sid not in store:
                raise _not_found(path)
            return 200, self._update_call(store[sid], form)
        raise _ApiError(405, 20004, "Method not allowed")

    def _raise_injected_failure(self, resource: Resource) -> None:
        failure = next((f for f in self._failures if f.resource in (None, resource)), None)
        if failure is not None:
            self._failures.remove(failure)
            raise _ApiError(failure.status, failure.code, failure.message)

    def _create_message(self, form: dict[str, list[str]]) -> Json:
        params = _decode_params(form)
        to = params.get("To") or ""
        from_ = params.get("From") or ""
        service_sid = params.get("MessagingServiceSid") or ""
        body = params.get("Body") or ""
        media = [url for url in params.get("MediaUrl", []) if url]
        if not to:
            raise _ApiError(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service_sid:
            raise _ApiError(400, 21603, "A 'From' phone number is required.")
        if not body and not media and not params.get("ContentSid"):
            raise _ApiError(400, 21602, "Message body is required.")
        if not _valid_message_address(to, sender=False):
            raise _ApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if from_ and not _valid_message_address(from_, sender=True):
            raise _ApiError(
                400,
                21212,
                f"The 'From' number {from_} is not a valid phone number, shortcode, "
                "or alphanumeric sender ID.",
            )
        if len(body) > _MAX_BODY_CHARS:
            raise _ApiError(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )

        sid = "SM" + secrets.token_hex(16)
        now = _rfc2822_now()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        if params.get("ScheduleType") == "fixed" and params.get("SendAt"):
            status = "scheduled"
        elif from_:
            status = "queued"
        else:
            # A Messaging Service picks the sender later, so Twilio reports "accepted".
            status = "accepted"
        resource: Json = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_ or None,
            "messaging_service_sid": service_sid or None,
            "num_media": str(len(media)),
            "num_segments": str(sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {
                "media": uri.replace(".json", "/Media.json"),
                "feedback": uri.replace(".json", "/Feedback.json"),
            },
            "to": to,
            "uri": uri,
        }
        self._message_resources[sid] = resource
        self._messages.append({**params, "sid": sid})
        return copy.deepcopy(resource)

    def _create_call(self, form: dict[str, list[str]]) -> Json:
        params = _decode_params(form)
        to = params.get("To") or ""
        from_ = params.get("From") or ""
        url = params.get("Url") or ""
        if not to:
            raise _ApiError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise _ApiError(400, 21213, "No 'From' number is specified")
        if not url and not params.get("Twiml") and not params.get("ApplicationSid"):
            raise _ApiError(400, 21205, "Url parameter is required.")
        if url and not re.match(r"^https?://[^/\s]+", url):
            raise _ApiError(400, 21205, f"Url is not a valid URL: {url}")
        if not _valid_call_address(to):
            raise _ApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not _valid_call_address(from_):
            raise _ApiError(400, 21212, f"The 'From' number {from_} is not a valid phone number.")

        sid = "CA" + secrets.token_hex(16)
        now = _rfc2822_now()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}.json"
        base = uri.removesuffix(".json")
        resource: Json = {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": from_,
            "from_formatted": _formatted_number(from_),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": "PN" + secrets.token_hex(16),
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "stir_verstat": None,
            "subresource_uris": {
                name: f"{base}/{name.title().replace('_', '')}.json"
                for name in (
                    "events",
                    "feedback",
                    "notifications",
                    "payments",
                    "recordings",
                    "siprec",
                    "streams",
                    "transcriptions",
                    "user_defined_messages",
                )
            },
            "to": to,
            "to_formatted": _formatted_number(to),
            "trunk_sid": None,
            "uri": uri,
        }
        self._call_resources[sid] = resource
        self._calls.append({**params, "sid": sid})
        return copy.deepcopy(resource)

    def _update_call(self, resource: Json, form: dict[str, list[str]]) -> Json:
        params = _decode_params(form)
        status = params.get("Status")
        current = resource["status"]
        if status is not None:
            if status not in {"completed", "canceled"}:
                raise _ApiError(
                    400, 20001, f"Status must be one of 'canceled' or 'completed', not {status!r}"
                )
            # "canceled" only hangs up calls that have not been answered yet.
            if current not in _TERMINAL_CALL_STATUSES and (
                status == "completed" or current in {"queued", "ringing"}
            ):
                _transition_call(resource, status)
        elif params.get("Url") or params.get("Twiml"):
            if current in _TERMINAL_CALL_STATUSES:
                raise _ApiError(400, 21220, "Call is not in-progress. Cannot redirect.")
            resource["date_updated"] = _rfc2822_now()
        return copy.deepcopy(resource)

    def _list(self, resource: str, path: str, query: dict[str, list[str]]) -> Json:
        store = self._message_resources if resource == "Messages" else self._call_resources
        filters = {
            field_name: query[param][0]
            for param, field_name in (("To", "to"), ("From", "from"), ("Status", "status"))
            if query.get(param)
        }
        # Twilio lists newest first.
        records = [
            copy.deepcopy(item)
            for item in reversed(store.values())
            if all(item.get(key) == value for key, value in filters.items())
        ]
        return {
            resource.lower(): records,
            "end": max(len(records) - 1, 0),
            "first_page_uri": path,
            "next_page_uri": None,
            "page": 0,
            "page_size": len(records),
            "previous_page_uri": None,
            "start": 0,
            "uri": path,
        }


def _transition_call(resource: Json, status: str) -> None:
    """Set a call's status and the timestamps Twilio fills in with it."""
    now = _rfc2822_now()
    if status in {"in-progress", "completed"} and resource["start_time"] is None:
        resource["start_time"] = now
    if status in _TERMINAL_CALL_STATUSES:
        resource["end_time"] = now
        if resource["duration"] is None:
            resource["duration"] = "0"
    resource["status"] = status
    resource["date_updated"] = now


def _decode_params(form: Mapping[str, list[str]]) -> Json:
    """Flatten form fields: last value wins, except repeatable ones stay lists."""
    return {
        name: list(values) if name in _REPEATED_PARAMS else values[-1]
        for name, values in form.items()
    }


def _valid_message_address(value: str, *, sender: bool) -> bool:
    for prefix in _MESSAGE_CHANNEL_PREFIXES:
        if value.startswith(prefix):
            value = value.removeprefix(prefix)
            break
    if _E164.match(value):
        return True
    return sender and bool(_SHORT_CODE.match(value) or _ALPHA_SENDER.match(value))


def _valid_call_address(value: str) -> bool:
    return value.startswith(_CALL_ADDRESS_PREFIXES) or bool(_E164.match(value))


def _formatted_number(number: str) -> str:
    """Format like Twilio: (NXX) NXX-XXXX for NANP numbers, E.164 otherwise."""
    if re.fullmatch(r"\+1\d{10}", number):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _get_header(headers: Mapping[str, str], name: str, default: str) -> str:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), default)


def _not_found(path: str) -> _ApiError:
    return _ApiError(404, 20404, f"The requested resource {path} was not found")


def _rfc2822_now() -> str:
    return format_datetime(datetime.now(UTC).replace(microsecond=0))
