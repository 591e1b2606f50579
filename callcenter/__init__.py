"""The operator and supervisor console: login, the callback queue, calling, dispositions,
applications filled during a call, dashboards and exports. Everything under ``/console``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the console's blueprints and commands."""
    from callcenter.views import console_bp

    app.register_blueprint(console_bp)
