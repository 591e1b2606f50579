"""Voice webhooks: missed-call intake, the IVR's steps, call and SMS status callbacks, SMS replies.

Views here answer the provider with the call script of ``telephony`` (which writes it in
the provider's dialect) and turn calls into records; the work that follows (SMS, calls
back) is handed to ``callqueue``.
"""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger("sampark.ivr")

ACCOUNT_TERM = "account_term"
"""The catalogue's term for the DISCOM's name of its account number."""


def prompt_terms() -> dict[str, dict[str, str]]:
    """Return the configured DISCOM's words for the prompts' terms ("BP number", "के नंबर")."""
    from forms.config import discom_profile
    from forms.exceptions import ConfigurationError
    from voice_prompts.languages import LANGUAGES

    try:
        number = discom_profile().account_number
    except ConfigurationError as error:
        # The forms refuse to work without a profile; the IVR still answers, with the
        # catalogue's generic "account number", rather than fail every call.
        log.error("IVR prompts keep the generic account-number words: %s", error)
        return {}
    return {ACCOUNT_TERM: {lang: number.spoken(lang) for lang in LANGUAGES}}


def init_app(app: Flask) -> None:
    """Register the webhook blueprints, and say whose words the prompts' terms are."""
    import voice_prompts
    from core.config import settings_of
    from core.extensions import csrf
    from core.sessions import without_sessions
    from ivr.announce import announce_bp
    from ivr.bridge import bridge_bp
    from ivr.views import ivr_bp, sms_bp
    from ivr.voice import voice_bp

    # Bad callback slots stop the start, naming the setting, rather than a caller later.
    slots = settings_of(app).callback_slots
    if not slots.slots:
        log.warning("CALLBACK_SLOTS: no slot inside CALLING_HOURS; callers are not asked")
    # Providers cannot send a CSRF token, nor keep a cookie: these check the provider's
    # signature instead, and carry their state in their URLs.
    for blueprint in (ivr_bp, sms_bp, voice_bp, bridge_bp, announce_bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
        without_sessions(app, f"{blueprint.url_prefix}/")
    voice_prompts.use_terms(app, prompt_terms)
    register_commands(app)


def register_commands(app: Flask) -> None:
    """Register ``flask ivr call`` (the call simulator) and ``flask seed-demo``."""
    from ivr.cli import ivr_cli
    from ivr.demo import seed_demo_command

    app.cli.add_command(ivr_cli)
    app.cli.add_command(seed_demo_command)
