"""Errors a telephony provider can raise, by what the caller should do about them."""

from __future__ import annotations

import requests


class TelephonyError(Exception):
    """A provider refused or failed a request."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status

    @property
    def may_have_been_taken(self) -> bool:
        """Tell whether the provider may have acted on the request although it never answered.

        A read timeout means the request went out whole and no answer came back in time: the
        provider may well have taken the message or placed the call, so sending the same
        request again could do it twice. Read from the network error this one was raised
        from, so each provider's REST code says it by raising ``from`` that error.
        """
        cause = self.__cause__
        while cause is not None:
            if isinstance(cause, requests.ReadTimeout):
                return True
            cause = cause.__cause__ or cause.__context__
        return False


class TransientTelephonyError(TelephonyError):
    """Worth trying again later: the provider or the network had a passing fault."""


class PermanentTelephonyError(TelephonyError):
    """Trying again will not help: a bad number, an unsubscribed recipient, bad credentials."""
