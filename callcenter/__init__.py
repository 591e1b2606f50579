"""The operator and supervisor console: login, the callback queue, calling, dispositions,
applications filled during a call, dashboards and exports, and the field engineers' pages
of the connection clock. Everything under ``/console``.
"""

from __future__ import annotations

from flask import Flask, render_template


def init_app(app: Flask) -> None:
    """Register the console's blueprints and commands, and its cookie settings."""
    from flask_babel import gettext
    from flask_wtf.csrf import CSRFError

    from callcenter import labels, language
    from callcenter.applications_views import applications_bp
    from callcenter.cli import users_cli
    from callcenter.connections_views import connections_bp
    from callcenter.dashboard_views import dashboard_bp
    from callcenter.floor_views import floor_bp
    from callcenter.language import N_, language_bp
    from callcenter.outages_views import outages_bp
    from callcenter.payments_views import payments_console_bp
    from callcenter.queue import release_stale_claims
    from callcenter.security import guard, keep_to_field_work, load_session_user
    from callcenter.views import console_bp
    from core import housekeeping
    from core.config import settings_of
    from core.extensions import login_manager

    secure = settings_of(app).PUBLIC_BASE_URL.startswith("https://")
    _cookie_default(app, "SESSION_COOKIE_HTTPONLY", True)
    _cookie_default(app, "SESSION_COOKIE_SAMESITE", "Lax")
    _cookie_default(app, "REMEMBER_COOKIE_HTTPONLY", True)
    _cookie_default(app, "REMEMBER_COOKIE_SAMESITE", "Lax")
    if secure:
        _cookie_default(app, "SESSION_COOKIE_SECURE", True)
        _cookie_default(app, "REMEMBER_COOKIE_SECURE", True)

    language.init_app(app)
    labels.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    # Flashed in the page's language: Flask-Login passes it through gettext.
    login_manager.login_message = N_("Log in to use the console.")
    login_manager.localize_callback = gettext

    login_manager.user_loader(load_session_user)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        # Webhooks are exempt, so this is a console form that is stale or was forged.
        message = gettext(
            "This form has expired or is missing its security token (%(why)s). "
            "Reload the page and try again; nothing was changed.",
            why=error.description,
        )
        return render_template("console/refused.html", message=message), 400

    for blueprint in (
        console_bp,
        language_bp,
        applications_bp,
        dashboard_bp,
        payments_console_bp,
        connections_bp,
        outages_bp,
        floor_bp,
    ):
        guard(app, blueprint)
        app.register_blueprint(blueprint)
    for blueprint in (console_bp, applications_bp):
        app.before_request_funcs.setdefault(blueprint.name, []).append(keep_to_field_work)
    app.cli.add_command(users_cli)
    # Claims an operator took and left are released by the sweeper.
    housekeeping.register(app, "claims_released", release_stale_claims)


def _cookie_default(app: Flask, key: str, value: object) -> None:
    # Flask fills its cookie keys with lax defaults (None, False), so setdefault would never
    # apply; an explicit setting still wins.
    if not app.config.get(key):
        app.config[key] = value
