"""A local stand-in of Exotel's REST API (``Sms/send`` and ``Calls/connect``), for tests.

It answers as Exotel documents its v1 API with the ``.json`` suffix: HTTP Basic auth with
the API key and token, form-encoded requests, ``{"SMSMessage": {"Sid": …, "Status":
"queued", …}}`` for an SMS, ``{"Call": {"Sid": …, "Status": "in-progress", …}}`` for a
connect, and ``{"RestException": {"Status": …, "Message": …}}`` with 400, 401 or 404.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs

from tests.support.json_standin import JsonStandin, basic_auth

Json = dict[str, Any]


class ExotelStandin(JsonStandin):
    """Exotel's ``/v1/Accounts/{sid}/Sms/send.json`` and ``/Calls/connect.json`` locally."""

    def __init__(self, sid: str, api_key: str, api_token: str) -> None:
        super().__init__()
        self.sid = sid
        self.credentials = (api_key, api_token)
        self._messages: list[Json] = []
        self._calls: list[Json] = []
        self._failures: list[tuple[int, str]] = []
        self.media_credentials = self.credentials

    def add_recording(self, name: str) -> str:
        """Keep a call's recording as Exotel does; return its ``RecordingUrl`` here."""
        path = f"/exotelrecordings/{self.sid}/{name}.mp3"
        self.recordings.add(path)
        return self.base_url + path

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
        self.recordings.reset()

    def answer(self, path: str, authorization: str, raw: bytes) -> tuple[int, Json]:
        text = raw.decode(errors="replace")
        form = {name: values[-1] for name, values in parse_qs(text, keep_blank_values=True).items()}
        with self._lock:
            if self._failures:
                status, message = self._failures.pop(0)
                return status, _error(status, message)
        if basic_auth(authorization) != self.credentials:
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
