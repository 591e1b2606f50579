"""A local stand-in of Exotel's REST API (``Sms/send`` and ``Calls/connect``), for tests.

It answers as Exotel documents its v1 API with the ``.json`` suffix: HTTP Basic auth with
the API key and token, form-encoded requests, ``{"SMSMessage": {"Sid": …, "Status":
"queued", …}}`` for an SMS, ``{"Call": {"Sid": …, "Status": "in-progress", …}}`` for a
connect, and ``{"RestException": {"Status": …, "Message": …}}`` with 400, 401 or 404.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs

Json = dict[str, Any]


class ExotelStandin:
    """Exotel's ``/v1/Accounts/{sid}/Sms/send.json`` and ``/Calls/connect.json`` locally."""

    def __init__(self, sid: str, api_key: str, api_token: str) -> None:
        self.sid = sid
        self.credentials = (api_key, api_token)
        self._lock = threading.Lock()
        self._messages: list[Json] = []
        self._calls: list[Json] = []
        self._failures: list[tuple[int, str]] = []
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Self:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                status, answer = standin._answer(
                    self.path, self.headers.get("Authorization", ""), raw
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def messages(self) -> list[Json]:
        """SMS Exotel took: the form sent, with the ``Sid`` given."""
        with self._lock:
            return list(self._messages)

    @property
    def calls(self) -> list[Json]:
        """Connects Exotel made: the form sent, with the ``Sid`` given."""
        with self._lock:
            return list(self._calls)

    def fail_next(self, status: int = 500, message: str = "internal error") -> None:
        with self._lock:
            self._failures.append((status, message))

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._calls.clear()
            self._failures.clear()

    def _answer(self, path: str, authorization: str, raw: str) -> tuple[int, Json]:
        form = {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        with self._lock:
            if self._failures:
                status, message = self._failures.pop(0)
                return status, _error(status, message)
        if _basic_auth(authorization) != self.credentials:
            return 401, _error(401, "Authentication is required to view this resource.")
        prefix = f"/v1/Accounts/{self.sid}/"
        resource = path[len(prefix) :] if path.startswith(prefix) else None
        sid = uuid.uuid4().hex
        if resource == "Sms/send.json":
            missing = [name for name in ("From", "To", "Body") if not form.get(name)]
            if missing:
                return 400, _error(400, f"Missing parameter {missing[0]}")
            with self._lock:
                self._messages.append({**form, "Sid": sid})
            return 200, {"SMSMessage": {"Sid": sid, "Status": "queued", "To": form["To"]}}
        if resource == "Calls/connect.json":
            missing = [name for name in ("From", "To", "CallerId") if not form.get(name)]
            if missing:
                return 400, _error(400, f"Missing parameter {missing[0]}")
            with self._lock:
                self._calls.append({**form, "Sid": sid})
            return 200, {"Call": {"Sid": sid, "Status": "in-progress", "From": form["From"]}}
        return 404, _error(404, "Not found")


def _error(status: int, message: str) -> Json:
    return {"RestException": {"Status": status, "Message": message}}


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user, password
