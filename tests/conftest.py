"""Fixtures: the app on a real database and a real Redis, and the Twilio REST stand-in.

By default the suite runs on a SQLite file and an embedded Redis server. ``DATABASE_URL``
and ``REDIS_URL`` point it at PostgreSQL and a Redis server instead (``.ci/run`` does both).

The suite never reads the developer's local state: every app, in this process or in a
``flask`` process a test starts, keeps its instance folder (secret key, SQLite file,
embedded Redis, rendered prompts) under a temporary directory, and no ``flask`` command
loads a ``.env`` file (``tests/test_isolation.py``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from rq import SimpleWorker
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from app import create_app
from callqueue.queues import ALL_QUEUES, get_queue
from callqueue.relay import relay_messages
from core.embedded_redis import EmbeddedRedis
from core.extensions import db
from core.redis_client import redis_client
from tests.support.exotel_standin import ExotelStandin
from tests.support.plivo_standin import PlivoStandin
from tests.support.twilio_standin import TwilioStandin

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://sampark.example.in"
PLIVO_AUTH_ID = "MAZDQ1ZWIYNDQ1MDA0ZT"
PLIVO_AUTH_TOKEN = "test-plivo-token-0123456789abcdef"
DLT_ENTITY_ID = "1101234567890123456"
EXOTEL_SID = "sampark-test"
EXOTEL_API_KEY = "exotel-test-key"
EXOTEL_API_TOKEN = "exotel-test-token-0123456789"
EXOTEL_WEBHOOK_TOKEN = "exotel-path-token-0123456789abcdef"
PROVIDERS = ("twilio", "plivo", "exotel")
"""The providers the flow tests run against, each through its own stand-in."""
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")

_SESSION_INSTANCE = tempfile.mkdtemp(prefix="sampark-instance-")


def pytest_configure(config: pytest.Config) -> None:
    # Set before any app exists and inherited by every process a test starts: an app made
    # without an instance path of its own (a subprocess's create_app(), the migrations)
    # lands here, not in the project's instance/ folder, and `flask` skips `.env`.
    os.environ["SAMPARK_INSTANCE_PATH"] = _SESSION_INSTANCE
    os.environ["FLASK_SKIP_DOTENV"] = "1"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_INSTANCE, ignore_errors=True)


@pytest.fixture(scope="session")
def scratch_dir() -> Iterator[str]:
    # Short path: a Unix socket's path must stay under about 100 characters.
    path = tempfile.mkdtemp(prefix="sampark-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(scratch_dir: str) -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(os.path.join(scratch_dir, "redis"), persist=False)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def database_url(scratch_dir: str) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch_dir}/sampark.db"
    app = create_app(
        {"DATABASE_URL": url, "REDIS_URL": "redis://unused", "TESTING": True, "SECRET_KEY": "test"}
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Start from nothing, so the migrations themselves are tested.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade(directory=MIGRATIONS_DIR)
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[TwilioStandin]:
    with TwilioStandin(ACCOUNT_SID, AUTH_TOKEN) as standin:
        yield standin


@pytest.fixture(scope="session")
def plivo_api() -> Iterator[PlivoStandin]:
    with PlivoStandin(PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN) as standin:
        yield standin


@pytest.fixture(scope="session")
def exotel_api() -> Iterator[ExotelStandin]:
    with ExotelStandin(EXOTEL_SID, EXOTEL_API_KEY, EXOTEL_API_TOKEN) as standin:
        yield standin


@pytest.fixture()
def provider_apis(plivo_api: PlivoStandin, exotel_api: ExotelStandin) -> dict[str, Any]:
    """The stand-ins of the providers other than Twilio, by name."""
    return {"plivo": plivo_api, "exotel": exotel_api}


@pytest.fixture(params=PROVIDERS)
def provider_name(request: pytest.FixtureRequest) -> str:
    """Run the test once per provider."""
    return request.param


def provider_settings(name: str, apis: dict[str, Any]) -> dict[str, Any]:
    """Return the settings that make ``name`` the app's provider, talking to its stand-in."""
    if name == "exotel":
        exotel_api = apis["exotel"]
        exotel_api.reset()
        return {
            "TELEPHONY_PROVIDER": "exotel",
            "EXOTEL_SID": EXOTEL_SID,
            "EXOTEL_API_KEY": EXOTEL_API_KEY,
            "EXOTEL_API_TOKEN": EXOTEL_API_TOKEN,
            "EXOTEL_API_BASE_URL": exotel_api.base_url,
            "EXOTEL_WEBHOOK_TOKEN": EXOTEL_WEBHOOK_TOKEN,
            "DLT_ENTITY_ID": DLT_ENTITY_ID,
            "SMS_SENDER_ID": "CSPDCL",
        }
    if name == "plivo":
        plivo_api = apis["plivo"]
        plivo_api.reset()
        return {
            "TELEPHONY_PROVIDER": "plivo",
            "PLIVO_AUTH_ID": PLIVO_AUTH_ID,
            "PLIVO_AUTH_TOKEN": PLIVO_AUTH_TOKEN,
            "PLIVO_API_BASE_URL": plivo_api.base_url,
            "DLT_ENTITY_ID": DLT_ENTITY_ID,
            "SMS_SENDER_ID": "CSPDCL",
        }
    return {"TELEPHONY_PROVIDER": name}


def make_config(
    database_url: str, redis_url: str, twilio_api: TwilioStandin, prompts_dir: str
) -> dict[str, Any]:
    """Return the settings a test app runs with."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": twilio_api.base_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SMS_FROM": "+911140000000",
        "CALLER_ID": "+911140000001",
        # Calling hours always open, so tests do not depend on the hour they run at.
        "CALLING_HOURS": "00:00-23:59:59",
        "SMS_RETRY_BACKOFF": "0",
        # Empty unless the test renders prompts into it: never the developer's instance/prompts.
        "VOICE_PROMPTS_DIR": prompts_dir,
        # The console's own pages in English unless a test chooses Hindi (its users choose
        # none): the console's tests assert the English words.
        "CONSOLE_DEFAULT_LANGUAGE": "en",
    }


@pytest.fixture()
def app_config(
    database_url: str,
    redis_url: str,
    twilio_api: TwilioStandin,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    # Each test's apps get an instance folder of their own.
    monkeypatch.setenv("SAMPARK_INSTANCE_PATH", str(tmp_path / "instance"))
    return make_config(database_url, redis_url, twilio_api, str(tmp_path / "prompts"))


@pytest.fixture()
def make_app(app_config: dict[str, Any], twilio_api: TwilioStandin) -> Iterator[Any]:
    """Return a factory of apps with settings changed; the records are cleared after the test."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        application = create_app({**app_config, **overrides})
        made.append(application)
        return application

    twilio_api.reset()
    first = factory()
    with first.app_context():
        redis_client().flushdb()
    yield factory
    # Every connection closed first: one a test left inside a transaction would make
    # emptying the tables wait for it (on PostgreSQL) instead of letting the test fail.
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
    with first.app_context():
        _empty_tables()
        redis_client().flushdb()
        db.engine.dispose()


@pytest.fixture()
def app(make_app: Any) -> Flask:
    return make_app()


def _empty_tables() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):
    return app.test_cli_runner()


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Return the X-Twilio-Signature Twilio would send for a POST to ``url``."""
    return RequestValidator(token).compute_signature(url, params)


def post_webhook(
    client: FlaskClient, path: str, params: dict[str, str], *, signature: str | None = None
):
    """POST form parameters to a webhook, signed as Twilio signs them (unless told otherwise)."""
    if signature is None:
        signature = sign(PUBLIC_BASE_URL + path, params)
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def post_as(client: FlaskClient, side: Any, path: str, params: dict[str, str]):
    """POST a webhook as the provider ``side`` (a ``telephony.script.CallerSide``) would."""
    path = side.path(path)
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=side.sign(PUBLIC_BASE_URL + path, params),
    )


def run_jobs(app: Flask) -> None:
    """Relay recorded SMS to RQ and run every job to the end, as the sweeper and a worker would."""
    with app.app_context():
        relay_messages()
        connection = redis_client()
        queues = [get_queue(name) for name in ALL_QUEUES]
        SimpleWorker(queues, connection=connection).work(burst=True)
