"""The message catalogue: every label, option and error of the forms in Hindi and English.

Texts live in ``forms/messages.toml``. The language of a form is chosen, first match wins,
by:

1. the ``lang`` argument given to the form or to :func:`message`;
2. the ``lang`` query argument of the current request (``?lang=en``), so a console link
   can switch language without view code; values other than "hi"/"en" are ignored;
3. ``current_app.config["FORM_LANGUAGE"]``;
4. :data:`DEFAULT_LANGUAGE`.
"""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context, has_request_context, request

from forms.exceptions import ConfigurationError, UnknownLanguageError

LANGUAGES: tuple[str, ...] = ("hi", "en")
"""Languages every message exists in."""

DEFAULT_LANGUAGE = "hi"
"""Language used when neither the caller, the request nor the configuration picks one."""

LANGUAGE_CONFIG_KEY = "FORM_LANGUAGE"
"""App config key naming the default language of forms and messages."""

LANGUAGE_REQUEST_ARG = "lang"
"""Query-string argument that picks the language for one request."""

CATALOGUE_FILE = Path(__file__).with_name("messages.toml")
"""The message catalogue shipped with the package."""

WTFORMS_MESSAGE_IDS: Mapping[str, str] = {
    "Not a valid decimal value.": "number.invalid",
    "Not a valid float value.": "number.invalid",
    "Not a valid integer value.": "integer.invalid",
    "Not a valid date value.": "date.invalid",
    "This field is required.": "required_generic",
    "Not a valid choice.": "choice.invalid_generic",
    "Invalid Choice: could not coerce.": "choice.invalid_generic",
}
"""WTForms' built-in English messages and the catalogue ids that replace them.

Field coercion errors (a load of "abc") are raised inside WTForms before our validators run,
so they reach the form only through its translations object.
"""


def resolve_language(lang: str | None = None) -> str:
    """Return the language to use: ``lang`` if given, else the request's, config's, default."""
    if lang is not None:
        if lang not in LANGUAGES:
            raise UnknownLanguageError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
        return lang
    if has_request_context():
        requested = request.args.get(LANGUAGE_REQUEST_ARG)
        if requested in LANGUAGES:
            return requested
    if has_app_context():
        configured = current_app.config.get(LANGUAGE_CONFIG_KEY)
        if configured is not None:
            return resolve_language(configured)
    return DEFAULT_LANGUAGE


def message(msg_id: str, lang: str | None = None, **params: Any) -> str:
    """Return message ``msg_id`` in ``lang`` with ``params`` filled in."""
    texts = catalogue().get(msg_id)
    if texts is None:
        raise ConfigurationError(f"{CATALOGUE_FILE.name} has no message {msg_id!r}")
    return texts[resolve_language(lang)].format(**params)


def has_message(msg_id: str) -> bool:
    """Tell whether the catalogue holds ``msg_id``."""
    return msg_id in catalogue()


@functools.cache
def catalogue() -> Mapping[str, Mapping[str, str]]:
    """Load and check the catalogue: flat message id → {"hi": text, "en": text}."""
    with CATALOGUE_FILE.open("rb") as file:
        tree = tomllib.load(file)
    return parse_catalogue(tree, source=str(CATALOGUE_FILE))


def parse_catalogue(tree: Mapping[str, Any], source: str) -> dict[str, dict[str, str]]:
    """Flatten a catalogue tree into message ids, checking every message has both languages."""
    messages: dict[str, dict[str, str]] = {}
    _flatten(tree, prefix="", into=messages, source=source)
    return messages


def _flatten(
    table: Mapping[str, Any], prefix: str, into: dict[str, dict[str, str]], source: str
) -> None:
    for key, value in table.items():
        msg_id = f"{prefix}{key}"
        if not isinstance(value, dict):
            raise ConfigurationError(f"{source}: {msg_id!r} must be a table with hi and en")
        if _is_message(value):
            _check_message(msg_id, value, source)
            into[msg_id] = dict(value)
        else:
            _flatten(value, prefix=f"{msg_id}.", into=into, source=source)


def _is_message(table: Mapping[str, Any]) -> bool:
    # A table is a message when its language keys hold text; an option group whose values
    # happen to be called "hi" and "en" (preferred_language) holds tables instead.
    return any(isinstance(table.get(lang), str) for lang in LANGUAGES)


def _check_message(msg_id: str, texts: Mapping[str, Any], source: str) -> None:
    if set(texts) != set(LANGUAGES):
        raise ConfigurationError(
            f"{source}: message {msg_id!r} must have exactly the keys {', '.join(LANGUAGES)}"
        )
    placeholders = {}
    for lang in LANGUAGES:
        text = texts[lang]
        if not isinstance(text, str) or not text.strip():
            raise ConfigurationError(f"{source}: message {msg_id!r} has no {lang} text")
        placeholders[lang] = {
            name for _, name, _, _ in string.Formatter().parse(text) if name is not None
        }
    if len({frozenset(names) for names in placeholders.values()}) != 1:
        raise ConfigurationError(
            f"{source}: message {msg_id!r} uses different placeholders per language: {placeholders}"
        )


class CatalogueTranslations:
    """Translations object for WTForms that answers its built-in messages from the catalogue."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def gettext(self, text: str) -> str:
        """Return the catalogue's text for a WTForms message, or the message unchanged."""
        msg_id = WTFORMS_MESSAGE_IDS.get(text)
        return text if msg_id is None else message(msg_id, self.lang)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Return the singular or plural WTForms message; we use none of these."""
        return self.gettext(singular if n == 1 else plural)
