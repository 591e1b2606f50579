"""Stage changes a field engineer cannot make, each with the message they are shown."""

from __future__ import annotations


class StageError(Exception):
    """A stage change refused; ``status`` is the HTTP status the refusal is sent with."""

    status = 400


class ApplicationNotFound(StageError):
    """No application has that id."""

    status = 404


class NotYourArea(StageError):
    """The application is in another engineer's area, or the user records no stages."""

    status = 403


class NotPaid(StageError):
    """The application's demand is not paid: stages start after payment."""

    status = 409


class StageConflict(StageError):
    """The change skips a stage, goes back, or the stage moved since the page was opened."""

    status = 409


class BadStage(StageError):
    """The request names no stage we know, or a rejection without its reason."""

    status = 400
