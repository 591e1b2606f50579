"""Call recordings a provider stand-in keeps and serves, as the providers do: behind HTTP Basic.

A stand-in keeps a ``RecordingShelf``; a test puts a recording on it at the path the
provider would (``add``) and reads back who fetched it (``fetches``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.support.json_standin import basic_auth

FAKE_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 300
"""Bytes that start like an MP3 file, long enough to arrive in several pieces."""


@dataclass(frozen=True)
class Fetch:
    """One GET of a recording: its path and the credentials it carried."""

    path: str
    auth: tuple[str, str] | None
    status: int


class RecordingShelf:
    """Recordings by path, served to a GET carrying the right credentials."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, tuple[bytes, str]] = {}
        self._fetches: list[Fetch] = []
        self._failures: list[int] = []

    def fail_next(self, status: int = 503) -> None:
        """Answer the next fetch with ``status`` (the provider in trouble)."""
        with self._lock:
            self._failures.append(status)

    def add(self, path: str, data: bytes = FAKE_MP3, content_type: str = "audio/mpeg") -> None:
        with self._lock:
            self._files[path] = (data, content_type)

    @property
    def fetches(self) -> list[Fetch]:
        with self._lock:
            return list(self._fetches)

    def reset(self) -> None:
        with self._lock:
            self._files.clear()
            self._fetches.clear()
            self._failures.clear()

    def serve(self, handler: BaseHTTPRequestHandler, credentials: tuple[str, str]) -> bool:
        """Answer a GET for a recording on the shelf; False when the path holds none."""
        with self._lock:
            found = self._files.get(handler.path)
        if found is None:
            return False
        auth = basic_auth(handler.headers.get("Authorization", ""))
        status = 200 if auth == credentials else 401
        with self._lock:
            if self._failures:
                status = self._failures.pop(0)
            self._fetches.append(Fetch(handler.path, auth, status))
        data, content_type = found if status == 200 else (b"Not served", "text/plain")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        return True
