"""The telephony boundary: everything that knows which provider carries the calls.

The flows in ``ivr``, ``callcenter`` and ``callqueue`` describe what a call should do with
the provider-neutral call script (``telephony.script``), read provider-neutral webhook
records (``telephony.records``) and send SMS and place calls through one ``Provider``
interface (``telephony.outbound``). Each provider's dialect, its webhook signature, its
parameter names and its REST API live in a module of their own (``telephony.twilio``,
``telephony.plivo``, ``telephony.exotel``); nothing outside this package names them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from core.config import split_list
from telephony.exotel import PATH_PREFIX, ExotelCaller, ExotelPaths, ExotelProvider, ExotelWebhooks
from telephony.inbound import WebhookDialect
from telephony.outbound import OutboxProvider, Provider
from telephony.plivo import PlivoCaller, PlivoProvider, PlivoWebhooks
from telephony.script import CallerSide
from telephony.twilio import TwilioCaller, TwilioProvider, TwilioWebhooks

PROVIDERS = ("twilio", "plivo", "exotel")
"""The providers ``TELEPHONY_PROVIDER`` and ``TELEPHONY_ALSO_ACCEPT`` may name."""

WEBHOOK_SECRETS = {
    "twilio": "TWILIO_AUTH_TOKEN",
    "plivo": "PLIVO_AUTH_TOKEN",
    "exotel": "EXOTEL_WEBHOOK_TOKEN",
}
"""The setting that holds each provider's webhook secret (signing key, or Exotel's path)."""

DLT_PROVIDERS = frozenset({"plivo", "exotel"})
"""Providers that take an Indian SMS's DLT entity id with each message."""


class TelephonySettingsError(ValueError):
    """The telephony settings cannot work: the message names the setting to fix."""


def init_app(app: Flask) -> None:
    """Choose the outgoing provider and the providers whose webhooks are taken."""
    config = app.config
    main = (config["TELEPHONY_PROVIDER"] or "").strip().lower()
    if main and main not in PROVIDERS:
        raise TelephonySettingsError(
            f"TELEPHONY_PROVIDER={main!r}: expected one of {', '.join(PROVIDERS)}"
        )
    if not main and config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"]:
        main = "twilio"
    app.extensions["telephony"] = _outgoing(app, main) if main else OutboxProvider()
    accepted = [main or "twilio"]
    for name in split_list(config["TELEPHONY_ALSO_ACCEPT"]):
        name = name.lower()
        if name not in PROVIDERS:
            raise TelephonySettingsError(
                f"TELEPHONY_ALSO_ACCEPT names {name!r}: expected one of {', '.join(PROVIDERS)}"
            )
        if name not in accepted:
            accepted.append(name)
    app.extensions["telephony_webhooks"] = tuple(_webhooks(app, name) for name in accepted)
    if "exotel" in accepted:
        _require(config, "exotel", "EXOTEL_WEBHOOK_TOKEN")
        app.wsgi_app = ExotelPaths(app.wsgi_app, config["EXOTEL_WEBHOOK_TOKEN"])  # type: ignore[method-assign]
    if not config["TELEPHONY_VALIDATE_SIGNATURES"]:
        app.logger.warning(
            "TELEPHONY_VALIDATE_SIGNATURES is off: anyone can post forged provider webhooks"
        )
    else:
        for name, token in WEBHOOK_SECRETS.items():
            if name in accepted and not config[token]:
                app.logger.warning(f"{token} is not set: every {name} webhook will get 403")


def _outgoing(app: Flask, name: str) -> Provider:
    """Return provider ``name`` for SMS and calls; refuse settings that cannot work."""
    config = app.config
    if not (config["SMS_SENDER_ID"] or config["SMS_FROM"]):
        raise TelephonySettingsError(
            f"TELEPHONY_PROVIDER is {name} but SMS_SENDER_ID (the registered sender header) "
            "and SMS_FROM are not set: SMS would go out with no sender"
        )
    _require(config, name, "CALLER_ID")
    if name in DLT_PROVIDERS and config["DEFAULT_REGION"] == "IN":
        _require(config, name, "DLT_ENTITY_ID")
    if name == "exotel":
        _require(config, name, "EXOTEL_SID", "EXOTEL_API_KEY", "EXOTEL_API_TOKEN")
        return ExotelProvider(
            config["EXOTEL_SID"],
            config["EXOTEL_API_KEY"],
            config["EXOTEL_API_TOKEN"],
            dlt_entity_id=config["DLT_ENTITY_ID"],
            api_base_url=config["EXOTEL_API_BASE_URL"] or None,
        )
    if name == "plivo":
        _require(config, name, "PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN")
        return PlivoProvider(
            config["PLIVO_AUTH_ID"],
            config["PLIVO_AUTH_TOKEN"],
            dlt_entity_id=config["DLT_ENTITY_ID"],
            api_base_url=config["PLIVO_API_BASE_URL"] or None,
        )
    _require(config, name, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    return TwilioProvider(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        api_base_url=config["TWILIO_API_BASE_URL"] or None,
    )


def _webhooks(app: Flask, name: str) -> WebhookDialect:
    if name == "exotel":
        config = app.config
        return ExotelWebhooks(config["EXOTEL_WEBHOOK_USER"], config["EXOTEL_WEBHOOK_PASSWORD"])
    if name == "plivo":
        return PlivoWebhooks(app.config["PLIVO_AUTH_TOKEN"])
    return TwilioWebhooks(app.config["TWILIO_AUTH_TOKEN"])


def _require(config: dict[str, object], provider_name: str, *names: str) -> None:
    for setting in names:
        if not config.get(setting):
            raise TelephonySettingsError(
                f"TELEPHONY_PROVIDER is {provider_name} but {setting} is not set"
            )


def sms_sender() -> str:
    """Return who SMS come from: the registered sender header, else the sending number."""
    config = current_app.config
    return config["SMS_SENDER_ID"] or config["SMS_FROM"]


def provider() -> Provider:
    """Return the app's outgoing telephony provider."""
    return current_app.extensions["telephony"]


def caller_side(app: Flask, name: str | None = None) -> CallerSide:
    """Return provider ``name``'s part toward our webhooks (default: the main provider's)."""
    name = name or app.extensions["telephony_webhooks"][0].name
    if name == "exotel":
        config = app.config
        return ExotelCaller(
            config["EXOTEL_WEBHOOK_TOKEN"],
            config["EXOTEL_WEBHOOK_USER"],
            config["EXOTEL_WEBHOOK_PASSWORD"],
        )
    if name == "plivo":
        return PlivoCaller(app.config["PLIVO_AUTH_TOKEN"])
    if name == "twilio":
        return TwilioCaller(app.config["TWILIO_AUTH_TOKEN"])
    raise TelephonySettingsError(f"no provider {name!r}: expected one of {', '.join(PROVIDERS)}")


DEV_BASE_URL = "http://localhost:5000"
"""Where the provider reaches a development machine with no ``PUBLIC_BASE_URL``."""


def webhook_url(endpoint: str, **values: Any) -> str:
    """Return the absolute URL the main provider calls for ``endpoint`` (no request needed).

    Built on ``PUBLIC_BASE_URL`` and, for Exotel, under its secret path.
    """
    config = current_app.config
    parts = urlsplit((config.get("PUBLIC_BASE_URL") or DEV_BASE_URL).rstrip("/"))
    script_name = parts.path
    if provider().name == "exotel":
        script_name += PATH_PREFIX + config["EXOTEL_WEBHOOK_TOKEN"]
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=script_name or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(endpoint, values, method="POST", force_external=True)
