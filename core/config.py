"""Settings: their declaration (``Settings``), the environment, the typed object the app reads."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, get_type_hints
from zoneinfo import ZoneInfo

from flask import Flask, current_app

if TYPE_CHECKING:
    from core.callback_slots import CallbackSlots
    from core.hours import CallingHours

EXTENSION_KEY = "settings"


@dataclass(frozen=True)
class Settings:
    """Every setting with its type and default: the one place a setting is declared.

    ``load`` fills ``app.config`` from these defaults, the environment and a test's mapping,
    then builds one ``Settings`` from it, typed (text from the environment becomes numbers
    and flags here), and keeps it on the app; code reads ``settings().IVR_GATHER_TIMEOUT``
    rather than repeating a default of its own. What is parsed from a setting (calling
    hours, lists, mappings) is parsed once, on first use, and kept on the same object.
    Settings outside this list (Flask's own, ``SAMPARK_*`` extras such as
    ``DLT_TEMPLATE_<KEY>``) stay in ``app.config``.
    """

    # Database and Redis; empty means "the development default" (SQLite file, embedded Redis).
    DATABASE_URL: str = ""
    REDIS_URL: str = ""
    # Database connections each web process keeps: at least its threads (gunicorn.conf.py).
    DATABASE_POOL_SIZE: int = 16
    # Telephony: the provider that carries calls and SMS (empty: Twilio when its account is
    # set, else the outbox table), others whose webhooks are also taken (a migration),
    # and whether webhook signatures are checked.
    TELEPHONY_PROVIDER: str = ""
    TELEPHONY_ALSO_ACCEPT: str = ""
    TELEPHONY_VALIDATE_SIGNATURES: bool = True
    TWILIO_ACCOUNT_SID: str = ""
    TWILIO_AUTH_TOKEN: str = ""
    TWILIO_API_BASE_URL: str = ""
    PLIVO_AUTH_ID: str = ""
    PLIVO_AUTH_TOKEN: str = ""
    PLIVO_API_BASE_URL: str = ""
    EXOTEL_SID: str = ""
    EXOTEL_API_KEY: str = ""
    EXOTEL_API_TOKEN: str = ""
    EXOTEL_API_BASE_URL: str = ""
    EXOTEL_WEBHOOK_TOKEN: str = ""
    EXOTEL_WEBHOOK_USER: str = ""
    EXOTEL_WEBHOOK_PASSWORD: str = ""
    PUBLIC_BASE_URL: str = ""
    # Numbers of the DISCOM: SMS sender (a registered 6-letter header in India, else a
    # number), caller ID, and the DLT entity id Indian SMS carry.
    SMS_SENDER_ID: str = ""
    SMS_FROM: str = ""
    CALLER_ID: str = ""
    DLT_ENTITY_ID: str = ""
    DEFAULT_REGION: str = "IN"
    ALLOWED_REGIONS: str = "IN"
    # Language of a caller we know nothing about, and numbers that imply another one.
    DEFAULT_LANGUAGE: str = "hi"
    LANGUAGE_BY_DIALLED_NUMBER: str = ""
    # Missed-call intake.
    MISSED_CALLS_PER_HOUR_LIMIT: int = 10
    CALLBACK_DEFAULT_PRIORITY: int = 0
    CALLBACK_EXPIRY_HOURS: int = 72
    # Calling hours in Asia/Kolkata: "HH:MM-HH:MM", weekday names off, dates off.
    CALLING_HOURS: str = "09:00-21:00"
    CALLING_DAYS_OFF: str = ""
    CALLING_HOLIDAYS: str = ""
    TIMEZONE: str = "Asia/Kolkata"
    # Parts of the calling day a consumer may ask to be called back in (IVR, SMS reply):
    # morning, afternoon, evening as name=HH:MM-HH:MM, clipped to CALLING_HOURS.
    CALLBACK_SLOTS: str = "morning=09:00-12:00,afternoon=12:00-16:00,evening=16:00-21:00"
    # SMS sending: attempts in all and the waits between them, in seconds.
    SMS_MAX_ATTEMPTS: int = 5
    SMS_RETRY_BACKOFF: str = "10,30,120,600"
    # Work recorded in SQL that has not reached Redis after this long is queued again.
    RECONCILE_AFTER_SECONDS: int = 60
    # The SMS template catalogue and DLT template ids (``DLT_TEMPLATE_<KEY>`` overrides).
    SMS_TEMPLATES_FILE: str = ""
    # Calling consumers back: attempts, minutes between them, recording, ring time.
    CALL_MAX_ATTEMPTS: int = 3
    CALL_RETRY_BACKOFF: str = "15,60"
    CALL_RECORDING: bool = False
    CALL_DIAL_TIMEOUT: int = 30
    # The console: minutes within calling hours to reach a caller (the SLA), how long a
    # claim may go unworked, login attempts per username and per address in a window.
    SLA_MINUTES: int = 120
    CLAIM_TIMEOUT_MINUTES: int = 15
    LOGIN_MAX_ATTEMPTS: int = 5
    LOGIN_MAX_ATTEMPTS_PER_IP: int = 20
    LOGIN_WINDOW_SECONDS: int = 900
    # Console sessions end after this long without a request, and this long after login.
    SESSION_IDLE_MINUTES: int = 30
    SESSION_MAX_HOURS: int = 12
    QUEUE_REFRESH_SECONDS: int = 5
    # The console's own language for someone who has not chosen one and whose browser asks
    # for neither Hindi nor English: "hi" or "en" (each user's choice is kept on their row).
    CONSOLE_DEFAULT_LANGUAGE: str = "hi"
    # Languages a consumer may need, offered after "language not spoken".
    CONSOLE_LANGUAGES: str = "hi,en,bho,mai,mag,raj,ur"
    # The IVR: where "0" dials, seconds to wait for keys, tries before offering a callback,
    # ring time, how long callers' phones may cache prompt audio, repeated fault reports.
    CALL_CENTRE_NUMBER: str = ""
    IVR_GATHER_TIMEOUT: int = 6
    IVR_MAX_TRIES: int = 3
    IVR_DIAL_TIMEOUT: int = 30
    IVR_AUDIO_MAX_AGE: int = 365 * 24 * 3600
    IVR_FAULT_REPEAT_HOURS: int = 6
    # Outbound announcement campaigns: pace, attempts per number, minutes between them.
    CAMPAIGN_CALLS_PER_SECOND: float = 1.0
    CAMPAIGN_MAX_ATTEMPTS: int = 3
    CAMPAIGN_RETRY_MINUTES: int = 30
    # Rendered voice prompts; empty means <instance>/prompts.
    VOICE_PROMPTS_DIR: str = ""
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    SECRET_KEY: str = ""
    # Operations: the bearer token Prometheus scrapes /metrics with (none: no /metrics),
    # and how log lines are written ("text", or "json": one JSON object a line).
    METRICS_TOKEN: str = ""
    LOG_FORMAT: str = "text"
    # The DISCOM's name in SMS, and the queues' bookkeeping in Redis (seconds).
    DISCOM_NAME_HI: str = "बिजली कॉल सेंटर"
    DISCOM_NAME_EN: str = "Electricity call centre"
    RQ_RESULT_TTL: int = 3600
    RQ_FAILURE_TTL: int = 7 * 24 * 3600

    # Smart-meter reconnection (meters/). The head-end's base URL (empty: no reconnection
    # commands are sent; orders are recorded and wait), its HTTP Basic user and password
    # or a bearer token, and the seconds a request to it may take.
    HEAD_END_URL: str = ""
    HEAD_END_USER: str = ""
    HEAD_END_PASSWORD: str = ""
    HEAD_END_TOKEN: str = ""
    HEAD_END_TIMEOUT: float = 10.0
    # When connect/disconnect commands may be sent, in TIMEZONE: "HH:MM-HH:MM" (empty: at
    # any time), weekday names off, dates off (some states forbid them at night and on
    # Sundays and holidays). Outside them an order waits for the window to open.
    HEAD_END_COMMAND_HOURS: str = ""
    HEAD_END_COMMAND_DAYS_OFF: str = ""
    HEAD_END_COMMAND_HOLIDAYS: str = ""
    # Head-end errors that pass (timeouts, 5xx) tolerated per order, and the seconds
    # between tries (the last repeats); then the order is flagged for a person.
    RECONNECT_MAX_ATTEMPTS: int = 5
    RECONNECT_RETRY_BACKOFF: str = "10,30,120,600"
    # Seconds between two reads of the relay after a command, and reads before giving up.
    RECONNECT_POLL_SECONDS: int = 5
    RECONNECT_MAX_POLLS: int = 36
    # A consumer who paid and is still disconnected this long after gets a callback of
    # this priority (the queue takes higher priorities first; missed calls get 0).
    RECONNECT_CALLBACK_AFTER_MINUTES: int = 30
    RECONNECT_CALLBACK_PRIORITY: int = 10

    # Payments (payments/). Razorpay's API keys and webhook secret (no key: no payment
    # links, the demand note says where to pay); its REST base URL (empty: Razorpay's own;
    # tests and staging point it at a stand-in); seconds to wait for its answer.
    RAZORPAY_KEY_ID: str = ""
    RAZORPAY_KEY_SECRET: str = ""
    RAZORPAY_WEBHOOK_SECRET: str = ""
    RAZORPAY_API_BASE_URL: str = ""
    RAZORPAY_TIMEOUT_SECONDS: int = 10
    # A payment link expires this many hours after it is made.
    PAYMENT_LINK_EXPIRY_HOURS: int = 168
    # Ask for a UPI payment link (upi_link: UPI only, Razorpay's live mode only).
    PAYMENT_LINK_UPI: bool = False
    # Tries at making a link before the SMS goes out without one, and the seconds between.
    PAYMENT_LINK_MAX_ATTEMPTS: int = 3
    PAYMENT_LINK_RETRY_BACKOFF: str = "5,30"
    # Where to pay when there is no link (SMS and demand note), in English and in Hindi.
    PAYMENT_WHERE_TO_PAY: str = (
        "at a DISCOM cash counter or an e-Mitra kiosk, quoting the application number"
    )
    PAYMENT_WHERE_TO_PAY_HI: str = "आवेदन क्रमांक बताकर बिजली कार्यालय के कैश काउंटर या ई-मित्र कियोस्क पर"
    # POST /payments/posting (BBPS billers, cash counters, kiosks): the HMAC key (none: the
    # door is shut, 404), and how far a request's timestamp may be from ours, in seconds.
    POSTING_SHARED_SECRET: str = ""
    POSTING_MAX_SKEW_SECONDS: int = 300

    # The connection clock (connections/): the timeline preset ("cspdcl": 3 days urban / 5
    # rural; "rights_rules_2024": 3 metro / 7 municipal / 15 rural / 30 hilly rural).
    CONNECTION_TIMELINE: str = "cspdcl"
    # Days allowed per area class, over the preset's ("urban=2,rural=4"; empty: the preset).
    CONNECTION_DAYS: str = ""
    # Area class by district or district/subdivision ("Raipur=metro,Bastar/Bakawand=
    # hilly_rural"); elsewhere the preset's class for the form's urban/rural.
    CONNECTION_AREA_CLASSES: str = ""
    # The event the clock counts from: "payment", "submission" or "demand".
    CONNECTION_CLOCK_STARTS: str = "payment"
    # Hours within which staff earn incentive points, by the form's area type.
    CONNECTION_INCENTIVE_HOURS: str = "urban=12,rural=24"
    # Compensation owed to the consumer per day of delay, in rupees (the state commission's).
    CONNECTION_COMPENSATION_PER_DAY: str = "50"

    # Outage notices (outages/): numbers recorded per write transaction, whether consumers
    # get an SMS when supply is restored, days closed outages stay listed, and how often
    # the console's outage page refreshes its list (seconds).
    OUTAGE_NOTICE_BATCH: int = 1000
    OUTAGE_RESTORED_SMS: bool = True
    OUTAGE_RECENT_DAYS: int = 7
    OUTAGE_REFRESH_SECONDS: int = 30

    # The operator floor: seconds of after-call work after an outcome is recorded before
    # take-next offers the operator another callback ("Ready" ends it sooner), and how
    # often the supervisors' wallboard and campaigns page refresh themselves.
    AFTER_CALL_WORK_SECONDS: int = 60
    WALLBOARD_REFRESH_SECONDS: int = 10

    # Bulk SMS (callqueue.sms_batch): messages per send job, sends in flight at once in
    # one worker process, and the provider's limit in SMS a second, shared by every
    # worker on the same Redis (0: no limit).
    SMS_BATCH_SIZE: int = 200
    SMS_SEND_CONCURRENCY: int = 50
    SMS_PER_SECOND_LIMIT: float = 0.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Read each setting from ``config``, as its declared type."""
        hints = _field_types()
        values = {}
        for each in fields(cls):
            value = config.get(each.name, each.default)
            if isinstance(value, str) and not value.strip() and hints[each.name] in (int, float):
                value = each.default  # NAME= in the environment: as if it were not set
            try:
                values[each.name] = _as(hints[each.name], value)
            except (TypeError, ValueError) as exc:
                kind = _KIND_WORDS.get(hints[each.name], str(hints[each.name]))
                raise SettingsError(f"{each.name}={value!r} must be {kind}") from exc
        return cls(**values)

    @cached_property
    def calling_hours(self) -> CallingHours:
        """The calling-hours window these settings describe."""
        from core.hours import CallingHours

        return CallingHours.from_settings(
            self.CALLING_HOURS, self.TIMEZONE, self.CALLING_DAYS_OFF, self.CALLING_HOLIDAYS
        )

    @cached_property
    def callback_slots(self) -> CallbackSlots:
        """The callback slots these settings offer, inside the calling hours."""
        from core.callback_slots import CallbackSlots

        return CallbackSlots.from_settings(self.CALLBACK_SLOTS, self.calling_hours)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The DISCOM's time zone (``TIMEZONE``)."""
        return ZoneInfo(self.TIMEZONE)

    @cached_property
    def allowed_regions(self) -> frozenset[str]:
        """Regions (ISO codes, upper case) whose numbers are taken."""
        return frozenset(region.upper() for region in split_list(self.ALLOWED_REGIONS))

    @cached_property
    def language_by_dialled_number(self) -> dict[str, str]:
        """Dialled number → language of the callers who dial it."""
        return mapping_setting(self.LANGUAGE_BY_DIALLED_NUMBER)


class SettingsError(ValueError):
    """A setting's value cannot be read as its type; the app does not start."""


DEFAULTS: dict[str, Any] = {each.name: each.default for each in fields(Settings)}
"""Each setting's default, by name."""


def _field_types() -> dict[str, type]:
    return get_type_hints(Settings)


_KIND_WORDS = {int: "a whole number", float: "a number"}

_FALSE_WORDS = {"0", "false", "no", "off", ""}


def _as(kind: type, value: Any) -> Any:
    if kind is bool:
        return value.strip().lower() not in _FALSE_WORDS if isinstance(value, str) else bool(value)
    if kind is str:
        return "" if value is None else str(value)
    return kind(value)


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
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{os.path.join(app.instance_path, 'sampark.db')}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(app)
    refresh(app)


def refresh(app: Flask) -> Settings:
    """Build the app's ``Settings`` from ``app.config`` (again, after a change to it)."""
    built = Settings.from_config(app.config)
    # app.config holds the typed values too, for Flask's own readers and extensions.
    app.config.update({each.name: getattr(built, each.name) for each in fields(Settings)})
    app.extensions[EXTENSION_KEY] = built
    return built


def settings() -> Settings:
    """The current app's settings."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def settings_of(app: Flask) -> Settings:
    """An app's settings, where there is no app context yet (``init_app``)."""
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


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
