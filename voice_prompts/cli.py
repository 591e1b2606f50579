"""The ``flask prompts`` commands: render prompt audio and check it is complete."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from voice_prompts.exceptions import VoicePromptError
from voice_prompts.languages import LANGUAGES

prompts_cli = AppGroup("prompts", help="Render and check the IVR's voice prompts.")


@prompts_cli.command("build")
@click.option(
    "--lang",
    "langs",
    type=click.Choice(LANGUAGES),
    multiple=True,
    help="Language to render (repeatable); default: all.",
)
@click.option(
    "--out",
    "directory",
    type=click.Path(file_okay=False, writable=True),
    default=None,
    help="Output directory; default: VOICE_PROMPTS_DIR or <instance>/prompts.",
)
@click.option("--force", is_flag=True, help="Render everything, even if unchanged.")
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="Render only this prompt part or clip key (repeatable), e.g. menu_main or num/20.",
)
def build_command(
    langs: tuple[str, ...], directory: str | None, force: bool, keys: tuple[str, ...]
) -> None:
    """Render prompts and number clips to 8 kHz WAV files."""
    from voice_prompts import catalogue_for, prompts_directory
    from voice_prompts.render import PromptBuilder, RenderSettings

    settings = RenderSettings(
        rate=int(current_app.config.get("VOICE_PROMPTS_RATE", RenderSettings.rate)),
        voices=current_app.config.get("VOICE_PROMPTS_VOICES") or {},
    )
    try:
        builder = PromptBuilder(
            directory or prompts_directory(current_app),
            # The deployment's terms are in the texts, so the audio (and its hash) says them.
            catalogue=catalogue_for(current_app),
            langs=langs or LANGUAGES,
            only=set(keys) or None,
            settings=settings,
        )
        items = builder.items()
        with click.progressbar(length=len(items), label="Rendering prompts") as bar:
            summary = builder.build(force=force, progress=lambda _item: bar.update(1))
    except VoicePromptError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Prompts: {summary}")


@prompts_cli.command("check")
@click.option("--lang", "langs", type=click.Choice(LANGUAGES), multiple=True)
@click.option("--out", "directory", type=click.Path(file_okay=False), default=None)
def check_command(langs: tuple[str, ...], directory: str | None) -> None:
    """List prompts and clips with no current audio; fail if there are any."""
    from voice_prompts import catalogue_for, prompts_directory
    from voice_prompts.library import PromptLibrary

    library = PromptLibrary(directory or prompts_directory(current_app), catalogue_for(current_app))
    missing = [f"{lang}/{key}" for lang in langs or LANGUAGES for key in library.missing(lang)]
    for name in missing:
        click.echo(f"missing or stale: {name}")
    if missing:
        raise click.ClickException(
            f"{len(missing)} prompt files missing or stale; run `flask prompts build`"
        )
    click.echo(f"All prompt audio is current in {library.directory}")
