"""Errors raised by the voice prompt catalogue, spoken forms and renderer."""

from __future__ import annotations


class VoicePromptError(Exception):
    """Base class of every error this package raises."""


class CatalogueError(VoicePromptError):
    """The prompt catalogue file is malformed or inconsistent."""


class UnknownPromptError(VoicePromptError, LookupError):
    """A prompt or clip key is not in the catalogue or clip inventory."""


class UnsupportedLanguageError(VoicePromptError, ValueError):
    """A language other than the ones the IVR speaks was asked for."""


class MissingValueError(VoicePromptError, ValueError):
    """A prompt with placeholders was asked for without a value for each of them."""


class SpokenFormError(VoicePromptError, ValueError):
    """A number, amount, date or digit string cannot be spoken (negative, not numeric, …)."""


class RenderError(VoicePromptError):
    """Text-to-speech rendering failed (no voice, espeak-ng missing, empty audio)."""
