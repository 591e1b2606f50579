"""The telephony boundary: everything that knows it is talking to Twilio.

TwiML rendering, webhook signature checks, the names of webhook parameters and the REST
calls that send SMS and place calls live here and nowhere else. The flows in ``ivr``,
``callcenter`` and ``callqueue`` speak to this package's small interface, so an Indian
provider (Exotel, Plivo, Ozonetel) can be added beside Twilio without touching them.
"""

from __future__ import annotations

from flask import Flask, current_app

from telephony.outbound import OutboxProvider, Provider, TwilioProvider


def init_app(app: Flask) -> None:
    """Choose the outgoing provider and warn when webhook signatures are not checked."""
    if app.config["TWILIO_ACCOUNT_SID"] and app.config["TWILIO_AUTH_TOKEN"]:
        provider: Provider = TwilioProvider(
            app.config["TWILIO_ACCOUNT_SID"],
            app.config["TWILIO_AUTH_TOKEN"],
            api_base_url=app.config["TWILIO_API_BASE_URL"] or None,
        )
    else:
        provider = OutboxProvider()
    app.extensions["telephony"] = provider
    if not app.config["TWILIO_VALIDATE_SIGNATURES"]:
        app.logger.warning(
            "TWILIO_VALIDATE_SIGNATURES is off: anyone can post forged Twilio webhooks"
        )
    elif not app.config["TWILIO_AUTH_TOKEN"]:
        app.logger.warning("TWILIO_AUTH_TOKEN is not set: every Twilio webhook will get 403")


def provider() -> Provider:
    """Return the app's outgoing telephony provider."""
    return current_app.extensions["telephony"]
