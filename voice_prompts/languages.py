"""The languages the IVR speaks and the tags other systems know them by."""

from __future__ import annotations

from typing import Literal, TypeAlias

from voice_prompts.exceptions import UnsupportedLanguageError

Language: TypeAlias = Literal["hi", "en"]

LANGUAGES: tuple[Language, ...] = ("hi", "en")
"""Every language the catalogue must carry, in the order the IVR offers them."""

LOCALE_TAGS: dict[Language, str] = {"hi": "hi-IN", "en": "en-IN"}
"""BCP 47 tags, as providers' text-to-speech and other systems know the languages."""


def check_language(lang: str) -> Language:
    """Return ``lang`` if the IVR speaks it, else raise UnsupportedLanguageError."""
    if lang not in LANGUAGES:
        raise UnsupportedLanguageError(
            f"unsupported language {lang!r}: expected one of {', '.join(LANGUAGES)}"
        )
    return lang  # type: ignore[return-value]
