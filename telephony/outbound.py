"""Outgoing SMS and calls: Twilio's REST API through its SDK, or the outbox."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from core.phone import mask
from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError

log = logging.getLogger("sampark.telephony")

TWILIO_API_HOST = "https://api.twilio.com"
REST_TIMEOUT_SECONDS = 10.0
"""How long one REST call may take before it counts as a passing fault."""

_RETRYABLE_CODES = {20429, 20500, 20503}
"""Twilio error codes that mean "later" rather than "never" (rate limit, their fault)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the provider said when it took a message or a call."""

    provider: str
    sid: str
    status: str


class Provider(Protocol):
    """What the flows may ask of a telephony provider."""

    name: str

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


class OutboxProvider:
    """Keep outgoing messages in the outbox table: nothing leaves the machine.

    The message row already is the outbox entry; this provider only acknowledges it, so a
    development machine with no Twilio account runs every flow end to end.
    """

    name = "outbox"

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


class _RebasedHttpClient(TwilioHttpClient):
    """Send the SDK's requests to another host (a staging or test stand-in of Twilio's API)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if url.startswith(TWILIO_API_HOST):
            url = self.base_url + url[len(TWILIO_API_HOST) :]
        return super().request(method, url, *args, **kwargs)


class TwilioProvider:
    """Twilio's REST API through the official SDK."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, *, api_base_url: str | None = None):
        http_client = (
            _RebasedHttpClient(api_base_url, timeout=REST_TIMEOUT_SECONDS)
            if api_base_url
            else TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS)
        )
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send_sms(
        self,
        to: str,
        body: str,
        *,
        sender: str,
        status_callback: str | None,
        dlt_template_id: str | None,
    ) -> Receipt:
        # Twilio matches Indian DLT templates by content on its side; the id is kept on our
        # record for the providers that take it as a parameter.
        options: dict[str, Any] = {"to": to, "from_": sender, "body": body}
        if status_callback:
            options["status_callback"] = status_callback
        with _translated_errors():
            message = self.client.messages.create(**options)
        return Receipt(self.name, message.sid, str(message.status))

    def place_call(
        self,
        to: str,
        *,
        caller_id: str,
        answer_url: str,
        status_callback: str | None,
        machine_detection: bool = False,
    ) -> Receipt:
        options: dict[str, Any] = {"to": to, "from_": caller_id, "url": answer_url}
        if machine_detection:
            # Twilio tells a person from an answering machine and reports it as AnsweredBy.
            options["machine_detection"] = "Enable"
        if status_callback:
            options["status_callback"] = status_callback
            options["status_callback_event"] = ["initiated", "ringing", "answered", "completed"]
        with _translated_errors():
            call = self.client.calls.create(**options)
        return Receipt(self.name, call.sid, str(call.status))


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn the SDK's and the network's errors into ours, by whether a retry can help."""
    try:
        yield
    except TwilioRestException as exc:
        transient = exc.status >= 500 or exc.status == 429 or exc.code in _RETRYABLE_CODES
        kind = TransientTelephonyError if transient else PermanentTelephonyError
        message = f"Twilio {exc.status} {exc.code}: {exc.msg}"
        raise kind(message, code=exc.code, status=exc.status) from exc
    except (requests.RequestException, TwilioException) as exc:
        raise TransientTelephonyError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
