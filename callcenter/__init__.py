"""The operator and supervisor console: login, the callback queue, calling, dispositions,
applications filled during a call, dashboards and exports. Everything under ``/console``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the console's blueprints and commands."""
    from callcenter.applications_views import applications_bp
    from callcenter.views import console_bp
    from core.extensions import db, login_manager
    from core.models import User

    login_manager.init_app(app)
    login_manager.login_view = "console.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    app.register_blueprint(console_bp)
    app.register_blueprint(applications_bp)
