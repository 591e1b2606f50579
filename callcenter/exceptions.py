"""Errors a console user can cause, each with the message they are shown."""

from __future__ import annotations

from flask_babel import ngettext


class ConsoleError(Exception):
    """A console action refused; ``status`` is the HTTP status the refusal is sent with."""

    status = 400


class CallbackNotFound(ConsoleError):
    """No callback has that id."""

    status = 404


class ClaimConflict(ConsoleError):
    """The callback is held by another operator, or is no longer claimed."""

    status = 409


class DispositionError(ConsoleError):
    """A disposition that cannot be recorded as given (a time outside calling hours, say)."""

    status = 400


class CallRefused(ConsoleError):
    """A call that may not start now (outside calling hours, no phone to ring…)."""

    status = 409


class CallingUnavailable(ConsoleError):
    """Calls cannot be placed from the console yet."""

    status = 503


class TooManyLoginAttempts(ConsoleError):
    """Too many failed logins for this username or address; wait and try again."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            ngettext(
                "Too many failed login attempts. Try again in %(num)d minute.",
                "Too many failed login attempts. Try again in %(num)d minutes.",
                minutes,
            )
        )
        self.retry_after = retry_after


class OperatorNotReady(ConsoleError):
    """Take-next refused: the operator is in after-call work or away."""

    status = 409


class CampaignMissing(ConsoleError):
    """No announcement campaign has that id."""

    status = 404


class RecordingNotFound(ConsoleError):
    """The call has no recording."""

    status = 404


class RecordingUnavailable(ConsoleError):
    """The provider did not answer for a recording (down, or too slow): worth trying again."""

    status = 502
