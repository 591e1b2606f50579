"""Outgoing SMS and calls: what the flows may ask of a provider, and the outbox."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import requests.adapters

from core.phone import mask
from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError

log = logging.getLogger("sampark.telephony")

REST_TIMEOUT_SECONDS = 10.0
"""How long one REST call may take before it counts as a passing fault."""

RECORDING_CHUNK_BYTES = 64 * 1024
"""A recording is passed on in pieces of this size, never held whole in memory."""
REST_POOL_SIZE = 64
"""Connections kept open to a provider: a worker sends up to ``SMS_SEND_CONCURRENCY`` SMS
at once (``callqueue.sms_batch``), and requests' default of 10 would open and close a
connection for each send beyond that."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the provider said when it took a message or a call."""

    provider: str
    sid: str
    status: str


@dataclass(frozen=True, slots=True)
class Recording:
    """A call recording being fetched from the provider: its type and its bytes, in pieces."""

    content_type: str
    chunks: Iterator[bytes]
    length: int | None = None


class Provider(Protocol):
    """What the flows may ask of a telephony provider.

    A provider whose ``bridges_calls`` is true also has ``connect(first, then, *,
    caller_id, status_callback, record, timeout)``: it rings the operator and then the
    consumer itself, instead of ringing the operator with the app's bridge script.
    """

    name: str
    bridges_calls: bool
    rings_with_scripts: bool  # place_call can ring a number with the app's call script

    def send_sms(
        self,
        to: str,
        body: str,
        *,
        sender: str,
        status_callback: str | None,
        dlt_template_id: str | None,
    ) -> Receipt: ...

    def place_call(
        self,
        to: str,
        *,
        caller_id: str,
        answer_url: str,
        status_callback: str | None,
        machine_detection: bool = False,
    ) -> Receipt: ...

    def calls_placed(self, to: str, *, caller_id: str, since: datetime) -> list[Receipt] | None:
        """Return the calls to ``to`` from ``caller_id`` the provider took since ``since``.

        For a placement whose answer never came (a read timeout, a worker that died): the
        flows ask this before placing the call again. None means the provider cannot tell.
        """

    def fetch_recording(self, url: str) -> Recording:
        """Fetch a call recording the provider reported, with the provider's credentials."""
        ...


class OutboxProvider:
    """Keep outgoing messages in the outbox table: nothing leaves the machine.

    The message row already is the outbox entry; this provider only acknowledges it, so a
    development machine with no provider account runs every flow end to end.
    """

    name = "outbox"
    bridges_calls = False
    rings_with_scripts = True

    def send_sms(
        self,
        to: str,
        body: str,
        *,
        sender: str,
        status_callback: str | None,
        dlt_template_id: str | None,
    ) -> Receipt:
        log.info("outbox: SMS to %s (%d characters)", mask(to), len(body))
        return Receipt(self.name, f"OB{uuid.uuid4().hex}", "sent")

    def place_call(
        self,
        to: str,
        *,
        caller_id: str,
        answer_url: str,
        status_callback: str | None,
        machine_detection: bool = False,
    ) -> Receipt:
        log.info("outbox: call to %s", mask(to))
        return Receipt(self.name, f"OB{uuid.uuid4().hex}", "queued")

    def calls_placed(self, to: str, *, caller_id: str, since: datetime) -> list[Receipt] | None:
        return None  # it keeps no record of the calls it acknowledged

    def fetch_recording(self, url: str) -> Recording:
        raise PermanentTelephonyError("The outbox places no calls, so it keeps no recordings")


def fetch_media(
    session: requests.Session,
    url: str,
    *,
    provider_title: str,
    allowed_hosts: Iterable[str],
    default_type: str = "audio/mpeg",
) -> Recording:
    """GET a recording with ``session``'s credentials and return it as it streams in.

    Only a URL on one of ``allowed_hosts`` (the provider's own, as ``scheme://host[:port]``)
    is fetched: the credentials never go to a host a forged webhook named.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin not in {host.rstrip("/").lower() for host in allowed_hosts}:
        raise PermanentTelephonyError(f"{provider_title} recording is on a host not its own")
    try:
        answer = session.get(url, timeout=REST_TIMEOUT_SECONDS, stream=True)
    except requests.RequestException as exc:
        raise TransientTelephonyError(
            f"{provider_title} unreachable: {exc.__class__.__name__}"
        ) from exc
    if answer.status_code >= 400:
        answer.close()
        transient = answer.status_code >= 500 or answer.status_code == 429
        kind = TransientTelephonyError if transient else PermanentTelephonyError
        raise kind(f"{provider_title} {answer.status_code}: recording", status=answer.status_code)
    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip()
    if not content_type.startswith("audio/"):
        content_type = default_type
    length = answer.headers.get("Content-Length")

    def chunks() -> Iterator[bytes]:
        with answer:
            yield from answer.iter_content(RECORDING_CHUNK_BYTES)

    return Recording(content_type, chunks(), int(length) if length and length.isdigit() else None)


def rest_session(session: requests.Session | None = None) -> requests.Session:
    """Return an HTTP session for a provider's REST API, its pool sized for parallel sends.

    Given ``session`` (an SDK's own), size that one's pool instead.
    """
    session = session or requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=REST_POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def post_json_api(
    session: requests.Session,
    url: str,
    *,
    provider_title: str,
    error_of: Callable[[dict[str, Any]], object],
    **body: Any,
) -> dict[str, Any]:
    """POST to a provider's REST API and return its JSON answer, or raise ours.

    ``body`` is ``json=`` or ``data=``; ``error_of`` finds the provider's error message in
    its JSON answer. A 5xx, a 429 or no answer is worth trying again later; any other
    error is not.
    """
    try:
        answer = session.post(url, timeout=REST_TIMEOUT_SECONDS, **body)
    except requests.RequestException as exc:
        raise TransientTelephonyError(
            f"{provider_title} unreachable: {exc.__class__.__name__}"
        ) from exc
    try:
        payload = answer.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if answer.status_code >= 400:
        transient = answer.status_code >= 500 or answer.status_code == 429
        kind = TransientTelephonyError if transient else PermanentTelephonyError
        reason = error_of(payload) or answer.reason
        raise kind(f"{provider_title} {answer.status_code}: {reason}", status=answer.status_code)
    return payload
