"""Console accounts: passwords, the login form, limits on failed logins, roles."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from callcenter.language import ConsoleForm
from core.extensions import db, limiter
from core.models import Role, User

log = logging.getLogger("sampark.console")

PASSWORD_HASH_METHOD = "scrypt"
"""Werkzeug's scrypt: memory-hard, so a stolen hash is slow to guess on GPUs."""

MIN_PASSWORD_LENGTH = 10

MAX_PASSWORD_LENGTH = 200
"""The login form takes no longer password."""

USERNAME_SCOPE = "login-username"
"""Flask-Limiter's scope for failed logins counted per username."""

ADDRESS_SCOPE = "login-address"
"""Flask-Limiter's scope for failed logins counted per client address."""

_DUMMY_HASH: str | None = None

F = TypeVar("F", bound=Callable[..., Any])


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


class LoginForm(ConsoleForm):
    """The console's login form."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=64, message=_l("A username is at most 64 characters.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=_l("A password is at most %(max)s characters.", max=MAX_PASSWORD_LENGTH),
            ),
        ],
    )


def _per_username() -> str:
    config = current_app.config
    return f"{config['LOGIN_MAX_ATTEMPTS']} per {config['LOGIN_WINDOW_SECONDS']} seconds"


def _per_address() -> str:
    config = current_app.config
    return f"{config['LOGIN_MAX_ATTEMPTS_PER_IP']} per {config['LOGIN_WINDOW_SECONDS']} seconds"


def _username() -> str:
    return (request.form.get("username") or "").strip().lower() or "(none)"


def _failed(response: Response) -> bool:
    # Only refused passwords count; a good login, a form error or a refusal do not.
    return response.status_code == 401


def limit_failed_logins(on_breach: Callable[[RequestLimit], Response]) -> Callable[[F], F]:
    """Refuse a login view's POSTs once too many have failed for the username or the address.

    Failed logins (answered 401) are counted in Redis by Flask-Limiter in fixed windows of
    LOGIN_WINDOW_SECONDS that start at the first failure: LOGIN_MAX_ATTEMPTS per username,
    LOGIN_MAX_ATTEMPTS_PER_IP per client address. Past either, ``on_breach`` answers
    instead of the view. A Redis that does not answer counts nothing (logged): the console
    stays usable, and passwords are still checked.
    """

    def decorate(view: F) -> F:
        for limit, scope, key in (
            (_per_username, USERNAME_SCOPE, _username),
            (_per_address, ADDRESS_SCOPE, get_remote_address),
        ):
            view = limiter.shared_limit(
                limit,
                scope=scope,
                key_func=key,
                methods=["POST"],
                deduct_when=_failed,
                on_breach=on_breach,
            )(view)
        return view

    return decorate


def forget_failed_logins() -> None:
    """Forget the failures counted against this request's username (its address keeps its count)."""
    for request_limit in limiter.current_limits:
        if USERNAME_SCOPE in request_limit.request_args:
            try:
                limiter.limiter.clear(request_limit.limit, *request_limit.request_args)
            except RedisError:
                log.warning("login limits: Redis is down; a username's failures were not cleared")


def seconds_until_reset(request_limit: RequestLimit) -> int:
    """Return the seconds until the window of a spent limit ends (at least 1)."""
    return max(1, math.ceil(request_limit.window.reset_time - time.time()))


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
