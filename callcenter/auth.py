"""Console accounts: passwords, the login form, login rate limits, roles."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import current_user
from flask_wtf import FlaskForm
from redis.exceptions import RedisError
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from callcenter.exceptions import TooManyLoginAttempts
from core.extensions import db
from core.models import Role, User
from core.redis_client import redis_client

log = logging.getLogger("sampark.console")

PASSWORD_HASH_METHOD = "scrypt"
"""Werkzeug's scrypt: memory-hard, so a stolen hash is slow to guess on GPUs."""

MIN_PASSWORD_LENGTH = 10

MAX_PASSWORD_LENGTH = 200
"""The login form takes no longer password."""

DEFAULT_LOGIN_MAX_ATTEMPTS = 5
"""Failed logins allowed per username in one window (setting LOGIN_MAX_ATTEMPTS)."""

DEFAULT_LOGIN_MAX_ATTEMPTS_PER_IP = 20
"""Failed logins allowed per client address in one window (setting LOGIN_MAX_ATTEMPTS_PER_IP)."""

DEFAULT_LOGIN_WINDOW_SECONDS = 900
"""Length of the fixed window failed logins are counted in (setting LOGIN_WINDOW_SECONDS)."""

_DUMMY_HASH: str | None = None


def hash_password(password: str) -> str:
    """Return the scrypt hash of ``password``."""
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    global _DUMMY_HASH
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        # Hash anyway, so the answer takes as long for an unknown name as for a bad password.
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not a password")
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


class LoginForm(FlaskForm):
    """The console's login form."""

    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class LoginLimiter:
    """Fixed-window counts of failed logins in Redis, per username and per client address."""

    def __init__(self) -> None:
        config = current_app.config
        self.window = int(config.get("LOGIN_WINDOW_SECONDS", DEFAULT_LOGIN_WINDOW_SECONDS))
        self.per_user = int(config.get("LOGIN_MAX_ATTEMPTS", DEFAULT_LOGIN_MAX_ATTEMPTS))
        self.per_ip = int(
            config.get("LOGIN_MAX_ATTEMPTS_PER_IP", DEFAULT_LOGIN_MAX_ATTEMPTS_PER_IP)
        )

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [
            (f"sampark:login:user:{username.lower()}", self.per_user),
            (f"sampark:login:ip:{address}", self.per_ip),
        ]

    def check(self, username: str, address: str) -> None:
        """Raise ``TooManyLoginAttempts`` if either count is spent."""
        try:
            client = redis_client()
            for key, limit in self._keys(username, address):
                count = client.get(key)
                if count is not None and int(count) >= limit:
                    ttl = client.ttl(key)
                    raise TooManyLoginAttempts(ttl if ttl > 0 else self.window)
        except RedisError:
            # The console must stay usable while Redis is down; passwords are still checked.
            log.warning("login limiter: Redis is down; login attempts are not counted")

    def failed(self, username: str, address: str) -> None:
        """Count one failed login."""
        try:
            pipe = redis_client().pipeline()
            for key, _limit in self._keys(username, address):
                # The window starts at the first failure (SET NX), not at each one.
                pipe.set(key, 0, ex=self.window, nx=True)
                pipe.incr(key)
            pipe.execute()
        except RedisError:
            log.warning("login limiter: Redis is down; a failed login was not counted")

    def succeeded(self, username: str) -> None:
        """Forget the username's failures (the address keeps its count)."""
        try:
            redis_client().delete(self._keys(username, "")[0][0])
        except RedisError:
            pass


F = TypeVar("F", bound=Callable[..., Any])


def role_required(role: Role) -> Callable[[F], F]:
    """Let only users with ``role`` (or one above it) into the view; others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not current_user.may(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
