"""Rate limits (Flask-Limiter), counted in the app's Redis: ``REDIS_URL`` or the embedded one.

Limits are declared on the views they guard (the console's failed logins:
``callcenter.auth``). A Redis that does not answer lets requests through, logged by
Flask-Limiter, rather than refusing them: a limit guards against guessing, and the console
must stay usable while Redis is down.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from flask import Flask

from core.embedded_redis import EmbeddedRedis
from core.extensions import limiter
from core.redis_client import client_options


def init_app(app: Flask, blueprints: Iterable[str]) -> None:
    """Point Flask-Limiter at the app's Redis; let it look at the ``blueprints``' requests only.

    Flask-Limiter hooks itself into every request of an app, before and after the view,
    which cost about 60 µs a request on a bare endpoint here. Only the console has limits,
    and the webhooks' hot paths must not pay for them, so the hooks it adds move from the
    whole app to the named blueprints (Flask keys its hook lists by blueprint name).
    """
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app))
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", client_options())
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    app_wide = [list(registry.get(None, [])) for registry in registries]
    limiter.init_app(app)
    names = list(blueprints)
    for registry, kept in zip(registries, app_wide, strict=True):
        added = [hook for hook in registry.get(None, []) if hook not in kept]
        registry[None] = kept
        for name in names:
            registry.setdefault(name, []).extend(added)


def storage_uri(app: Flask) -> str:
    """Return the app's Redis URL as the ``limits`` package spells it.

    Without REDIS_URL it is the embedded server's socket, which is not started here: the
    first process that needs the server starts it (``flask dev`` before the web processes),
    and until then failed logins go uncounted, as when Redis is down.
    """
    url = app.config["REDIS_URL"] or EmbeddedRedis(os.path.join(app.instance_path, "redis")).url
    # redis-py reads a Unix socket as unix://; limits wants redis+unix:// for the same.
    return "redis+" + url if url.startswith("unix://") else url
