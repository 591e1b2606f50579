"""Exotel: webhooks under a secret path, ExoML, Exotel's parameters and its REST API.

Exotel is the usual Indian provider. Its model differs from Twilio's and Plivo's:

- Calls are handled by flows built in Exotel's dashboard. The missed-call number's flow
  ends the call itself after a ring or two (the caller pays nothing) and its Passthru
  applet tells us about it with a **GET** whose answer's status (200 or 302) only picks
  the flow's next branch. The IVR number's flow hands the call to our ExoML.
- Exotel signs nothing. Its webhooks live under ``/exotel/<EXOTEL_WEBHOOK_TOKEN>/…``
  (``ExotelPaths`` checks the token before the app sees the request: a wrong one is 404
  and records nothing), and, when ``EXOTEL_WEBHOOK_USER`` is set, carry HTTP Basic
  credentials. Every URL the app gives Exotel is made under that path.
- The operator bridge is one REST call, ``Calls/connect``: Exotel rings the operator,
  then the consumer, records, and reports both legs to the status callback. There is no
  whisper and no answering-machine detection, so announcement campaigns are not offered.
- Keys arrive as ``digits`` wrapped in double quotes (Passthru) or ``DigitsPressed``
  (ExoML's Gather); numbers often as national numbers with a leading 0.
- REST calls are form posts with the API key and token (no official Python SDK);
  ``EXOTEL_API_BASE_URL`` sends them to a stand-in (or to Exotel's Mumbai cluster).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Request, Response
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WsgiResponse

from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError
from telephony.inbound import WebhookDialect
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

EXOTEL_API_BASE_URL = "https://api.exotel.com"

EXOTEL_RECORDING_HOSTS = (
    "https://recordings.exotel.com",
    "https://s3-ap-southeast-1.amazonaws.com",
)
"""Where Exotel's ``RecordingUrl`` points (its own host; older accounts' S3 bucket)."""

PATH_PREFIX = "/exotel/"
"""Exotel's webhooks arrive under ``/exotel/<token>/``; the rest of the path is the app's."""

ENVIRON_KEY = "sampark.telephony.exotel"
"""Set by ``ExotelPaths`` on a request that came in under the secret path."""

VOICES: dict[str, Attributes] = {
    "hi": (("language", "hi-IN"),),
    "en": (("language", "en-IN"),),
}
"""ExoML ``<Say>``'s language for each of the IVR's languages."""

STATUS_ALIASES = {
    "incomplete": "no-answer",  # a connect that nobody picked up
    "client-hangup": "canceled",
    "call-attempt": "completed",
}
"""Exotel's call status words that differ from ours."""

MESSAGE_STATUS_ALIASES = {"failed-dnd": "failed", "submitted": "sent"}
"""Exotel's SMS status words that differ from ours."""

SMS_TYPE = "transactional"
"""DLT category of the messages we send (Exotel's ``SmsType``)."""


# ------------------------------------------------------------------ the secret path


class ExotelPaths:
    """WSGI middleware: take ``/exotel/<token>`` off the path after checking the token.

    The prefix moves to ``SCRIPT_NAME``, so the app's own ``url_for`` writes every step's
    URL under it and Exotel's next request comes back the same way.
    """

    def __init__(self, app: Callable[..., Any], token: str) -> None:
        self.app = app
        self.token = token.encode()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PATH_PREFIX):
            token, _, rest = path[len(PATH_PREFIX) :].partition("/")
            if not self.token or not hmac.compare_digest(token.encode(), self.token):
                return WsgiResponse("Not Found\n", 404, mimetype="text/plain")(
                    environ, start_response
                )
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PATH_PREFIX + token
            environ["PATH_INFO"] = "/" + rest
            environ[ENVIRON_KEY] = True
        return self.app(environ, start_response)


# ------------------------------------------------------------------ ExoML


class ExomlScript(XmlCallScript):
    """A call script written as ExoML (Exotel's TwiML-like markup)."""

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
        attributes = (
            ("action", action),
            ("method", "POST"),
            ("timeout", timeout),
            ("numDigits", max_keys),
            ("finishOnKey", finish_key),
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
            ("method", "POST"),
            ("timeout", timeout),
            ("callerId", caller_id),
            ("record", record or None),
        )
        self._element.nest(Element("Dial", attributes)).add("Number", number)

    def redirect(self, url: str) -> None:
        self._element.add("Redirect", url, (("method", "POST"),))

    def hangup(self) -> None:
        self._element.add("Hangup")

    def reject(self) -> None:
        # Only the missed-call number's Passthru asks this; its flow has ended the call.
        self._element.add("Hangup")


# ------------------------------------------------------------------ webhooks


def unquote_digits(value: str) -> str:
    """Return keys as pressed: Passthru wraps them in double quotes ("123")."""
    return value.strip().strip('"').strip()


class ExotelWebhooks(WebhookDialect):
    """Exotel's webhooks: known by their secret path, parameters in Exotel's names."""

    name = "exotel"
    title = "Exotel"
    signature_key = ENVIRON_KEY

    def __init__(self, user: str = "", password: str = "") -> None:
        self.credentials = (user.encode(), password.encode()) if user else None

    def signature_is_valid(self, req: Request, url: str) -> bool:
        # The path's token was checked on the way in; Basic credentials when configured.
        if self.credentials is None:
            return True
        auth = req.authorization
        if auth is None or auth.type != "basic":
            return False
        user, password = self.credentials
        return hmac.compare_digest((auth.username or "").encode(), user) & hmac.compare_digest(
            (auth.password or "").encode(), password
        )

    def script(self) -> ExomlScript:
        return ExomlScript()

    def rejection(self) -> Response:
        # Passthru reads only the status: 200 follows the flow's first branch.
        return Response("", 200, mimetype="text/plain")

    def caller(self, params: MultiDict[str, str]) -> str:
        return clean(params.get("CallFrom") or params.get("From", ""))

    def inbound_call(self, params: MultiDict[str, str]) -> InboundCall:
        # A status callback's Status; a flow's request's CallStatus.
        status = params["Status"] if "Status" in params else params.get("CallStatus", "")
        return InboundCall(
            call_sid=clean(params.get("CallSid", "")),
            caller=self.caller(params),
            dialled=clean(params.get("CallTo") or params.get("To", "")),
            status=status_word(status, CALL_STATUSES, STATUS_ALIASES),
        )

    def call_report(self, params: MultiDict[str, str]) -> CallReport:
        keys = params.get("DigitsPressed") or params.get("digits") or params.get("Digits", "")
        # Calls/connect reports both legs: the second is the consumer's.
        dial_status = params.get("DialCallStatus") or params.get("Legs[1][Status]", "")
        dial_duration = params.get("DialCallDuration") or params.get("Legs[1][OnCallDuration]", "")
        return CallReport(
            keys=clean(unquote_digits(keys)),
            dial_status=status_word(dial_status, CALL_STATUSES, STATUS_ALIASES),
            dial_duration=seconds(dial_duration),
            call_duration=seconds(params.get("ConversationDuration", "")),
            recording_url=clean_url(params.get("RecordingUrl", "")),
            answered_by="",  # Exotel has no answering-machine detection
        )

    def message_status(self, params: MultiDict[str, str]) -> MessageStatusReport:
        return MessageStatusReport(
            message_sid=clean(params.get("SmsSid", "")),
            status=status_word(params.get("Status", ""), MESSAGE_STATUSES, MESSAGE_STATUS_ALIASES),
            error_code=clean(params.get("DetailedStatusCode", "")),
        )

    def incoming_sms(self, params: MultiDict[str, str]) -> IncomingSms:
        # The SMS app's "Send a Reply" applet requests our URL with GET (after a HEAD).
        return IncomingSms.read(params, ids=("SmsSid",), text="Body")

    def sms_taken(self) -> Response:
        # The applet sends back whatever text/plain body we answer: an empty one, none.
        return Response("", 200, mimetype="text/plain")


# ------------------------------------------------------------------ REST


class ExotelProvider:
    """Exotel's REST API: SMS with their DLT ids, and the bridge as one ``Calls/connect``."""

    name = "exotel"
    bridges_calls = True
    """Exotel rings the operator and then the consumer itself (``connect``)."""
    rings_with_scripts = False
    """Exotel's calls run flows built in its dashboard: no campaign calls with our script."""

    def __init__(
        self,
        sid: str,
        api_key: str,
        api_token: str,
        *,
        dlt_entity_id: str = "",
        api_base_url: str | None = None,
    ) -> None:
        self.dlt_entity_id = dlt_entity_id
        base_url = (api_base_url or EXOTEL_API_BASE_URL).rstrip("/")
        self.account_url = f"{base_url}/v1/Accounts/{sid}"
        self.media_hosts = (base_url, *EXOTEL_RECORDING_HOSTS)
        self.session = rest_session()
        self.session.auth = (api_key, api_token)

    def send_sms(
        self,
        to: str,
        body: str,
        *,
        sender: str,
        status_callback: str | None,
        dlt_template_id: str | None,
    ) -> Receipt:
        form: dict[str, str] = {"From": sender, "To": to, "Body": body, "SmsType": SMS_TYPE}
        if self.dlt_entity_id:
            form["DltEntityId"] = self.dlt_entity_id
        if dlt_template_id:
            form["DltTemplateId"] = dlt_template_id
        if status_callback:
            form["StatusCallback"] = status_callback
        answer = self._post("Sms/send.json", form).get("SMSMessage") or {}
        if not answer.get("Sid"):
            raise TransientTelephonyError("Exotel took the message but named no Sid")
        return Receipt(self.name, str(answer["Sid"]), "queued")

    def place_call(
        self,
        to: str,
        *,
        caller_id: str,
        answer_url: str,
        status_callback: str | None,
        machine_detection: bool = False,
    ) -> Receipt:
        raise PermanentTelephonyError(
            "Exotel cannot ring a number with the app's own call script: its calls run "
            "flows built in Exotel's dashboard"
        )

    def connect(
        self,
        first: str,
        then: str,
        *,
        caller_id: str,
        status_callback: str | None,
        record: bool,
        timeout: int,
    ) -> Receipt:
        """Ring ``first`` (the operator); when they answer, ring ``then`` and bridge them."""
        form: dict[str, str] = {
            "From": first,
            "To": then,
            "CallerId": caller_id,
            "CallType": "trans",
            "Record": "true" if record else "false",
            "TimeOut": str(timeout),
        }
        if status_callback:
            form |= {
                "StatusCallback": status_callback,
                "StatusCallbackEvents[0]": "terminal",
                "StatusCallbackContentType": "application/x-www-form-urlencoded",
            }
        answer = self._post("Calls/connect.json", form).get("Call") or {}
        if not answer.get("Sid"):
            raise TransientTelephonyError("Exotel connected the call but named no Sid")
        return Receipt(self.name, str(answer["Sid"]), "queued")

    def calls_placed(self, to: str, *, caller_id: str, since: datetime) -> list[Receipt] | None:
        # Exotel's call details are fetched by Sid, the one thing an unanswered request
        # never told us; its bulk listing is not one we use or stand in for. A person checks
        # Exotel's dashboard instead.
        return None

    def fetch_recording(self, url: str) -> Recording:
        """Fetch a call's ``RecordingUrl`` with the API key and token."""
        return fetch_media(
            self.session, url, provider_title="Exotel", allowed_hosts=self.media_hosts
        )

    def _post(self, resource: str, form: dict[str, str]) -> dict[str, Any]:
        return post_json_api(
            self.session,
            f"{self.account_url}/{resource}",
            provider_title="Exotel",
            error_of=_error_message,
            data=form,
        )


def _error_message(answer: dict[str, Any]) -> object:
    problem = answer.get("RestException")
    return problem.get("Message") if isinstance(problem, dict) else None


# ------------------------------------------------------------------ Exotel's part, played


class ExotelCaller(CallerSide):
    """Exotel's part toward our webhooks, for the call simulator and the tests."""

    name = "exotel"

    def __init__(self, token: str, user: str = "", password: str = "") -> None:
        self.token = token
        self.credentials = (user, password) if user else None

    def path(self, path: str) -> str:
        return f"{PATH_PREFIX}{self.token}{path}"

    def call(self, call_id: str, caller: str, dialled: str, status: str) -> dict[str, str]:
        # Exotel writes Indian numbers as national numbers with a leading 0.
        return {
            "CallSid": call_id,
            "CallFrom": _national(caller),
            "CallTo": _national(dialled),
            "Direction": "incoming",
            "CallStatus": status,
        }

    def keys(self, keys: str) -> dict[str, str]:
        return {"digits": f'"{keys}"'}

    def dial_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        params = {"DialCallStatus": status}
        if seconds is not None:
            params["DialCallDuration"] = str(seconds)
        return params

    def call_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        params = {"Status": status}
        if seconds is not None:
            params["ConversationDuration"] = str(seconds)
        return params

    def bridge_ended(self, operator: str, consumer: str, seconds: int) -> dict[str, str]:
        """Return a ``Calls/connect`` status callback: each leg's status."""
        return {
            "Status": "completed" if consumer == "completed" else consumer,
            "Legs[0][Status]": operator,
            "Legs[1][Status]": consumer,
            "Legs[1][OnCallDuration]": str(seconds),
            "ConversationDuration": str(seconds),
        }

    def answered_by(self, who: str) -> dict[str, str]:
        return {}

    def message_status(self, message_id: str, status: str) -> dict[str, str]:
        return {"SmsSid": message_id, "Status": status}

    def incoming_sms(
        self, message_id: str, sender: str, recipient: str, text: str
    ) -> dict[str, str]:
        # The query of the SMS app's GET: the sender as a national number.
        return {
            "SmsSid": message_id,
            "From": _national(sender),
            "To": _national(recipient),
            "Date": "2026-12-15 10:00:00",
            "Body": text,
        }

    def sign(self, url: str, params: dict[str, str]) -> dict[str, str]:
        if self.credentials is None:
            return {}
        user, password = self.credentials
        return {
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        }

    def read(self, document: str) -> list[Verb]:
        if not document.strip():
            return []  # Passthru's answer: only its status counts
        return read_verbs(document, EXOML_VERBS, "ExoML")


EXOML_VERBS = {
    "Say": "say",
    "Play": "play",
    "Gather": "gather",
    "Dial": "dial",
    "Redirect": "redirect",
    "Hangup": "hangup",
}
"""The ExoML verbs the flows write, as the simulator reads them back."""


def _national(number: str) -> str:
    return "0" + number[3:] if number.startswith("+91") else number


REGISTRATION = Registration(
    name="exotel",
    credentials=("EXOTEL_SID", "EXOTEL_API_KEY", "EXOTEL_API_TOKEN"),
    webhook_secret="EXOTEL_WEBHOOK_TOKEN",
    takes_dlt_entity_id=True,
    outgoing=lambda config: ExotelProvider(
        config["EXOTEL_SID"],
        config["EXOTEL_API_KEY"],
        config["EXOTEL_API_TOKEN"],
        dlt_entity_id=config["DLT_ENTITY_ID"],
        api_base_url=config["EXOTEL_API_BASE_URL"] or None,
    ),
    webhooks=lambda config: ExotelWebhooks(
        config["EXOTEL_WEBHOOK_USER"], config["EXOTEL_WEBHOOK_PASSWORD"]
    ),
    caller=lambda config: ExotelCaller(
        config["EXOTEL_WEBHOOK_TOKEN"],
        config["EXOTEL_WEBHOOK_USER"],
        config["EXOTEL_WEBHOOK_PASSWORD"],
    ),
    secret_required=True,
    webhook_path=lambda config: PATH_PREFIX + config["EXOTEL_WEBHOOK_TOKEN"],
    wrap_app=lambda app, config: ExotelPaths(app, config["EXOTEL_WEBHOOK_TOKEN"]),
)
