"""The HTTP side of a provider's REST stand-in: POSTs (and GETs) in on a local port, JSON out.

A stand-in subclasses ``JsonStandin`` and answers ``answer(path, authorization, body)``
(and, if it serves GETs, ``answer_get(path, authorization)``) with a status and a JSON
object; this class runs the server in a thread.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Json = dict[str, Any]


class JsonStandin:
    """A local HTTP server whose POSTs are answered by ``answer``."""

    media_credentials: tuple[str, str] = ("", "")
    """The Basic credentials a recording on ``recordings`` is served to."""

    def __init__(self, port: int = 0) -> None:
        from tests.support.recordings import RecordingShelf

        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._port = port  # 0: any free port
        self.recordings = RecordingShelf()

    def answer(self, path: str, authorization: str, body: bytes) -> tuple[int, Json]:
        """Return the status and JSON answer to a POST of ``body`` to ``path``."""
        raise NotImplementedError

    def answer_get(self, path: str, authorization: str) -> tuple[int, Json]:
        """Return the status and JSON answer to a GET of ``path`` (none by default)."""
        return 405, {"error": "GET is not served here"}

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> Self:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = standin.answer(
                    self.path, self.headers.get("Authorization", ""), body
                )
                self._reply(status, answer)

            def do_GET(self) -> None:
                # A recording the stand-in holds, else the API's own answer to a GET.
                if standin.recordings.serve(self, standin.media_credentials):
                    return
                status, answer = standin.answer_get(
                    self.path, self.headers.get("Authorization", "")
                )
                self._reply(status, answer)

            def _reply(self, status: int, answer: Json) -> None:
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client stopped waiting (a timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"


def basic_auth(header: str) -> tuple[str, str] | None:
    """Return the (user, password) of an HTTP Basic ``Authorization`` header, or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user, password
