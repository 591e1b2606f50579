"""Flask-Limiter on the app's Redis, looking at the console's requests only."""

from __future__ import annotations

from typing import Any

from flask import Flask

from core.extensions import limiter
from core.rate_limits import storage_uri


def _of_limiter(hook: Any) -> bool:
    owner = getattr(hook, "__self__", None)
    return owner is limiter or limiter in getattr(hook, "args", ())


def test_flask_limiter_looks_at_the_console_and_not_at_webhooks(app: Flask):
    # Its hooks cost tens of microseconds a request; the webhooks have no limits to check.
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        assert not [hook for hook in registry.get(None, []) if _of_limiter(hook)]
        assert [hook for hook in registry.get("console", []) if _of_limiter(hook)]


def test_the_embedded_redis_is_named_as_limits_names_a_unix_socket(tmp_path):
    embedded = Flask(__name__, instance_path=str(tmp_path / "instance"))
    embedded.config["REDIS_URL"] = ""
    socket = tmp_path / "instance" / "redis" / "redis.sock"
    assert storage_uri(embedded) == f"redis+unix://{socket}"
    embedded.config["REDIS_URL"] = "unix:///run/redis.sock?db=2"
    assert storage_uri(embedded) == "redis+unix:///run/redis.sock?db=2"
