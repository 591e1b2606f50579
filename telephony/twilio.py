"""Twilio: TwiML, ``X-Twilio-Signature``, Twilio's webhook parameters and its REST API.

The REST calls go through the official SDK (``TWILIO_API_BASE_URL`` sends them to a
stand-in). TwiML is written by ``telephony.xml``, byte for byte as twilio's own builders
write it (the tests compare every shape the flows build).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import requests
from flask import Request, Response
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client
from werkzeug.datastructures import MultiDict

from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError
from telephony.inbound import WebhookDialect, webhook_params
from telephony.outbound import REST_TIMEOUT_SECONDS, Receipt, Recording, fetch_media, rest_session
from telephony.records import (
    CALL_STATUSES,
    MESSAGE_STATUSES,
    CallReport,
    InboundCall,
    IncomingSms,
    MessageStatusReport,
    clean,
    clean_url,
    seconds,
    status_word,
)
from telephony.registry import Registration
from telephony.script import (
    CallerSide,
    Speech,
    Verb,
    XmlCallScript,
    XmlSpeech,
    read_verbs,
)
from telephony.xml import Attributes, Element

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"

TWILIO_API_HOST = "https://api.twilio.com"

RECORDING_MODE = "record-from-answer-dual"
"""Record both parties of a dial on separate channels, from the moment the callee answers."""

VOICES: dict[str, Attributes] = {
    "hi": (("language", "hi-IN"), ("voice", "Polly.Aditi")),
    "en": (("language", "en-IN"), ("voice", "Polly.Raveena")),
}
"""``<Say>``'s language and voice for each of the IVR's languages."""

_RETRYABLE_CODES = {20429, 20500, 20503}
"""Twilio error codes that mean "later" rather than "never" (rate limit, their fault)."""

_ANSWERED_BY = {"human": "human", "machine": "machine", "fax": "fax"}
"""AnsweredBy values in our words (every ``machine_…`` value is "machine"; "unknown" is "")."""


# ------------------------------------------------------------------ TwiML


class TwimlScript(XmlCallScript):
    """A call script written as TwiML. Attributes are written as twilio sorts them."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("Say", VOICES)

    def gather(
        self,
        action: str,
        *,
        timeout: int,
        max_keys: int | None = None,
        finish_key: str | None = None,
    ) -> Speech:
        # actionOnEmptyResult false: with no keys, the call goes on with the next verb.
        attributes = (
            ("action", action),
            ("actionOnEmptyResult", False),
            ("finishOnKey", finish_key),
            ("method", "POST"),
            ("numDigits", max_keys),
            ("timeout", timeout),
        )
        return XmlSpeech(self._element.nest(Element("Gather", attributes)), "Say", VOICES)

    def dial(
        self,
        number: str,
        *,
        action: str,
        timeout: int,
        caller_id: str | None = None,
        record: bool = False,
    ) -> None:
        attributes = (
            ("action", action),
            ("callerId", caller_id),
            ("method", "POST"),
            ("record", RECORDING_MODE if record else None),
            ("timeout", timeout),
        )
        self._element.nest(Element("Dial", attributes)).add("Number", number)

    def redirect(self, url: str) -> None:
        self._element.add("Redirect", url, _POST)

    def hangup(self) -> None:
        self._element.add("Hangup")

    def reject(self) -> None:
        self._element.add("Reject", None, (("reason", "busy"),))


_POST: Attributes = (("method", "POST"),)


def _render_rejection() -> bytes:
    script = TwimlScript()
    script.reject()
    return script.render()


# The missed-call webhook answers every call with the same bytes; rendering them once keeps
# the hot path to a memory copy.
REJECTION = _render_rejection()


# ------------------------------------------------------------------ webhooks


class TwilioWebhooks(WebhookDialect):
    """Twilio's webhooks: signed with the auth token, parameters in Twilio's names."""

    name = "twilio"
    title = "Twilio"
    signature_key = "HTTP_X_TWILIO_SIGNATURE"

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token
        self.validator = RequestValidator(auth_token)

    def signature_is_valid(self, req: Request, url: str) -> bool:
        signature = req.headers.get(SIGNATURE_HEADER, "")
        if not signature or not self.auth_token:
            return False
        # Twilio signs the URL followed by each POST parameter, sorted, as name+value; the
        # validator reads repeated parameters from the MultiDict itself.
        params = webhook_params() if req.method == "POST" else {}
        algorithm = get_signature_algorithm(req.headers.get(SIGNATURE_SETTINGS_HEADER))
        # The URL as we see it is nearly always the one signed: one HMAC settles it. The
        # SDK's validate() then tries the URL with and without the port, as Twilio is not
        # consistent.
        validator = self.validator
        expected = validator.compute_signature(url, params, algorithm)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
        return bool(validator.validate(url, params, signature, algorithm))

    def script(self) -> TwimlScript:
        return TwimlScript()

    def rejection(self) -> Response:
        return Response(REJECTION, mimetype=TwimlScript.MIMETYPE)

    def caller(self, params: MultiDict[str, str]) -> str:
        return clean(params.get("From", params.get("Caller", "")))

    def inbound_call(self, params: MultiDict[str, str]) -> InboundCall:
        return InboundCall(
            call_sid=clean(params.get("CallSid", "")),
            caller=self.caller(params),
            dialled=clean(params.get("To", params.get("Called", ""))),
            status=status_word(params.get("CallStatus", ""), CALL_STATUSES, {}),
        )

    def call_report(self, params: MultiDict[str, str]) -> CallReport:
        answered_by = clean(params.get("AnsweredBy", "")).lower()
        if answered_by.startswith("machine"):  # machine_start, machine_end_beep, …
            answered_by = "machine"
        return CallReport(
            keys=clean(params.get("Digits", "")),
            dial_status=status_word(params.get("DialCallStatus", ""), CALL_STATUSES, {}),
            dial_duration=seconds(params.get("DialCallDuration", "")),
            call_duration=seconds(params.get("CallDuration", "")),
            recording_url=clean_url(params.get("RecordingUrl", "")),
            answered_by=_ANSWERED_BY.get(answered_by, ""),
        )

    def message_status(self, params: MultiDict[str, str]) -> MessageStatusReport:
        return MessageStatusReport(
            message_sid=clean(params.get("MessageSid", params.get("SmsSid", ""))),
            status=status_word(
                params.get("MessageStatus", params.get("SmsStatus", "")), MESSAGE_STATUSES, {}
            ),
            error_code=clean(params.get("ErrorCode", "")),
        )

    def incoming_sms(self, params: MultiDict[str, str]) -> IncomingSms:
        return IncomingSms.read(params, ids=("MessageSid", "SmsSid"), text="Body")


# ------------------------------------------------------------------ REST


class _RebasedHttpClient(TwilioHttpClient):
    """Send the SDK's requests to another host (a staging or test stand-in of Twilio's API)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if url.startswith(TWILIO_API_HOST):
            url = self.base_url + url[len(TWILIO_API_HOST) :]
        return super().request(method, url, *args, **kwargs)


CALLS_LISTED = 50
"""Newest calls between two numbers read when asking Twilio what it took."""


class TwilioProvider:
    """Twilio's REST API through the official SDK."""

    name = "twilio"
    bridges_calls = False
    rings_with_scripts = True

    def __init__(self, account_sid: str, auth_token: str, *, api_base_url: str | None = None):
        http_client = (
            _RebasedHttpClient(api_base_url, timeout=REST_TIMEOUT_SECONDS)
            if api_base_url
            else TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS)
        )
        # The SDK keeps min(32, cores + 4) connections, https only: too few for a worker's
        # parallel sends (callqueue.sms_batch).
        rest_session(http_client.session)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.api_base_url = (api_base_url or TWILIO_API_HOST).rstrip("/")
        # Recordings are media, not the SDK's JSON: fetched with plain requests, same account.
        self.media = requests.Session()
        self.media.auth = (account_sid, auth_token)
        # The SDK imports its REST resources on first use: done here, a worker does it once
        # before forking its work horses, not in each horse while a batch's first sends
        # wait on the import lock and then go out together (callqueue.sms_batch).
        self.messages = self.client.messages
        self.calls = self.client.calls

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
            message = self.messages.create(**options)
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
            call = self.calls.create(**options)
        return Receipt(self.name, call.sid, str(call.status))

    def calls_placed(self, to: str, *, caller_id: str, since: datetime) -> list[Receipt] | None:
        # Twilio filters by the numbers; the time is filtered here, on when the call was
        # created: a call still queued has no StartTime yet to filter on. Oldest first.
        with _translated_errors():
            calls = self.client.calls.list(to=to, from_=caller_id, limit=CALLS_LISTED)
        taken = [call for call in calls if call.date_created is None or call.date_created >= since]
        taken.sort(key=lambda call: call.date_created or since)
        return [Receipt(self.name, call.sid, str(call.status)) for call in taken]

    def fetch_recording(self, url: str) -> Recording:
        """Fetch a ``RecordingUrl`` as MP3, with the account SID and auth token."""
        if url.startswith(TWILIO_API_HOST):
            url = self.api_base_url + url[len(TWILIO_API_HOST) :]
        if not url.rsplit("/", 1)[-1].count("."):
            url += ".mp3"  # without a suffix Twilio sends WAV, ten times the size
        return fetch_media(
            self.media,
            url,
            provider_title="Twilio",
            allowed_hosts=(self.api_base_url, TWILIO_API_HOST),
        )


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


# ------------------------------------------------------------------ Twilio's part, played


class TwilioCaller(CallerSide):
    """Twilio's part toward our webhooks, for the call simulator and the tests."""

    name = "twilio"

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)

    def call(self, call_id: str, caller: str, dialled: str, status: str) -> dict[str, str]:
        return {
            "CallSid": call_id,
            "AccountSid": "AC" + "0" * 32,
            "From": caller,
            "To": dialled,
            "CallStatus": status,
            "Direction": "inbound",
        }

    def keys(self, keys: str) -> dict[str, str]:
        return {"Digits": keys}

    def dial_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        params = {"DialCallStatus": status}
        if seconds is not None:
            params["DialCallDuration"] = str(seconds)
        return params

    def call_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        params = {"CallStatus": status}
        if seconds is not None:
            params["CallDuration"] = str(seconds)
        return params

    def answered_by(self, who: str) -> dict[str, str]:
        return {"AnsweredBy": "machine_start" if who == "machine" else who}

    def message_status(self, message_id: str, status: str) -> dict[str, str]:
        return {"MessageSid": message_id, "MessageStatus": status}

    def incoming_sms(
        self, message_id: str, sender: str, recipient: str, text: str
    ) -> dict[str, str]:
        return {
            "MessageSid": message_id,
            "SmsSid": message_id,
            "SmsMessageSid": message_id,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": recipient,
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }

    def sign(self, url: str, params: dict[str, str]) -> dict[str, str]:
        return {SIGNATURE_HEADER: self.validator.compute_signature(url, params)}

    def read(self, document: str) -> list[Verb]:
        return read_verbs(document, TWIML_VERBS, "TwiML")


TWIML_VERBS = {
    "Say": "say",
    "Play": "play",
    "Pause": "pause",
    "Gather": "gather",
    "Dial": "dial",
    "Redirect": "redirect",
    "Reject": "reject",
    "Hangup": "hangup",
}
"""The TwiML verbs the flows write, as the simulator reads them back."""


REGISTRATION = Registration(
    name="twilio",
    credentials=("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
    webhook_secret="TWILIO_AUTH_TOKEN",
    takes_dlt_entity_id=False,  # Twilio matches DLT templates by content on its side
    outgoing=lambda config: TwilioProvider(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        api_base_url=config["TWILIO_API_BASE_URL"] or None,
    ),
    webhooks=lambda config: TwilioWebhooks(config["TWILIO_AUTH_TOKEN"]),
    caller=lambda config: TwilioCaller(config["TWILIO_AUTH_TOKEN"]),
)
