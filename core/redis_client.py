"""The Redis connection: ``REDIS_URL``, or the embedded server when none is given."""

from __future__ import annotations

import os
import threading
from typing import Any

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.embedded_redis import EmbeddedRedis

CONNECT_TIMEOUT_SECONDS = 0.5
"""A webhook must answer the provider within seconds; a Redis that does not answer is down."""

COMMAND_TIMEOUT_SECONDS = 2.0

RETRIES = 1
"""One immediate retry rides over a pooled connection that a Redis restart closed; more
would only keep a webhook waiting on a server that is down."""

_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Register the lazily made Redis client; nothing connects until first use."""
    app.extensions["redis"] = None


def redis_url(app: Flask) -> str:
    """Return the configured Redis URL, starting the embedded server when there is none."""
    url = app.config["REDIS_URL"]
    if not url:
        url = EmbeddedRedis(os.path.join(app.instance_path, "redis")).start()
        app.config["REDIS_URL"] = url
    return url


def redis_client(app: Flask | None = None) -> redis.Redis:
    """Return the app's Redis client (bytes in and out, as RQ needs)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get("redis")
    if client is None:
        with _lock:
            client = app.extensions.get("redis")
            if client is None:
                client = redis.Redis.from_url(redis_url(app), **client_options())
                app.extensions["redis"] = client
    return client


def client_options() -> dict[str, Any]:
    """Return the timeouts and retries every Redis client of the app is made with."""
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": COMMAND_TIMEOUT_SECONDS,
        "health_check_interval": 30,
        "retry": Retry(NoBackoff(), RETRIES),
    }
