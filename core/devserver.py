"""``flask dev``: web, worker, sweeper and the embedded Redis in one foreground command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from core.embedded_redis import EmbeddedRedis

SWEEP_EVERY_SECONDS = 1
"""How often the sweeper relays recorded SMS to RQ (the delay before an SMS is queued)."""


@click.command("dev")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), show_default="5000")
@with_appcontext
def dev_command(port: int) -> None:
    """Run web + RQ worker (with scheduler) + sweeper (+ embedded Redis); Ctrl-C stops all."""
    app = current_app
    env = dict(os.environ, PORT=str(port), SAMPARK_DEV="1")
    embedded = None
    if not app.config["REDIS_URL"]:
        embedded = EmbeddedRedis(os.path.join(app.instance_path, "redis"))
        env["REDIS_URL"] = embedded.start()
    bin_dir = Path(sys.executable).parent
    root = Path(__file__).resolve().parent.parent
    commands = {
        "web": [
            str(bin_dir / "gunicorn"),
            "-c",
            str(root / "gunicorn.conf.py"),
            "app:create_app()",
        ],
        "worker": [str(bin_dir / "flask"), "queue", "worker"],
        "sweeper": [str(bin_dir / "flask"), "queue", "sweep", "--every", str(SWEEP_EVERY_SECONDS)],
    }
    processes = {name: subprocess.Popen(cmd, env=env, cwd=root) for name, cmd in commands.items()}
    _announce(app, port, env["REDIS_URL"] if embedded else app.config["REDIS_URL"])
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    click.echo(
                        f"{name} exited with {process.returncode}; stopping the rest", err=True
                    )
                    code, stopping = process.returncode or 1, True
            time.sleep(0.3)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if embedded is not None:
            embedded.stop()
        click.echo("stopped")
    sys.exit(code)


def _announce(app: Flask, port: int, redis_url: str) -> None:
    base = f"http://127.0.0.1:{port}"
    provider = (
        "Twilio" if app.config["TWILIO_ACCOUNT_SID"] else "the outbox (no Twilio account set)"
    )
    click.echo(
        "\n".join(
            [
                "",
                f"  Sampark is running on {base}",
                f"    health             {base}/healthz",
                f"    missed-call hook   POST {base}/ivr/missed-call",
                f"    database           {_safe_url(app.config['SQLALCHEMY_DATABASE_URI'])}",
                f"    Redis              {redis_url}",
                f"    SMS and calls go to {provider}",
                "  Ctrl-C stops everything.",
                "",
            ]
        )
    )


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def init_app(app: Flask) -> None:
    """Register ``flask dev``."""
    app.cli.add_command(dev_command)
