"""Named errors of the forms package.

Errors a consumer or operator can cause carry a message id and parameters, so the console
can show them in Hindi or English with :func:`forms.messages.message`; their ``str()`` is
the English text, for logs.
"""

from __future__ import annotations

from typing import Any


class FormsError(Exception):
    """Base class of every error raised by the forms package."""

    msg_id: str | None = None
    """Message-catalogue id describing the error to an operator, when there is one."""

    def __init__(self, text: str, /, *, msg_id: str | None = None, **params: Any) -> None:
        super().__init__(text)
        if msg_id is not None:
            self.msg_id = msg_id
        self.params = params

    def localized(self, lang: str) -> str:
        """Return the error in ``lang`` ("hi" or "en"), from the message catalogue."""
        if self.msg_id is None:
            return str(self)
        from forms.messages import message

        return message(self.msg_id, lang, **self.params)


class ConfigurationError(FormsError):
    """A configuration file or key of the forms package is missing or malformed."""


class ScheduleError(ConfigurationError):
    """The schedule of charges is malformed; raised when it is loaded, never later."""


class UnknownLanguageError(FormsError, ValueError):
    """A language other than the supported ones ("hi", "en") was asked for."""


class UnknownServiceError(FormsError, LookupError):
    """No service is registered under the given code or application-number prefix."""


class InvalidMobileNumberError(FormsError, ValueError):
    """A text is not an Indian mobile number; ``msg_id`` says why."""


class FormNotValidatedError(FormsError):
    """A record was asked of a form that has not passed validation."""


class ApplicationNumberError(FormsError, ValueError):
    """An application number, or the parts to build one, is malformed."""


class PricingError(FormsError):
    """A demand note cannot be priced for the given connection."""


class UnknownCategoryError(PricingError):
    """The schedule of charges has no entry for the consumer category."""


class NoChargeBandError(PricingError):
    """The schedule has no band for this category, supply phase and area type."""


class LoadOutOfBandError(PricingError):
    """The connected load is not a positive number inside one of the schedule's bands."""
