"""What keeps console sessions and pages safe: session lifetimes, redirects, headers.

- A user's sessions end when they log out, change their password or are disabled: the
  session names the user together with their ``session_version`` (Flask-Login's
  "alternative token"), which those three raise.
- A session ends after ``SESSION_IDLE_MINUTES`` without a request and
  ``SESSION_MAX_HOURS`` after login, whatever happens in between.
- After login only a path on this site is followed (``safe_next``).
- A field engineer opens only their connections' pages (``keep_to_field_work``).
- Every console answer carries a Content-Security-Policy without inline script, and
  the headers that stop sniffing, framing and leaking the URL to other sites.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user

from core.extensions import db
from core.models import Role, User

LOGIN_AT_KEY = "login_at"
SEEN_AT_KEY = "seen_at"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

HSTS = "max-age=31536000; includeSubDomains"

_SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")
"""A path on this site: one slash first, then only characters a URL carries unescaped.

No whitespace or control characters (a browser drops a tab, so "/\\t/host" is "//host"),
no backslash (read as a slash), and no second slash first ("//host" is another site).
"""


def load_session_user(token: str) -> User | None:
    """Return the active user a session names, or None when it was ended since."""
    user_id, _, version = token.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session of ``user`` (the caller commits)."""
    user.session_version += 1


def start_session() -> None:
    """Note when this session began (called at login)."""
    now = int(time.time())
    session[LOGIN_AT_KEY] = now
    session[SEEN_AT_KEY] = now


def safe_next(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else the user's first page."""
    if target and _SAFE_PATH.fullmatch(target):
        return target
    return home_page()


def home_page() -> str:
    """Return the page a user starts on: the queue, or a field engineer's connections."""
    if current_user.is_authenticated and current_user.role == Role.FIELD_ENGINEER:
        return url_for("connections.index")
    return url_for("console.queue_page")


FIELD_ENDPOINTS = frozenset({"console.login", "console.logout", "console.static"})
"""The call centre's pages a field engineer may still open."""


def keep_to_field_work() -> Any:
    """Send a field engineer who opens a call-centre page to their connections (403 to a POST)."""
    if not current_user.is_authenticated or current_user.role != Role.FIELD_ENGINEER:
        return None
    if request.endpoint in FIELD_ENDPOINTS:
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("connections.index"))
    abort(403)


def guard(app: Flask, blueprint: Blueprint) -> None:
    """End stale sessions before, and add the security headers to, ``blueprint``'s answers.

    Registered on the app for that blueprint's name (the blueprint object is shared by
    every app made), so webhooks run neither.
    """
    app.before_request_funcs.setdefault(blueprint.name, []).append(_expire_session)
    app.after_request_funcs.setdefault(blueprint.name, []).append(_add_headers)


def _expire_session() -> None:
    if not current_user.is_authenticated:
        return
    config = current_app.config
    now = int(time.time())
    idle = config["SESSION_IDLE_MINUTES"] * 60
    lifetime = config["SESSION_MAX_HOURS"] * 3600
    login_at = session.get(LOGIN_AT_KEY)
    seen_at = session.get(SEEN_AT_KEY)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        login_at = seen_at = now  # a session from before lifetimes were kept
        session[LOGIN_AT_KEY] = login_at
    if now - seen_at > idle or now - login_at > lifetime:
        logout_user()
        session.clear()
        return
    if now - seen_at >= 60:  # write the cookie again at most once a minute
        session[SEEN_AT_KEY] = now


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
