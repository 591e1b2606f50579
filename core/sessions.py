"""Signed-cookie sessions whose signer is built once, not on every request."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSignerSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie sessions, keeping the signer between requests.

    Flask builds a new signer for every request, which costs a webhook that never uses the
    session about a tenth of its time; the signer only changes with the secret key.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = app.extensions.get("session_signer")
        if cached is None or cached[0] != key:
            cached = (key, super().get_signing_serializer(app))
            app.extensions["session_signer"] = cached
        return cached[1]


def init_app(app: Flask) -> None:
    """Use the cached-signer sessions."""
    app.session_interface = CachedSignerSessionInterface()
