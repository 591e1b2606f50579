"""A small HTTP/1.1 load generator: N concurrent clients sending prepared requests.

Each client opens a new connection every ``requests_per_connection`` requests. Twilio's
webhooks come from many hosts; and with long keep-alive connections, whichever gunicorn
worker accepted them first would get all the load while the others idle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator


@dataclass
class LoadResult:
    """What one load run measured."""

    sent: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: set[bytes] = field(default_factory=set)
    server_cpu_seconds: float = 0.0  # user + system time of the server's processes

    @property
    def throughput(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        """Server CPU time per request: steadier than throughput on a busy machine."""
        return self.server_cpu_seconds / self.sent * 1e6 if self.sent else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def signed_post(
    path: str, params: dict[str, str], *, host: str, public_url: str, token: str
) -> bytes:
    """Return the raw HTTP request Twilio would send: form-encoded and signed for ``public_url``."""
    body = urlencode(params).encode()
    signature = RequestValidator(token).compute_signature(public_url + path, params)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _client(
    host: str,
    port: int,
    requests: Sequence[bytes],
    next_index: list[int],
    result: LoadResult,
    requests_per_connection: int,
) -> None:
    while next_index[0] < len(requests):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in range(requests_per_connection):
                if next_index[0] >= len(requests):
                    break
                request = requests[next_index[0]]
                next_index[0] += 1
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.bodies.add(body)
                result.sent += 1
        finally:
            writer.close()
            await writer.wait_closed()


def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    connections: int,
    requests_per_connection: int = 10,
) -> LoadResult:
    """Send every request once from ``connections`` concurrent clients; time it all."""
    result = LoadResult()
    next_index = [0]

    async def main() -> None:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _client(host, port, requests, next_index, result, requests_per_connection)
                for _ in range(connections)
            )
        )
        result.seconds = time.perf_counter() - started

    asyncio.run(main())
    return result
