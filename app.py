"""The Sampark app factory. ``python app.py`` serves the app for development."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import callcenter
import callqueue
import connections
import ivr
import meters
import outages
import payments
import telephony
import voice_prompts
from core import (
    blocklist,
    config,
    database,
    devserver,
    health,
    logs,
    metrics,
    rate_limits,
    redis_client,
    request_guards,
    sessions,
)
from core.extensions import csrf


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app."""
    # SAMPARK_INSTANCE_PATH moves local state (SQLite file, embedded Redis, keys) elsewhere.
    instance_path = os.environ.get("SAMPARK_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    config.load(app, test_config)
    register_request_guards(app)
    register_proxy(app)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def register_request_guards(app: Flask) -> None:
    # Before any blueprint: routes take their converters when they are registered.
    request_guards.init_app(app)


def register_proxy(app: Flask) -> None:
    # Behind a TLS-terminating proxy, request.url must be the https:// URL the provider signed.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    logs.init_app(app)
    sessions.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    redis_client.init_app(app)
    rate_limits.init_app(app, blueprints=["console"])
    telephony.init_app(app)


def register_blueprints(app: Flask) -> None:
    health.init_app(app)
    ivr.init_app(app)
    callcenter.init_app(app)
    payments.init_app(app)
    outages.init_app(app)
    # The providers' and the gateway's webhooks are timed; the console and /healthz are not.
    metrics.init_app(app, webhooks=["ivr", "sms", "voice", "bridge", "announce", "payments"])


def register_commands(app: Flask) -> None:
    callqueue.init_app(app)
    meters.init_app(app)
    connections.init_app(app)
    blocklist.init_app(app)
    voice_prompts.init_app(app)
    devserver.init_app(app)


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("PORT", "5000")), debug=True)
