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
from telephony import exotel, inbound, plivo, twilio
from telephony.exceptions import PermanentTelephonyError
from telephony.outbound import OutboxProvider, Provider, Recording
from telephony.registry import Registration
from telephony.script import CallerSide

REGISTRATIONS: dict[str, Registration] = {
    each.name: each for each in (twilio.REGISTRATION, plivo.REGISTRATION, exotel.REGISTRATION)
}
"""Every provider, by the name ``TELEPHONY_PROVIDER`` and ``TELEPHONY_ALSO_ACCEPT`` use."""

PROVIDERS = tuple(REGISTRATIONS)


class TelephonySettingsError(ValueError):
    """The telephony settings cannot work: the message names the setting to fix."""


def registration(name: str, setting: str = "TELEPHONY_PROVIDER") -> Registration:
    """Return provider ``name``'s registration; refuse a name no module registers."""
    found = REGISTRATIONS.get(name)
    if found is None:
        raise TelephonySettingsError(
            f"{setting} names {name!r}: expected one of {', '.join(PROVIDERS)}"
        )
    return found


def init_app(app: Flask) -> None:
    """Choose the outgoing provider and the providers whose webhooks are taken."""
    config = app.config
    main = (config["TELEPHONY_PROVIDER"] or "").strip().lower()
    if main:
        registration(main)
    elif config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"]:
        main = "twilio"
    outgoing = _outgoing(config, registration(main)) if main else OutboxProvider()
    app.extensions["telephony"] = outgoing
    accepted = [registration(main or "twilio")]
    for name in split_list(config["TELEPHONY_ALSO_ACCEPT"]):
        also = registration(name.lower(), "TELEPHONY_ALSO_ACCEPT")
        if also not in accepted:
            accepted.append(also)
    app.extensions["telephony_webhooks"] = tuple(each.webhooks(config) for each in accepted)
    inbound.init_app(app)
    for each in accepted:
        app.wsgi_app = each.wrap_app(app.wsgi_app, config)  # type: ignore[method-assign]
    if not config["TELEPHONY_VALIDATE_SIGNATURES"]:
        app.logger.warning(
            "TELEPHONY_VALIDATE_SIGNATURES is off: anyone can post forged provider webhooks"
        )
    for each in accepted:
        if not config[each.webhook_secret]:
            if each.secret_required:
                _require(config, each.name, each.webhook_secret)
            elif config["TELEPHONY_VALIDATE_SIGNATURES"]:
                app.logger.warning(
                    f"{each.webhook_secret} is not set: every {each.name} webhook will get 403"
                )


def _outgoing(config: dict[str, Any], provider_: Registration) -> Provider:
    """Return the provider for SMS and calls; refuse settings that cannot work."""
    name = provider_.name
    if not (config["SMS_SENDER_ID"] or config["SMS_FROM"]):
        raise TelephonySettingsError(
            f"TELEPHONY_PROVIDER is {name} but SMS_SENDER_ID (the registered sender header) "
            "and SMS_FROM are not set: SMS would go out with no sender"
        )
    _require(config, name, "CALLER_ID")
    if provider_.takes_dlt_entity_id and config["DEFAULT_REGION"] == "IN":
        _require(config, name, "DLT_ENTITY_ID")
    _require(config, name, *provider_.credentials)
    return provider_.outgoing(config)


def _require(config: dict[str, Any], provider_name: str, *names: str) -> None:
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


def fetch_recording(provider_name: str | None, url: str) -> Recording:
    """Fetch a recording made by ``provider_name``'s call, with that provider's credentials.

    The main provider's client serves its own calls; a call carried by another provider
    (before a move) is fetched with that provider's account when its settings are still there.
    """
    main = provider()
    if not provider_name or provider_name == main.name:
        return main.fetch_recording(url)
    found = REGISTRATIONS.get(provider_name)
    config = current_app.config
    if found is None or not all(config.get(name) for name in found.credentials):
        raise PermanentTelephonyError(
            f"The call was carried by {provider_name}, whose account is not configured"
        )
    return found.outgoing(config).fetch_recording(url)


def caller_side(app: Flask, name: str | None = None) -> CallerSide:
    """Return provider ``name``'s part toward our webhooks (default: the main provider's)."""
    name = name or app.extensions["telephony_webhooks"][0].name
    return registration(name).caller(app.config)


def webhook_secret_setting(name: str) -> str:
    """Return the setting that secures provider ``name``'s webhooks."""
    return registration(name).webhook_secret


DEV_BASE_URL = "http://localhost:5000"
"""Where the provider reaches a development machine with no ``PUBLIC_BASE_URL``."""


def webhook_url(endpoint: str, **values: Any) -> str:
    """Return the absolute URL the main provider calls for ``endpoint`` (no request needed).

    Built on ``PUBLIC_BASE_URL`` and, for Exotel, under its secret path.
    """
    config = current_app.config
    parts = urlsplit((config.get("PUBLIC_BASE_URL") or DEV_BASE_URL).rstrip("/"))
    main = provider().name
    script_name = parts.path
    if main in REGISTRATIONS:  # not the outbox
        script_name += REGISTRATIONS[main].webhook_path(config)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=script_name or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(endpoint, values, method="POST", force_external=True)
