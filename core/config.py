"""Settings: defaults, environment variables and the checks that run at start."""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # Database and Redis; empty means "the development default" (SQLite file, embedded Redis).
    "DATABASE_URL": "",
    "REDIS_URL": "",
    # Database connections each web process keeps: at least its threads (gunicorn.conf.py).
    "DATABASE_POOL_SIZE": 16,
    # Telephony: the provider that carries calls and SMS (empty: Twilio when its account is
    # set, else the outbox table), others whose webhooks are also taken (a migration),
    # and whether webhook signatures are checked.
    "TELEPHONY_PROVIDER": "",
    "TELEPHONY_ALSO_ACCEPT": "",
    "TELEPHONY_VALIDATE_SIGNATURES": True,
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_API_BASE_URL": "",
    "PLIVO_AUTH_ID": "",
    "PLIVO_AUTH_TOKEN": "",
    "PLIVO_API_BASE_URL": "",
    "EXOTEL_SID": "",
    "EXOTEL_API_KEY": "",
    "EXOTEL_API_TOKEN": "",
    "EXOTEL_API_BASE_URL": "",
    "EXOTEL_WEBHOOK_TOKEN": "",
    "EXOTEL_WEBHOOK_USER": "",
    "EXOTEL_WEBHOOK_PASSWORD": "",
    "PUBLIC_BASE_URL": "",
    # Numbers of the DISCOM: SMS sender (a registered 6-letter header in India, else a
    # number), caller ID, and the DLT entity id Indian SMS carry.
    "SMS_SENDER_ID": "",
    "SMS_FROM": "",
    "CALLER_ID": "",
    "DLT_ENTITY_ID": "",
    "DEFAULT_REGION": "IN",
    "ALLOWED_REGIONS": "IN",
    # Language of a caller we know nothing about, and numbers that imply another one.
    "DEFAULT_LANGUAGE": "hi",
    "LANGUAGE_BY_DIALLED_NUMBER": "",
    # Missed-call intake.
    "MISSED_CALLS_PER_HOUR_LIMIT": 10,
    "CALLBACK_DEFAULT_PRIORITY": 0,
    "CALLBACK_EXPIRY_HOURS": 72,
    # Calling hours in Asia/Kolkata: "HH:MM-HH:MM", weekday names off, dates off.
    "CALLING_HOURS": "09:00-21:00",
    "CALLING_DAYS_OFF": "",
    "CALLING_HOLIDAYS": "",
    "TIMEZONE": "Asia/Kolkata",
    # SMS sending: attempts in all and the waits between them, in seconds.
    "SMS_MAX_ATTEMPTS": 5,
    "SMS_RETRY_BACKOFF": "10,30,120,600",
    # Work recorded in SQL that has not reached Redis after this long is queued again.
    "RECONCILE_AFTER_SECONDS": 60,
    # The SMS template catalogue and DLT template ids (``DLT_TEMPLATE_<KEY>`` overrides).
    "SMS_TEMPLATES_FILE": "",
    # Calling consumers back: attempts, minutes between them, recording, ring time.
    "CALL_MAX_ATTEMPTS": 3,
    "CALL_RETRY_BACKOFF": "15,60",
    "CALL_RECORDING": False,
    "CALL_DIAL_TIMEOUT": 30,
    # The console: minutes within calling hours to reach a caller (the SLA), how long a
    # claim may go unworked, login attempts per username and per address in a window.
    "SLA_MINUTES": 120,
    "CLAIM_TIMEOUT_MINUTES": 15,
    "LOGIN_MAX_ATTEMPTS": 5,
    "LOGIN_MAX_ATTEMPTS_PER_IP": 20,
    "LOGIN_WINDOW_SECONDS": 900,
    # Console sessions end after this long without a request, and this long after login.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "QUEUE_REFRESH_SECONDS": 5,
    # The IVR: where "0" dials, seconds to wait for keys, tries before offering a callback,
    # ring time, how long callers' phones may cache prompt audio, repeated fault reports.
    "CALL_CENTRE_NUMBER": "",
    "IVR_GATHER_TIMEOUT": 6,
    "IVR_MAX_TRIES": 3,
    "IVR_DIAL_TIMEOUT": 30,
    "IVR_AUDIO_MAX_AGE": 365 * 24 * 3600,
    "IVR_FAULT_REPEAT_HOURS": 6,
    # Outbound announcement campaigns: pace, attempts per number, minutes between them.
    "CAMPAIGN_CALLS_PER_SECOND": 1.0,
    "CAMPAIGN_MAX_ATTEMPTS": 3,
    "CAMPAIGN_RETRY_MINUTES": 30,
    # Rendered voice prompts; empty means <instance>/prompts.
    "VOICE_PROMPTS_DIR": "",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SECRET_KEY": "",
    # Operations: the bearer token Prometheus scrapes /metrics with (none: no /metrics),
    # and how log lines are written ("text", or "json": one JSON object a line).
    "METRICS_TOKEN": "",
    "LOG_FORMAT": "text",
    # Bulk SMS (callqueue.sms_batch): messages per send job, sends in flight at once in
    # one worker process, and the provider's limit in SMS a second, shared by every
    # worker on the same Redis (0: no limit).
    "SMS_BATCH_SIZE": 200,
    "SMS_SEND_CONCURRENCY": 50,
    "SMS_PER_SECOND_LIMIT": 0.0,
}

# Settings that arrive as text from the environment but are used as numbers or flags.
_INTEGERS = {
    "DATABASE_POOL_SIZE",
    "MISSED_CALLS_PER_HOUR_LIMIT",
    "CALLBACK_DEFAULT_PRIORITY",
    "CALLBACK_EXPIRY_HOURS",
    "SMS_MAX_ATTEMPTS",
    "RECONCILE_AFTER_SECONDS",
    "MAX_CONTENT_LENGTH",
    "CALL_MAX_ATTEMPTS",
    "CALL_DIAL_TIMEOUT",
    "SLA_MINUTES",
    "CLAIM_TIMEOUT_MINUTES",
    "LOGIN_MAX_ATTEMPTS",
    "LOGIN_MAX_ATTEMPTS_PER_IP",
    "LOGIN_WINDOW_SECONDS",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "QUEUE_REFRESH_SECONDS",
    "IVR_GATHER_TIMEOUT",
    "IVR_MAX_TRIES",
    "IVR_DIAL_TIMEOUT",
    "IVR_AUDIO_MAX_AGE",
    "IVR_FAULT_REPEAT_HOURS",
    "CAMPAIGN_MAX_ATTEMPTS",
    "CAMPAIGN_RETRY_MINUTES",
    "SMS_BATCH_SIZE",
    "SMS_SEND_CONCURRENCY",
}
_FLAGS = {"TELEPHONY_VALIDATE_SIGNATURES", "CALL_RECORDING"}
_FALSE_WORDS = {"0", "false", "no", "off", ""}


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from the defaults, the environment and ``test_config``, in that order."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        for key in DEFAULTS:
            if key in os.environ:
                app.config[key] = os.environ[key]
        # SAMPARK_* variables reach any other setting (e.g. SAMPARK_DLT_TEMPLATE_MISSED_CALL_ACK).
        app.config.from_prefixed_env("SAMPARK")
    else:
        app.config.from_mapping(test_config)
    _coerce(app.config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{os.path.join(app.instance_path, 'sampark.db')}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(app)


def _instance_secret_key(app: Flask) -> str:
    """Return a key kept in the instance folder, made on first use.

    Every gunicorn worker must sign sessions with the same key; a random key per process
    would log operators out whenever a request reached another worker. Production sets
    SECRET_KEY; this keeps a single machine working without it.
    """
    if not (app.debug or app.testing or os.environ.get("SAMPARK_DEV")):
        app.logger.warning("SECRET_KEY is not set: using one kept in the instance folder")
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, "secret-key")
    try:
        # O_EXCL: of several workers starting at once, one writes the key, the others read it.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            with open(path) as existing:
                key = existing.read().strip()
            if key:
                return key
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty; delete it or set SECRET_KEY") from None
    key = secrets.token_hex(32)
    with os.fdopen(handle, "w") as new:
        new.write(key)
    return key


def _coerce(config: dict[str, Any]) -> None:
    for key in _INTEGERS:
        config[key] = int(config[key])
    for key in _FLAGS:
        value = config[key]
        if isinstance(value, str):
            config[key] = value.strip().lower() not in _FALSE_WORDS


def normalise_database_url(url: str) -> str:
    """Make a ``postgresql://`` URL use psycopg 3, the driver the project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def split_list(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split a comma-separated setting into its trimmed, non-empty items."""
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def mapping_setting(value: str | dict[str, str]) -> dict[str, str]:
    """Read a ``key=value,key=value`` setting (or a dict) into a dict."""
    if isinstance(value, dict):
        return dict(value)
    pairs = (item.split("=", 1) for item in split_list(value) if "=" in item)
    return {key.strip(): val.strip() for key, val in pairs}
