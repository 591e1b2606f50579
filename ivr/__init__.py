"""Twilio voice webhooks: missed-call intake, the IVR's steps, call and SMS status callbacks.

Views here answer the provider in TwiML through ``telephony`` and turn calls into records;
the work that follows (SMS, calls back) is handed to ``callqueue``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the webhook blueprints."""
    from ivr.views import ivr_bp, sms_bp

    app.register_blueprint(ivr_bp)
    app.register_blueprint(sms_bp)
