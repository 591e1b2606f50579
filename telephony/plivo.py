"""Plivo: Plivo XML, the V3 webhook signature, Plivo's parameters and its REST API.

Plivo carries domestic Indian calls (with KYC, both legs in India). Its XML is close to
TwiML: ``<Hangup reason="rejected"/>`` as the first element refuses a call unanswered,
``<GetDigits>`` collects keys, ``<Speak>`` says text, ``<Dial>`` bridges, and every URL in
it must be absolute. The REST calls are plain HTTPS with the auth id and token
(``PLIVO_API_BASE_URL`` sends them to a stand-in); the SDK is not used here because it
retries a voice request on its own after a server error, which could place a call twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Request
from werkzeug.datastructures import MultiDict

from telephony.exceptions import TransientTelephonyError
from telephony.inbound import WebhookDialect, public_base_url, webhook_params
from telephony.outbound import Receipt, Recording, fetch_media, post_json_api, rest_session
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

SIGNATURE_HEADER = "X-Plivo-Signature-V3"
NONCE_HEADER = "X-Plivo-Signature-V3-Nonce"

PLIVO_API_BASE_URL = "https://api.plivo.com"

PLIVO_MEDIA_HOST = "https://media.plivo.com"
"""Where Plivo keeps recordings (``RecordUrl``), behind the account's Basic credentials."""

MAX_RECORDING_SECONDS = 4 * 3600
"""Longest bridged call recorded."""

VOICES: dict[str, Attributes] = {
    "hi": (("language", "hi-IN"), ("voice", "Polly.Aditi")),
    "en": (("language", "en-IN"), ("voice", "Polly.Raveena")),
}
"""``<Speak>``'s language and voice for each of the IVR's languages."""

STATUS_ALIASES = {"timeout": "no-answer", "cancel": "canceled"}
"""Plivo's call and dial status words that differ from ours."""

MESSAGE_STATUS_ALIASES = {"rejected": "failed"}
"""Plivo's message status words that differ from ours."""

SMS_CATEGORY = "service_implicit"
"""DLT category of the messages we send: service messages a consumer's own request implies."""


# ------------------------------------------------------------------ Plivo XML


class PlivoScript(XmlCallScript):
    """A call script written as Plivo XML; relative URLs are made absolute."""

    __slots__ = ("_base_url",)

    def __init__(self, base_url: str) -> None:
        super().__init__("Speak", VOICES)
        self._base_url = base_url

    def _absolute(self, url: str) -> str:
        return self._base_url + url if url.startswith("/") else url

    def gather(
        self,
        action: str,
        *,
        timeout: int,
        max_keys: int | None = None,
        finish_key: str | None = None,
    ) -> Speech:
        # retries 1: we ask again ourselves. With no keys, Plivo goes on with the next element.
        attributes = (
            ("action", self._absolute(action)),
            ("method", "POST"),
            ("timeout", timeout),
            ("numDigits", max_keys),
            ("finishOnKey", finish_key),
            ("retries", 1),
            ("redirect", True),
        )
        return XmlSpeech(self._element.nest(Element("GetDigits", attributes)), "Speak", VOICES)

    def dial(
        self,
        number: str,
        *,
        action: str,
        timeout: int,
        caller_id: str | None = None,
        record: bool = False,
    ) -> None:
        action = self._absolute(action)
        if record:
            # The whole session from the callee's answer; the file's URL is posted to the
            # dial's action when it is ready (the call goes on meanwhile).
            self._element.add(
                "Record",
                None,
                (
                    ("recordSession", True),
                    ("startOnDialAnswer", True),
                    ("redirect", False),
                    ("maxLength", MAX_RECORDING_SECONDS),
                    ("callbackUrl", action),
                    ("callbackMethod", "POST"),
                ),
            )
        attributes = (
            ("action", action),
            ("method", "POST"),
            ("redirect", True),
            ("timeout", timeout),
            ("callerId", caller_id),
        )
        self._element.nest(Element("Dial", attributes)).add("Number", number)

    def redirect(self, url: str) -> None:
        self._element.add("Redirect", self._absolute(url), (("method", "POST"),))

    def hangup(self) -> None:
        self._element.add("Hangup")

    def reject(self) -> None:
        self._element.add("Hangup", None, (("reason", "rejected"),))


# ------------------------------------------------------------------ webhooks


def v3_signature(auth_token: str, url: str, params: Mapping[str, Any], nonce: str) -> str:
    """Return Plivo's V3 signature of a POST to ``url`` with ``params`` and ``nonce``.

    The signed text is the URL without its query, then ``?`` and the query's pairs sorted
    (``k=v`` joined by ``&``), then, for a POST with parameters, each parameter sorted as
    name and value run together (after a ``.`` when there was a query); then ``.nonce``.
    The signature is the base64 of its HMAC-SHA256 under the auth token.
    """
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    query = parse_qs(parts.query, keep_blank_values=True)
    query_text = "&".join(
        f"{name}={value}" for name in sorted(query) for value in sorted(query[name])
    )
    body_text = "".join(
        f"{name}{value}" for name in sorted(params) for value in sorted(_values(params, name))
    )
    if query_text or body_text:
        base += "?" + query_text
    if query_text and body_text:
        base += "."
    signed = f"{base}{body_text}.{nonce}".encode()
    digest = hmac.new(auth_token.encode(), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _values(params: Mapping[str, Any], name: str) -> Iterable[str]:
    if isinstance(params, MultiDict):
        return params.getlist(name)
    value = params[name]
    return value if isinstance(value, list) else [value]


class PlivoWebhooks(WebhookDialect):
    """Plivo's webhooks: V3 signatures under the auth token, parameters in Plivo's names."""

    name = "plivo"
    title = "Plivo"
    signature_key = "HTTP_X_PLIVO_SIGNATURE_V3"

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token

    def signature_is_valid(self, req: Request, url: str) -> bool:
        given = req.headers.get(SIGNATURE_HEADER, "")
        nonce = req.headers.get(NONCE_HEADER, "")
        if not given or not nonce or not self.auth_token:
            return False
        params = webhook_params() if req.method == "POST" else {}
        expected = v3_signature(self.auth_token, url, params, nonce).encode()
        # The header may carry several signatures (one per key during a key change).
        return any(
            hmac.compare_digest(expected, each.strip().encode()) for each in given.split(",")
        )

    def script(self) -> PlivoScript:
        return PlivoScript(public_base_url())

    def caller(self, params: MultiDict[str, str]) -> str:
        return clean(params.get("From", ""))

    def inbound_call(self, params: MultiDict[str, str]) -> InboundCall:
        # A call we placed is known by the request id its REST answer gave; others by CallUUID.
        return InboundCall(
            call_sid=clean(params.get("RequestUUID") or params.get("CallUUID", "")),
            caller=self.caller(params),
            dialled=clean(params.get("To", "")),
            status=status_word(params.get("CallStatus", ""), CALL_STATUSES, STATUS_ALIASES),
        )

    def call_report(self, params: MultiDict[str, str]) -> CallReport:
        machine = clean(params.get("Machine", "")).lower()
        return CallReport(
            keys=clean(params.get("Digits", "")),
            dial_status=status_word(params.get("DialStatus", ""), CALL_STATUSES, STATUS_ALIASES),
            dial_duration=seconds(params.get("DialBLegDuration", "")),
            call_duration=seconds(params.get("Duration", "")),
            recording_url=clean_url(params.get("RecordUrl", "")),
            answered_by={"true": "machine", "false": "human"}.get(machine, ""),
        )

    def message_status(self, params: MultiDict[str, str]) -> MessageStatusReport:
        return MessageStatusReport(
            message_sid=clean(params.get("MessageUUID", "")),
            status=status_word(params.get("Status", ""), MESSAGE_STATUSES, MESSAGE_STATUS_ALIASES),
            error_code=clean(params.get("ErrorCode", "")),
        )

    def incoming_sms(self, params: MultiDict[str, str]) -> IncomingSms:
        return IncomingSms.read(params, ids=("MessageUUID",), text="Text")


# ------------------------------------------------------------------ REST


class PlivoProvider:
    """Plivo's REST API: SMS with their DLT ids, calls with machine detection."""

    name = "plivo"
    bridges_calls = False
    rings_with_scripts = True

    def __init__(
        self,
        auth_id: str,
        auth_token: str,
        *,
        dlt_entity_id: str = "",
        api_base_url: str | None = None,
    ) -> None:
        self.auth_id = auth_id
        self.dlt_entity_id = dlt_entity_id
        base_url = (api_base_url or PLIVO_API_BASE_URL).rstrip("/")
        self.account_url = f"{base_url}/v1/Account/{auth_id}"
        self.media_hosts = (base_url, PLIVO_API_BASE_URL, PLIVO_MEDIA_HOST)
        self.session = rest_session()
        self.session.auth = (auth_id, auth_token)

    def send_sms(
        self,
        to: str,
        body: str,
        *,
        sender: str,
        status_callback: str | None,
        dlt_template_id: str | None,
    ) -> Receipt:
        payload: dict[str, Any] = {"src": sender, "dst": to, "text": body}
        if status_callback:
            payload |= {"url": status_callback, "method": "POST"}
        if self.dlt_entity_id:
            payload["dlt_entity_id"] = self.dlt_entity_id
        if dlt_template_id:
            payload |= {"dlt_template_id": dlt_template_id, "dlt_template_category": SMS_CATEGORY}
        answer = self._post("Message/", payload)
        ids = answer.get("message_uuid") or []
        if not ids:
            raise TransientTelephonyError("Plivo took the message but named no message_uuid")
        return Receipt(self.name, str(ids[0]), "queued")

    def place_call(
        self,
        to: str,
        *,
        caller_id: str,
        answer_url: str,
        status_callback: str | None,
        machine_detection: bool = False,
    ) -> Receipt:
        payload: dict[str, Any] = {
            "from": caller_id,
            "to": to,
            "answer_url": answer_url,
            "answer_method": "POST",
        }
        if status_callback:
            payload |= {
                "hangup_url": status_callback,
                "hangup_method": "POST",
                "ring_url": status_callback,
                "ring_method": "POST",
            }
        if machine_detection:
            # Plivo reports Machine=true/false to the answer URL.
            payload["machine_detection"] = "true"
        answer = self._post("Call/", payload)
        request_uuid = answer.get("request_uuid")
        if not request_uuid:
            raise TransientTelephonyError("Plivo fired the call but named no request_uuid")
        # Plivo's webhooks about this call carry the same id as RequestUUID.
        return Receipt(self.name, str(request_uuid), "queued")

    def calls_placed(self, to: str, *, caller_id: str, since: datetime) -> list[Receipt] | None:
        # Plivo lists finished calls by number (its CDRs) and live ones by id only, and
        # neither names the request_uuid we keep: a call still queued or ringing cannot be
        # matched to our request. A person checks Plivo's console instead.
        return None

    def fetch_recording(self, url: str) -> Recording:
        """Fetch a ``RecordUrl`` (an MP3) with the account's auth id and token."""
        return fetch_media(
            self.session, url, provider_title="Plivo", allowed_hosts=self.media_hosts
        )

    def _post(self, resource: str, payload: dict[str, Any]) -> dict[str, Any]:
        return post_json_api(
            self.session,
            f"{self.account_url}/{resource}",
            provider_title="Plivo",
            error_of=lambda answer: answer.get("error"),
            json=payload,
        )


# ------------------------------------------------------------------ Plivo's part, played


class PlivoCaller(CallerSide):
    """Plivo's part toward our webhooks, for the call simulator and the tests."""

    name = "plivo"

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token

    def call(self, call_id: str, caller: str, dialled: str, status: str) -> dict[str, str]:
        # Plivo writes numbers without the plus.
        return {
            "CallUUID": call_id,
            "From": caller.removeprefix("+"),
            "To": dialled.removeprefix("+"),
            "CallStatus": status,
            "Direction": "inbound",
            "Event": "StartApp",
        }

    def keys(self, keys: str) -> dict[str, str]:
        return {"Digits": keys}

    def dial_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        params = {
            "DialStatus": {"no-answer": "no-answer", "canceled": "cancel"}.get(status, status)
        }
        if seconds is not None:
            params["DialBLegDuration"] = str(seconds)
        return params

    def call_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        params = {"CallStatus": {"canceled": "cancel"}.get(status, status)}
        if seconds is not None:
            params |= {"Duration": str(seconds), "BillDuration": str(seconds)}
        return params

    def answered_by(self, who: str) -> dict[str, str]:
        return {"Machine": "true" if who == "machine" else "false"}

    def message_status(self, message_id: str, status: str) -> dict[str, str]:
        return {"MessageUUID": message_id, "Status": status}

    def incoming_sms(
        self, message_id: str, sender: str, recipient: str, text: str
    ) -> dict[str, str]:
        # Plivo's message URL: numbers without the plus, the text as Text.
        return {
            "MessageUUID": message_id,
            "From": sender.removeprefix("+"),
            "To": recipient.removeprefix("+"),
            "Text": text,
            "Type": "sms",
            "Units": "1",
        }

    def sign(self, url: str, params: dict[str, str]) -> dict[str, str]:
        nonce = secrets.token_hex(10)
        return {
            SIGNATURE_HEADER: v3_signature(self.auth_token, url, params, nonce),
            NONCE_HEADER: nonce,
        }

    def read(self, document: str) -> list[Verb]:
        return read_verbs(document, PLIVO_ELEMENTS, "Plivo XML")


PLIVO_ELEMENTS = {
    "Speak": "say",
    "Play": "play",
    "Wait": "pause",
    "GetDigits": "gather",
    "Dial": "dial",
    "Record": "ignore",  # the recording is the provider's business, not the caller's
    "Redirect": "redirect",
    "Hangup": "hangup",
}
"""The Plivo XML elements the flows write, as the simulator reads them back."""


REGISTRATION = Registration(
    name="plivo",
    credentials=("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN"),
    webhook_secret="PLIVO_AUTH_TOKEN",
    takes_dlt_entity_id=True,
    outgoing=lambda config: PlivoProvider(
        config["PLIVO_AUTH_ID"],
        config["PLIVO_AUTH_TOKEN"],
        dlt_entity_id=config["DLT_ENTITY_ID"],
        api_base_url=config["PLIVO_API_BASE_URL"] or None,
    ),
    webhooks=lambda config: PlivoWebhooks(config["PLIVO_AUTH_TOKEN"]),
    caller=lambda config: PlivoCaller(config["PLIVO_AUTH_TOKEN"]),
)
