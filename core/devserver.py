"""``flask dev``: web, worker, sweeper and the embedded Redis in one foreground command.

Each child runs in a session of its own, so the terminal's Ctrl-C (SIGINT to the
foreground process group) reaches only this supervisor, which then stops the children one
by one: SIGTERM to each, a deadline, then SIGKILL to its process group and to every
process it had started (an RQ work horse runs in a group of its own). A child left to the
terminal's signal got it at the same moment as its own parent's, which is how a gunicorn
worker once deadlocked on the way out and kept the port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import psutil
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from core.embedded_redis import EmbeddedRedis

SWEEP_EVERY_SECONDS = 1
"""How often the sweeper relays recorded SMS to RQ (the delay before an SMS is queued)."""

STOP_ORDER = ("web", "sweeper", "worker")
"""Webhooks stop first; the worker last, so it may finish what the others queued."""

STOP_TIMEOUT_SECONDS = 20.0
"""How long a child may take to stop after SIGTERM before it is killed; longer than
gunicorn's ``graceful_timeout`` (``gunicorn.conf.py``), so its own orderly stop comes first."""

RESTART_FIRST_DELAY_SECONDS = 1.0
"""The wait before a child that died is started again; it doubles while it keeps dying."""

RESTART_MAX_DELAY_SECONDS = 30.0
"""The longest wait between two starts of a child that keeps dying."""

STABLE_AFTER_SECONDS = 60.0
"""A child that ran this long is well again: its next death waits the first delay."""


LOOPBACK = "127.0.0.1"
"""Where the web server listens unless HOST says otherwise: this machine only."""


@click.command("dev")
@click.option(
    "--host",
    default=lambda: os.environ.get("HOST", LOOPBACK),
    show_default=LOOPBACK,
    help="Address to listen on (HOST); 0.0.0.0 lets other machines in.",
)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), show_default="5000")
@with_appcontext
def dev_command(host: str, port: int) -> None:
    """Run web + RQ worker (with scheduler) + sweeper (+ embedded Redis); Ctrl-C stops all.

    What dies is started again, with a growing pause while it keeps dying.
    """
    app = current_app
    env = dict(os.environ, HOST=host, PORT=str(port), SAMPARK_DEV="1")
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
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Set before any child starts: from here on Ctrl-C only asks for an orderly stop.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    restarts = {name: _Restarts() for name in STOP_ORDER}
    redis_restarts = _Restarts()
    try:
        for name in reversed(STOP_ORDER):
            processes[name] = _start(commands[name], env, root)
        _announce(app, host, port, env["REDIS_URL"] if embedded else app.config["REDIS_URL"])
        while not stopping:
            if embedded is not None:
                _keep_redis_up(embedded, redis_restarts)
            for name, process in processes.items():
                if process.poll() is None:
                    restarts[name].running()
                    continue
                if restarts[name].due is None:
                    # The scheduler, a work horse: whatever the dead child started goes too.
                    _kill_session(process.pid)
                    delay = restarts[name].schedule()
                    click.echo(
                        f"{name} exited with {process.returncode}; starting it again in "
                        f"{delay:.0f} s",
                        err=True,
                    )
                elif restarts[name].ready():
                    processes[name] = _start(commands[name], env, root)
                    click.echo(f"{name} started again", err=True)
            time.sleep(0.3)
    finally:
        for name in STOP_ORDER:
            if name in processes:
                stop_child(processes[name], STOP_TIMEOUT_SECONDS)
        if embedded is not None:
            embedded.stop()
        click.echo("stopped")


class _Restarts:
    """When a dead child (or the embedded Redis) starts again, backing off while it keeps dying."""

    def __init__(self) -> None:
        self.delay = RESTART_FIRST_DELAY_SECONDS
        self.due: float | None = None
        self.started = time.monotonic()

    def running(self) -> None:
        if time.monotonic() - self.started >= STABLE_AFTER_SECONDS:
            self.delay = RESTART_FIRST_DELAY_SECONDS

    def schedule(self) -> float:
        """Set when to start again; return the wait."""
        delay = self.delay
        self.due = time.monotonic() + delay
        self.delay = min(delay * 2, RESTART_MAX_DELAY_SECONDS)
        return delay

    def ready(self) -> bool:
        """Tell whether the wait is over (and count a start from now)."""
        if self.due is None or time.monotonic() < self.due:
            return False
        self.due, self.started = None, time.monotonic()
        return True


def _start(command: list[str], env: dict[str, str], root: Path) -> subprocess.Popen[bytes]:
    # A session of its own each: the terminal's signals reach only this supervisor.
    return subprocess.Popen(command, env=env, cwd=root, start_new_session=True)


def _keep_redis_up(embedded: EmbeddedRedis, restarts: _Restarts) -> None:
    """Start the embedded Redis again when its process has gone (a busy server is left alone)."""
    if embedded.server_process_alive() or embedded.running():
        restarts.running()
        return
    if restarts.due is None:
        delay = restarts.schedule()
        click.echo(f"the embedded Redis stopped; starting it again in {delay:.0f} s", err=True)
    elif restarts.ready():
        try:
            embedded.start()
            click.echo("the embedded Redis started again", err=True)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            click.echo(f"the embedded Redis did not start: {exc}", err=True)


def _kill_session(session_id: int) -> None:
    """Kill every process left in a dead child's session (it led one: ``start_new_session``)."""
    left = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session_id:
                process.kill()
                left.append(process)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            continue
    psutil.wait_procs(left, timeout=5)


def stop_child(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop a child that leads its own process group, and everything it started.

    SIGTERM lets the child stop its own children in order (gunicorn its workers, RQ its
    scheduler and work horse); after ``timeout`` its group and every descendant seen
    before the signal are killed.
    """
    try:
        started = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            click.echo(f"pid {process.pid} did not stop in {timeout:.0f} s; killing it", err=True)
            _kill_group(process.pid)
            process.wait()
    _kill_group(process.pid)  # whatever is left in its group now that its leader is gone
    _, alive = psutil.wait_procs(started, timeout=1)
    for leftover in alive:
        try:
            leftover.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the group is empty


def _announce(app: Flask, host: str, port: int, redis_url: str) -> None:
    everywhere = host in ("0.0.0.0", "::", "")
    shown = LOOPBACK if everywhere else f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    listening = f"{host}:{port}" + (" (every address of this machine)" if everywhere else "")
    name = app.extensions["telephony"].name
    provider = "the outbox (no provider account set)" if name == "outbox" else name.title()
    click.echo(
        "\n".join(
            [
                "",
                f"  Sampark is running on {base}",
                f"    listening on       {listening}",
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
