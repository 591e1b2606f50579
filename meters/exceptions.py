"""Errors the meter head-end can raise, by what the caller should do about them."""

from __future__ import annotations


class HeadEndError(Exception):
    """The head-end refused or failed a request."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientHeadEndError(HeadEndError):
    """Worth trying again later: a timeout, a refused connection, a 5xx or a 429.

    Sending a command again is safe even when the head-end may have taken it: it carries
    the same correlation id, which the head-end takes once.
    """


class PermanentHeadEndError(HeadEndError):
    """Trying again will not help: the head-end refused the request (4xx)."""


class UnknownMeter(PermanentHeadEndError):
    """The head-end knows no meter by this id (404)."""


class HeadEndNotConfigured(HeadEndError):
    """``HEAD_END_URL`` is not set: no command can be sent."""
