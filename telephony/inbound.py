"""Webhook requests: which provider sent one, whether it is genuine, and what it says.

``webhook`` guards every webhook route: it finds the provider among those this deployment
takes (``TELEPHONY_PROVIDER`` and ``TELEPHONY_ALSO_ACCEPT``) by the signature the request
carries, checks that signature, and refuses anything else with 403 and nothing recorded.
The view then reads the provider-neutral records (``inbound_call()``, ``call_report()``,
``message_status()``, ``incoming_sms()``) and answers with ``call_script()``, both in the
sending provider's dialect. Reading a webhook's body and query once per request (``webhook_params``,
``webhook_query``) is speed work the webhook benchmark measures; see their docstrings.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from flask import Flask, Request, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from core.config import settings_of
from telephony.records import CallReport, InboundCall, IncomingSms, MessageStatusReport
from telephony.script import CallScript

log = logging.getLogger("sampark.telephony")

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
    A GET webhook's parameters are its query (Exotel's Passthru). Other requests are left
    to ``request.form``.
    """
    req = request._get_current_object()  # type: ignore[attr-defined]
    params = req.environ.get(_PARAMS_KEY)
    if params is None:
        if req.method == "GET":
            params = req.args
        elif req.method != "POST" or _mimetype(req.environ) != _URLENCODED:
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


def public_base_url() -> str:
    """Return the app's public URL (``PUBLIC_BASE_URL``, else this request's host), no slash."""
    settings = _WebhookSettings.of(current_app._get_current_object())  # type: ignore[attr-defined]
    return settings.public_base_url or request.host_url.rstrip("/")


def signed_url() -> str:
    """Return the URL the provider signed for this request.

    Providers sign the public URL they were configured with. Behind a TLS-terminating
    proxy the app sees http://; ``PUBLIC_BASE_URL`` (or ``ProxyFix`` with the forwarded
    headers) gives back the https:// one, which the check needs byte for byte.
    """
    return _signed_url(request._get_current_object(), _WebhookSettings.of(current_app))  # type: ignore[attr-defined]


def _signed_url(req: Request, settings: _WebhookSettings) -> str:
    if not settings.public_base_url:
        return req.url
    path = req.full_path
    if path.endswith("?"):
        path = path[:-1]
    return settings.public_base_url + path


class WebhookDialect(ABC):
    """One provider's side of its webhooks: its signature, its parameters, its script."""

    name: str
    """The provider's name, as ``TELEPHONY_PROVIDER`` spells it."""

    title: str
    """The provider's name as people write it, for messages."""

    signature_key: str
    """The WSGI environ key of the header that carries the provider's signature."""

    @abstractmethod
    def signature_is_valid(self, req: Request, url: str) -> bool:
        """Tell whether the request carries the provider's signature of ``url`` and its body."""

    @abstractmethod
    def script(self) -> CallScript:
        """Return a new, empty call script in the provider's dialect."""

    def rejection(self) -> Response:
        """Return the answer that refuses a call unanswered (a missed call's)."""
        script = self.script()
        script.reject()
        return script.response()

    @abstractmethod
    def caller(self, params: MultiDict[str, str]) -> str:
        """Return the caller's number as the provider gives it."""

    @abstractmethod
    def inbound_call(self, params: MultiDict[str, str]) -> InboundCall:
        """Read the call a voice webhook is about."""

    @abstractmethod
    def call_report(self, params: MultiDict[str, str]) -> CallReport:
        """Read what a voice webhook reports: keys, a dial's outcome, timings."""

    @abstractmethod
    def message_status(self, params: MultiDict[str, str]) -> MessageStatusReport:
        """Read an SMS delivery report."""

    @abstractmethod
    def incoming_sms(self, params: MultiDict[str, str]) -> IncomingSms:
        """Read an SMS a consumer sent to one of our numbers."""

    def sms_taken(self) -> Response:
        """Return the answer to an incoming SMS that sends no reply through the webhook.

        Replies go through the outbox like every SMS (a DLT template, retries, the
        console's view); the webhook's own answer says nothing back.
        """
        return self.script().response()


@dataclass(frozen=True, slots=True)
class _WebhookSettings:
    """The app's webhook settings, read once rather than on every webhook."""

    enabled: bool  # signatures are checked
    dialects: tuple[WebhookDialect, ...]  # the providers taken, the main one first
    public_base_url: str
    max_body_size: int | None  # a body over the smaller of the two limits is refused
    max_form_size: int | None

    @classmethod
    def of(cls, app: Flask) -> _WebhookSettings:
        return app.extensions[_SETTINGS_KEY]  # type: ignore[no-any-return]

    def dialect_of(self, environ: dict[str, Any]) -> WebhookDialect | None:
        """Return the provider whose signature the request carries, among those taken."""
        for dialect in self.dialects:
            if dialect.signature_key in environ:
                return dialect
        # Unchecked webhooks are read as the main provider's.
        return None if self.enabled else self.dialects[0]


_SETTINGS_KEY = "telephony_webhook_settings"
_DIALECT_KEY = "sampark.telephony.dialect"


def init_app(app: Flask) -> None:
    """Keep what every webhook reads (built once, when the app is made)."""
    config = app.config
    app.extensions[_SETTINGS_KEY] = _WebhookSettings(
        enabled=settings_of(app).TELEPHONY_VALIDATE_SIGNATURES,
        dialects=app.extensions["telephony_webhooks"],
        public_base_url=settings_of(app).PUBLIC_BASE_URL.rstrip("/"),
        max_body_size=_smaller(
            config.get("MAX_CONTENT_LENGTH"), config.get("MAX_FORM_MEMORY_SIZE")
        ),
        max_form_size=config.get("MAX_FORM_MEMORY_SIZE"),
    )


def _smaller(*limits: int | None) -> int | None:
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


def webhook(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse, with 403 and nothing recorded, a webhook no provider we take has signed."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        req = request._get_current_object()  # type: ignore[attr-defined]
        settings = _WebhookSettings.of(current_app._get_current_object())  # type: ignore[attr-defined]
        dialect = settings.dialect_of(req.environ)
        if dialect is None:
            log.warning("refused webhook signed by no provider we take: %s", req.path)
            return _forbidden("no signature of a provider this deployment takes")
        if settings.enabled and not dialect.signature_is_valid(req, _signed_url(req, settings)):
            log.warning("refused webhook with a wrong %s signature: %s", dialect.title, req.path)
            return _forbidden(f"invalid {dialect.title} signature")
        req.environ[_DIALECT_KEY] = dialect
        return view(*args, **kwargs)

    return checked


def _forbidden(reason: str) -> Response:
    return Response(f"Forbidden: {reason}\n", 403, mimetype="text/plain")


def _dialect() -> WebhookDialect:
    environ = request.environ
    dialect = environ.get(_DIALECT_KEY)
    if dialect is None:  # a view called without ``webhook``: the main provider's
        dialect = _WebhookSettings.of(current_app._get_current_object()).dialects[0]  # type: ignore[attr-defined]
    return dialect


def call_script() -> CallScript:
    """Return a new call script in the dialect of the provider that sent this webhook."""
    return _dialect().script()


def reject_call() -> Response:
    """Answer this webhook by refusing the call unanswered, so the caller pays nothing."""
    return _dialect().rejection()


def caller_number() -> str:
    """Return the caller's number as the provider reports it (``InboundCall.caller``)."""
    return _dialect().caller(webhook_params())


def inbound_call() -> InboundCall:
    """Return the call this webhook is about."""
    return _dialect().inbound_call(webhook_params())


def call_report() -> CallReport:
    """Return what this voice webhook reports: keys, a dial's outcome, timings."""
    return _dialect().call_report(webhook_params())


def message_status() -> MessageStatusReport:
    """Return the SMS delivery report this webhook carries."""
    return _dialect().message_status(webhook_params())


def incoming_sms() -> IncomingSms:
    """Return the SMS a consumer sent, which this webhook carries."""
    return _dialect().incoming_sms(webhook_params())


def sms_taken() -> Response:
    """Answer an incoming-SMS webhook without a reply of its own."""
    return _dialect().sms_taken()
