"""The telephony boundary: everything that knows which provider carries the calls.

The flows in ``ivr``, ``callcenter`` and ``callqueue`` describe what a call should do with
the provider-neutral call script (``telephony.script``), read provider-neutral webhook
records (``telephony.records``) and send SMS and place calls through one ``Provider``
interface (``telephony.outbound``). Each provider's dialect, its webhook signature, its
parameter names and its REST API live in a module of their own (``telephony.twilio``,
``telephony.plivo``); nothing outside this package names them.
"""

from __future__ import annotations

from flask import Flask, current_app

from core.config import split_list
from telephony.inbound import WebhookDialect
from telephony.outbound import OutboxProvider, Provider
from telephony.twilio import TwilioProvider, TwilioWebhooks

PROVIDERS = ("twilio",)
"""The providers ``TELEPHONY_PROVIDER`` and ``TELEPHONY_ALSO_ACCEPT`` may name."""


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
    if not config["TELEPHONY_VALIDATE_SIGNATURES"]:
        app.logger.warning(
            "TELEPHONY_VALIDATE_SIGNATURES is off: anyone can post forged provider webhooks"
        )
    elif "twilio" in accepted and not config["TWILIO_AUTH_TOKEN"]:
        app.logger.warning("TWILIO_AUTH_TOKEN is not set: every Twilio webhook will get 403")


def _outgoing(app: Flask, name: str) -> Provider:
    config = app.config
    _require(config, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    return TwilioProvider(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        api_base_url=config["TWILIO_API_BASE_URL"] or None,
    )


def _webhooks(app: Flask, name: str) -> WebhookDialect:
    return TwilioWebhooks(app.config["TWILIO_AUTH_TOKEN"])


def _require(config: dict[str, object], *names: str) -> None:
    for setting in names:
        if not config.get(setting):
            raise TelephonySettingsError(f"{setting} is not set")


def provider() -> Provider:
    """Return the app's outgoing telephony provider."""
    return current_app.extensions["telephony"]
