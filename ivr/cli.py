"""The ``flask ivr call`` simulator command and ``flask seed-demo``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from core.config import settings_of
from ivr.simulator import (
    DEFAULT_CALLER,
    CallSimulator,
    FlaskTransport,
    HttpTransport,
    KeySource,
    SimulatorError,
    Transport,
    keys_from_list,
)
from telephony import PROVIDERS, caller_side, webhook_secret_setting

ivr_cli = AppGroup("ivr", help="Try the IVR without a phone.")


def _terminal_keys() -> KeySource:
    def ask() -> str | None:
        try:
            return click.prompt(
                "keys (Enter for none)", default="", show_default=False, err=True
            ).strip()
        except (click.Abort, EOFError):
            return None

    return ask


def _stdin_keys() -> KeySource:
    def read() -> str | None:
        line = sys.stdin.readline()
        return line.strip() if line else None

    return read


@ivr_cli.command("call")
@click.option("--to", "dialled", required=True, help="The IVR number the caller dials.")
@click.option("--from", "caller", default=DEFAULT_CALLER, show_default=True, help="Caller ID.")
@click.option(
    "--keys",
    default=None,
    help="Keys to press at each prompt, comma-separated (e.g. 2,1,1 or 1,1234567890#); "
    "an empty entry presses nothing. Without it, keys are read from the terminal.",
)
@click.option("--url", default=None, help="Call a running server instead of this app.")
@click.option("--wav", "wav_path", type=click.Path(dir_okay=False), help="Write the call audio.")
@click.option(
    "--dial-status",
    default="completed",
    show_default=True,
    type=click.Choice(["completed", "busy", "no-answer", "failed"]),
    help="What happens when the IVR dials an operator.",
)
@click.option(
    "--provider",
    "provider_name",
    type=click.Choice(PROVIDERS),
    default=None,
    help="Whose part to play (its parameters, signature and script). [default: the app's]",
)
@with_appcontext
def call_command(
    dialled: str,
    caller: str,
    keys: str | None,
    url: str | None,
    wav_path: str | None,
    dial_status: str,
    provider_name: str | None,
) -> None:
    """Call the IVR as the provider would and print the conversation."""
    from voice_prompts import prompts_directory

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    side = caller_side(app, provider_name)
    token_setting = webhook_secret_setting(side.name)
    if app.config["TELEPHONY_VALIDATE_SIGNATURES"] and not app.config[token_setting]:
        raise click.ClickException(f"{token_setting} is not set: the IVR would refuse the call")
    transport: Transport
    if url:
        transport = HttpTransport(url, side, settings_of(app).PUBLIC_BASE_URL)
    else:
        transport = FlaskTransport(app, side)
    if keys is not None:
        source = keys_from_list(keys.split(","))
    elif sys.stdin.isatty():
        source = _terminal_keys()
    else:
        source = _stdin_keys()
    simulator = CallSimulator(
        transport,
        side,
        to=dialled,
        caller=caller,
        keys=source,
        prompts_directory=prompts_directory(app),
        record_audio=bool(wav_path),
        dial_status=dial_status,
        echo=click.echo,
    )
    try:
        record = simulator.run()
    except SimulatorError as error:
        raise click.ClickException(str(error)) from error
    if wav_path:
        record.write_wav(wav_path)
        seconds = len(record.samples) / 8000
        click.echo(f"Wrote {seconds:.1f} s of call audio to {wav_path}")
