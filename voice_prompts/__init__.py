"""Voice prompts: what the IVR says and the audio it plays.

This package owns the prompt catalogue (every IVR sentence in Hindi and English,
``catalogue.toml``), the spoken forms of amounts, dates, numbers and digit strings
(``spoken``), the finite set of clips those are said with (``clips``), and the audio
rendered offline from both with pyttsx3 and espeak-ng (``render``, ``flask prompts
build``). Webhooks ask a ``PromptLibrary`` what to play (``library``); serving the
files is the web layer's job.

The catalogue's *terms* (the DISCOM's name for its account number) are the deployment's:
the layer that knows the DISCOM names them with ``use_terms``, and ``catalogue_for``
gives both the build and the webhooks the catalogue with those words in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from flask import Flask, current_app

from voice_prompts.catalogue import Catalogue, load_catalogue
from voice_prompts.library import PromptLibrary

EXTENSION_KEY = "voice_prompts"
"""Where the app's PromptLibrary is kept in ``app.extensions``."""

TERMS_KEY = "voice_prompt_terms"
"""Where the app's source of words for the catalogue's terms is kept in ``app.extensions``."""

TermWords = Mapping[str, Mapping[str, str]]
"""Words for the catalogue's terms: term name → language → words."""


def init_app(app: Flask) -> None:
    """Register the ``flask prompts`` commands."""
    from voice_prompts.cli import prompts_cli

    app.cli.add_command(prompts_cli)


def prompts_directory(app: Flask) -> Path:
    """Return where the app's rendered prompts live: VOICE_PROMPTS_DIR or <instance>/prompts."""
    configured = app.config.get("VOICE_PROMPTS_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "prompts"


def use_terms(app: Flask, words: Callable[[], TermWords]) -> None:
    """Take the words for the catalogue's terms from ``words``, called in the app's context."""
    app.extensions[TERMS_KEY] = words


def catalogue_for(app: Flask) -> Catalogue:
    """Return the catalogue with the app's words for its terms (the catalogue's own if none)."""
    words = app.extensions.get(TERMS_KEY)
    if words is None:
        return load_catalogue()
    with app.app_context():
        return load_catalogue().with_terms(words())


def library_for(app: Flask) -> PromptLibrary:
    """Return the app's PromptLibrary, created on first use from the app's config."""
    # Kept for the life of the process: the terms, like the rendered audio, are fixed per
    # deployment (a new DISCOM means a new `flask prompts build` and a restart).
    library = app.extensions.get(EXTENSION_KEY)
    if library is None:
        library = PromptLibrary(prompts_directory(app), catalogue_for(app))
        app.extensions[EXTENSION_KEY] = library
    return library


def current_library() -> PromptLibrary:
    """Return the PromptLibrary of the app handling the current request."""
    return library_for(current_app._get_current_object())  # type: ignore[attr-defined]
