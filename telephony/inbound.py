"""Webhook requests: signature checks and the provider-neutral view of a call."""

from __future__ import annotations

import functools
import hmac
import io
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from flask import Flask, Request, Response, current_app, request
from twilio.request_validator import RequestValidator, get_signature_algorithm
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

log = logging.getLogger("sampark.telephony")

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"

_FIELD_LIMIT = 64
"""Longest caller ID or number we keep; anything longer is junk."""

_URLENCODED = "application/x-www-form-urlencoded"
_PARAMS_KEY = "sampark.webhook_params"
_QUERY_KEY = "sampark.webhook_query"

_PLAIN_QUERY = re.compile(r"\w+=\w*(?:&\w+=\w*)*", re.ASCII)
"""A query of plain names and values, as flows write their step URLs."""


class WebhookParams(MultiDict[str, str]):
    """A webhook's POST parameters: a MultiDict that twilio's validator reads directly.

    ``RequestValidator.compute_signature`` asks its parameters for ``getall`` (and falls
    back through two caught AttributeErrors per parameter when they lack it).
    """

    def getall(self, key: str) -> list[str]:
        return self.getlist(key)


def webhook_params() -> MultiDict[str, str]:
    """Return the POST parameters of a webhook, read once per request.

    Providers post small url-encoded forms. Reading one here takes half the time of
    ``request.form`` and gives the same parameters: the body as werkzeug reads it (so
    ``MAX_CONTENT_LENGTH`` and ``MAX_FORM_MEMORY_SIZE`` still answer 413, and a body cut
    short answers 400), the same decoding, and no parameters for a body that is not text.
    Other requests are left to ``request.form``.
    """
    req = request._get_current_object()  # type: ignore[attr-defined]
    params = req.environ.get(_PARAMS_KEY)
    if params is None:
        if req.method != "POST" or _mimetype(req.environ) != _URLENCODED:
            params = req.form
        else:
            body = _read_body(req, _WebhookSettings.of(current_app._get_current_object()))  # type: ignore[attr-defined]
            try:
                text = body.decode()
            except UnicodeDecodeError:
                params = WebhookParams()
            else:
                params = WebhookParams(_form_pairs(text))
        req.environ[_PARAMS_KEY] = params
    return params


def _form_pairs(text: str) -> list[tuple[str, str]]:
    """Split a url-encoded form as werkzeug does (``parse_qsl``, blank values kept)."""
    # parse_qsl's work per field, without its checks for options a form does not use:
    # a third of the time.
    pairs = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    # werkzeug's error handler keeps bytes that are not UTF-8 as %XX escapes.
    return unquote(text, errors="werkzeug.url_quote") if "%" in text else text


def webhook_query() -> Mapping[str, str]:
    """Return the query parameters of a webhook's URL, read once: what ``request.args`` gives.

    Flows put their state in their own step URLs (``?lang=hi&attempt=2``): names and
    values of letters and digits, which need no decoding and are split directly here.
    Anything else (escapes, repeated names) is left to ``request.args``.
    """
    req = request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    query = environ.get(_QUERY_KEY)
    if query is None:
        text = environ.get("QUERY_STRING", "")
        if not text:
            query = {}
        elif _PLAIN_QUERY.fullmatch(text):
            pairs = text.split("&")
            query = dict(pair.split("=", 1) for pair in pairs)
            if len(query) != len(pairs):
                query = req.args  # a repeated name: request.args gives its first value
        else:
            query = req.args
        environ[_QUERY_KEY] = query
    return query


def _mimetype(environ: dict[str, Any]) -> str:
    # What werkzeug's ``request.mimetype`` gives: the type before any parameters.
    return environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()


def _read_body(req: Request, settings: _WebhookSettings) -> bytes:
    """Return the request's body, refused as werkzeug refuses one over the size limits."""
    environ = req.environ
    declared = environ.get("CONTENT_LENGTH", "")
    if (
        not (declared.isascii() and declared.isdigit())
        or "HTTP_TRANSFER_ENCODING" in environ
        or _body_touched(req)
    ):
        # Streamed, oddly declared or already read: werkzeug's own reading handles those.
        length = req.content_length
        if settings.max_form_size is not None and length is not None:
            if length > settings.max_form_size:
                raise RequestEntityTooLarge()
        return req.get_data(cache=True)
    length = int(declared)
    if settings.max_body_size is not None and length > settings.max_body_size:
        raise RequestEntityTooLarge()
    # The declared length is read directly: werkzeug's guarded stream costs more than
    # the parsing. Later readers (request.form, get_data) find the same bytes.
    body = environ["wsgi.input"].read(length) if length else b""
    if len(body) != length:
        raise ClientDisconnected()
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _body_touched(req: Request) -> bool:
    # werkzeug keeps what it has read (or is reading) of the body on the request.
    state = req.__dict__
    return "stream" in state or "form" in state or state.get("_cached_data") is not None


def signed_url() -> str:
    """Return the URL Twilio signed for this request.

    Twilio signs the public URL it was configured with. Behind a TLS-terminating proxy the
    app sees http://; ``PUBLIC_BASE_URL`` (or ``ProxyFix`` with the forwarded headers) gives
    back the https:// one, which the validator needs byte for byte.
    """
    return _signed_url(request._get_current_object(), _WebhookSettings.of(current_app))  # type: ignore[attr-defined]


def _signed_url(req: Request, settings: _WebhookSettings) -> str:
    if not settings.public_base_url:
        return req.url
    path = req.full_path
    if path.endswith("?"):
        path = path[:-1]
    return settings.public_base_url + path


@dataclass(frozen=True, slots=True)
class _WebhookSettings:
    """The app's webhook settings and validator, read once rather than on every webhook."""

    enabled: bool
    auth_token: str
    public_base_url: str
    validator: RequestValidator
    max_body_size: int | None  # a body over the smaller of the two limits is refused
    max_form_size: int | None

    @classmethod
    def of(cls, app: Flask) -> _WebhookSettings:
        settings = app.extensions.get("twilio_webhook_settings")
        if settings is None:
            config = app.config
            settings = cls(
                enabled=bool(config["TWILIO_VALIDATE_SIGNATURES"]),
                auth_token=config["TWILIO_AUTH_TOKEN"],
                public_base_url=(config["PUBLIC_BASE_URL"] or "").rstrip("/"),
                validator=RequestValidator(config["TWILIO_AUTH_TOKEN"]),
                max_body_size=_smaller(
                    config.get("MAX_CONTENT_LENGTH"), config.get("MAX_FORM_MEMORY_SIZE")
                ),
                max_form_size=config.get("MAX_FORM_MEMORY_SIZE"),
            )
            app.extensions["twilio_webhook_settings"] = settings
        return settings


def _smaller(*limits: int | None) -> int | None:
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


def signature_is_valid() -> bool:
    """Check ``X-Twilio-Signature`` against the signed URL and the POSTed parameters."""
    settings = _WebhookSettings.of(current_app._get_current_object())  # type: ignore[attr-defined]
    if not settings.enabled:
        return True
    req = request._get_current_object()  # type: ignore[attr-defined]
    signature = req.headers.get(SIGNATURE_HEADER, "")
    if not signature or not settings.auth_token:
        return False
    # Twilio signs the URL followed by each POST parameter, sorted, as name+value; the
    # validator reads repeated parameters from the MultiDict itself.
    params = webhook_params() if req.method == "POST" else {}
    algorithm = get_signature_algorithm(req.headers.get(SIGNATURE_SETTINGS_HEADER))
    url = _signed_url(req, settings)
    # The URL as we see it is nearly always the one signed: one HMAC settles it. The SDK's
    # validate() then tries the URL with and without the port, as Twilio is not consistent.
    validator = settings.validator
    if hmac.compare_digest(validator.compute_signature(url, params, algorithm), signature):
        return True
    return validator.validate(url, params, signature, algorithm)


def twilio_webhook(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse, with 403 and nothing recorded, a webhook whose signature does not check out."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not signature_is_valid():
            log.warning("refused webhook with a missing or wrong signature: %s", request.path)
            return Response("Forbidden: invalid Twilio signature\n", 403, mimetype="text/plain")
        return view(*args, **kwargs)

    return checked


def _clean(value: str) -> str:
    # Junk in a form field must not reach the database: PostgreSQL refuses NUL bytes.
    value = value[:_FIELD_LIMIT]
    return value if value.isprintable() else "".join(ch for ch in value if ch.isprintable())


def caller_number() -> str:
    """Return the caller's number as the provider reports it (``InboundCall.caller``)."""
    return _caller(webhook_params())


def _caller(form: MultiDict[str, str]) -> str:
    return _clean(form.get("From", form.get("Caller", "")))


@dataclass(frozen=True, slots=True)
class InboundCall:
    """A voice webhook's view of the call, in words that do not name the provider."""

    call_sid: str
    caller: str
    dialled: str
    status: str

    @classmethod
    def from_request(cls) -> InboundCall:
        form = webhook_params()
        return cls(
            call_sid=_clean(form.get("CallSid", "")),
            caller=_caller(form),
            dialled=_clean(form.get("To", form.get("Called", ""))),
            status=_clean(form.get("CallStatus", "")),
        )


@dataclass(frozen=True, slots=True)
class MessageStatusReport:
    """An SMS delivery report."""

    message_sid: str
    status: str
    error_code: str

    @classmethod
    def from_request(cls) -> MessageStatusReport:
        form = webhook_params()
        return cls(
            message_sid=_clean(form.get("MessageSid", form.get("SmsSid", ""))),
            status=_clean(form.get("MessageStatus", form.get("SmsStatus", ""))).lower(),
            error_code=_clean(form.get("ErrorCode", "")),
        )


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@dataclass(frozen=True, slots=True)
class CallReport:
    """What a voice webhook reports beyond the call itself: keys, a dial's outcome, timings."""

    keys: str  # keys the caller pressed at a prompt; empty when they pressed none
    dial_status: str  # how the other leg of a dial ended; empty when this is no dial report
    dial_duration: int | None
    call_duration: int | None
    recording_url: str | None
    answered_by: str  # who picked up a call placed with machine detection; empty otherwise

    @classmethod
    def from_request(cls) -> CallReport:
        form = webhook_params()
        return cls(
            keys=_clean(form.get("Digits", "")),
            dial_status=_clean(form.get("DialCallStatus", "")).lower(),
            dial_duration=_int_or_none(form.get("DialCallDuration", "")),
            call_duration=_int_or_none(form.get("CallDuration", "")),
            recording_url=_clean_url(form.get("RecordingUrl", "")),
            answered_by=_clean(form.get("AnsweredBy", "")).lower(),
        )


def _clean_url(value: str) -> str | None:
    # Recording URLs are long; keep them whole but printable, and only http(s) ones.
    value = "".join(ch for ch in value[:500] if ch.isprintable())
    return value if value.startswith(("https://", "http://")) else None
