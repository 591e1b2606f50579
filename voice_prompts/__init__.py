"""Voice prompts: what the IVR says and the audio it plays.

This package owns the prompt catalogue (every IVR sentence in Hindi and English,
``catalogue.toml``), the spoken forms of amounts, dates, numbers and digit strings
(``spoken``), the finite set of clips those are said with (``clips``), and the audio
rendered offline from both with pyttsx3 and espeak-ng (``render``, ``flask prompts
build``). Webhooks ask a ``PromptLibrary`` what to play (``library``); serving the
files is the web layer's job.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from voice_prompts.library import PromptLibrary

EXTENSION_KEY = "voice_prompts"
"""Where the app's PromptLibrary is kept in ``app.extensions``."""


def init_app(app: Flask) -> None:
    """Register the ``flask prompts`` commands."""
    from voice_prompts.cli import prompts_cli

    app.cli.add_command(prompts_cli)


def prompts_directory(app: Flask) -> Path:
    """Return where the app's rendered prompts live: VOICE_PROMPTS_DIR or <instance>/prompts."""
    configured = app.config.get("VOICE_PROMPTS_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "prompts"


def library_for(app: Flask) -> PromptLibrary:
    """Return the app's PromptLibrary, created on first use from the app's config."""
    library = app.extensions.get(EXTENSION_KEY)
    if library is None:
        library = PromptLibrary(prompts_directory(app))
        app.extensions[EXTENSION_KEY] = library
    return library


def current_library() -> PromptLibrary:
    """Return the PromptLibrary of the app handling the current request."""
    return library_for(current_app._get_current_object())  # type: ignore[attr-defined]
