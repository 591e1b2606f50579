"""Errors a telephony provider can raise, by what the caller should do about them."""

from __future__ import annotations


class TelephonyError(Exception):
    """A provider refused or failed a request."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class TransientTelephonyError(TelephonyError):
    """Worth trying again later: the provider or the network had a passing fault."""


class PermanentTelephonyError(TelephonyError):
    """Trying again will not help: a bad number, an unsubscribed recipient, bad credentials."""
