"""A local stand-in of Plivo's REST API (messages and calls), for tests and development.

It answers as Plivo documents its API: HTTP Basic auth with the auth id and token, JSON
bodies, ``202 {"message": "message(s) queued", "message_uuid": [...]}`` for an SMS,
``201 {"message": "call fired", "request_uuid": ...}`` for a call, and
``{"api_id": ..., "error": ...}`` with 400, 401 or 404 for a bad request. It keeps every
request it was sent, and can be told to fail the next ones.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from tests.support.json_standin import JsonStandin, basic_auth

Json = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received."""

    method: str
    path: str
    auth: tuple[str, str] | None
    body: Json


class PlivoStandin(JsonStandin):
    """Plivo's ``/v1/Account/{auth_id}/Message/`` and ``/Call/`` on a local port."""

    def __init__(self, auth_id: str, auth_token: str) -> None:
        super().__init__()
        self.auth_id = auth_id
        self.auth_token = auth_token
        self._requests: list[RecordedRequest] = []
        self._messages: list[Json] = []
        self._calls: list[Json] = []
        self._failures: list[tuple[int, str]] = []
        self.media_credentials = (auth_id, auth_token)

    def add_recording(self, name: str) -> str:
        """Keep a recording as Plivo's media host would; return its ``RecordUrl`` here."""
        path = f"/v1/Account/{self.auth_id}/Recording/{name}.mp3"
        self.recordings.add(path)
        return self.base_url + path

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[Json]:
        """Messages Plivo took, each the request's JSON with its ``message_uuid``."""
        with self._lock:
            return list(self._messages)

    @property
    def calls(self) -> list[Json]:
        """Calls Plivo fired, each the request's JSON with its ``request_uuid``."""
        with self._lock:
            return list(self._calls)

    def fail_next(self, status: int = 500, error: str = "internal error", times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and ``error``."""
        with self._lock:
            self._failures.extend([(status, error)] * times)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._messages.clear()
            self._calls.clear()
            self._failures.clear()
        self.recordings.reset()

    # -- answering --------------------------------------------------------------------

    def answer(self, path: str, authorization: str, raw: bytes) -> tuple[int, Json]:
        api_id = str(uuid.uuid4())
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        auth = basic_auth(authorization)
        with self._lock:
            self._requests.append(
                RecordedRequest("POST", path, auth, body if isinstance(body, dict) else {})
            )
            if self._failures:
                status, error = self._failures.pop(0)
                return status, {"api_id": api_id, "error": error}
        if auth != (self.auth_id, self.auth_token):
            return 401, {"api_id": api_id, "error": "Authentication credentials invalid"}
        prefix = f"/v1/Account/{self.auth_id}/"
        if not path.startswith(prefix):
            return 404, {"api_id": api_id, "error": "not found"}
        if not isinstance(body, dict):
            return 400, {"api_id": api_id, "error": "invalid JSON body"}
        resource = path[len(prefix) :]
        if resource == "Message/":
            return self._message(api_id, body)
        if resource == "Call/":
            return self._call(api_id, body)
        return 404, {"api_id": api_id, "error": "not found"}

    def _message(self, api_id: str, body: Json) -> tuple[int, Json]:
        missing = [name for name in ("src", "dst", "text") if not body.get(name)]
        if missing:
            return 400, {"api_id": api_id, "error": f"{missing[0]} is a required parameter"}
        message_uuid = str(uuid.uuid4())
        with self._lock:
            self._messages.append({**body, "message_uuid": message_uuid})
        return 202, {
            "api_id": api_id,
            "message": "message(s) queued",
            "message_uuid": [message_uuid],
        }

    def _call(self, api_id: str, body: Json) -> tuple[int, Json]:
        missing = [name for name in ("from", "to", "answer_url") if not body.get(name)]
        if missing:
            return 400, {"api_id": api_id, "error": f"{missing[0]} is a required parameter"}
        request_uuid = str(uuid.uuid4())
        with self._lock:
            self._calls.append({**body, "request_uuid": request_uuid})
        return 201, {"api_id": api_id, "message": "call fired", "request_uuid": request_uuid}
