"""Signed-cookie sessions whose signer is built once, and no session where none is used."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSignerSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie sessions, keeping the signer between requests.

    Flask builds a new signer for every request, which costs a webhook that never uses the
    session about a tenth of its time; the signer only changes with the secret key.
    Requests under a session-less path prefix (the provider's webhooks: they carry no
    cookie and must not set one) get Flask's null session, which is neither read from a
    cookie nor saved, and refuses to be written.
    """

    def __init__(self) -> None:
        self.sessionless_prefixes: tuple[str, ...] = ()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = app.extensions.get("session_signer")
        if cached is None or cached[0] != key:
            cached = (key, super().get_signing_serializer(app))
            app.extensions["session_signer"] = cached
        return cached[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.sessionless_prefixes and request.path.startswith(self.sessionless_prefixes):
            return None
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Use the cached-signer sessions."""
    app.session_interface = CachedSignerSessionInterface()


def without_sessions(app: Flask, *prefixes: str) -> None:
    """Serve paths starting with any of ``prefixes`` with no session (see the interface)."""
    interface = app.session_interface
    if isinstance(interface, CachedSignerSessionInterface):
        known = interface.sessionless_prefixes
        interface.sessionless_prefixes = known + tuple(p for p in prefixes if p not in known)
