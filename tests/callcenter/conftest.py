"""Console fixtures: users made in the database, clients logged in through the real form."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from callcenter.auth import hash_password
from core.extensions import db
from core.models import Callback, CallbackStatus, Role, User, utcnow

PASSWORD = "correct horse battery"
"""Every test user's password."""

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

_hashed: dict[str, str] = {}


def create_user(
    app: Flask,
    username: str,
    *,
    role: Role = Role.OPERATOR,
    password: str = PASSWORD,
    languages: str = "hi,en",
    phone: str | None = "+919800000001",
    name: str | None = None,
) -> int:
    """Create a console user directly in the database; return its id."""
    # scrypt is slow on purpose; one hash per password serves every test.
    if password not in _hashed:
        _hashed[password] = hash_password(password)
    with app.app_context():
        user = User(
            username=username,
            name=name or username.title(),
            password_hash=_hashed[password],
            role=role,
            phone=phone,
            languages=languages,
            active=True,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def csrf_token(html: str) -> str:
    """Return the CSRF token a page's form carries."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the login form, as a browser would; return the response to the POST."""
    page = client.get("/console/login")
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/console/login",
        data={"csrf_token": token, "username": username, "password": password},
    )


def post_form(client: FlaskClient, page_path: str, path: str, data: dict[str, str] | None = None):
    """POST ``data`` to ``path`` with the CSRF token of the page at ``page_path``."""
    token = csrf_token(client.get(page_path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def make_callback(
    app: Flask,
    phone: str,
    *,
    priority: int = 0,
    due_at: datetime | None = None,
    waited: timedelta = timedelta(minutes=5),
    missed_calls: int = 1,
    attempts: int = 0,
    language: str = "hi",
    status: CallbackStatus = CallbackStatus.PENDING,
    required_language: str | None = None,
    slot: str | None = None,
) -> int:
    """Put a callback in the database; return its id."""
    now = utcnow()
    with app.app_context():
        callback = Callback(
            phone=phone,
            language=language,
            status=status,
            priority=priority,
            due_at=due_at or now - timedelta(minutes=1),
            missed_call_count=missed_calls,
            first_missed_at=now - waited,
            last_missed_at=now - waited,
            attempts=attempts,
        )
        callback.required_language = required_language
        callback.slot = slot
        db.session.add(callback)
        db.session.commit()
        return callback.id


@pytest.fixture()
def operator_id(app: Flask) -> int:
    return create_user(app, "asha", languages="hi,en")


@pytest.fixture()
def supervisor_id(app: Flask) -> int:
    return create_user(app, "sunil", role=Role.SUPERVISOR)


@pytest.fixture()
def operator(app: Flask, operator_id: int) -> FlaskClient:
    """A client logged in as the operator Asha."""
    client = app.test_client()
    assert login(client, "asha").status_code == 302
    return client


@pytest.fixture()
def second_operator(app: Flask) -> FlaskClient:
    """A client logged in as the operator Ravi."""
    create_user(app, "ravi", languages="hi", phone="+919800000002")
    client = app.test_client()
    assert login(client, "ravi").status_code == 302
    return client


@pytest.fixture()
def supervisor(app: Flask, supervisor_id: int) -> FlaskClient:
    """A client logged in as the supervisor Sunil."""
    client = app.test_client()
    assert login(client, "sunil").status_code == 302
    return client


@pytest.fixture()
def callback_factory(app: Flask) -> Callable[..., int]:
    return lambda phone, **kwargs: make_callback(app, phone, **kwargs)
