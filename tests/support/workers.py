"""Helpers for tests that run ``flask queue worker`` in a real process beside the test's app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from core.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")


def app_env(config: dict[str, Any]) -> dict[str, str]:
    """Return the environment that gives a ``flask`` process the settings of ``config``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMPARK_")}
    env["SAMPARK_INSTANCE_PATH"] = os.environ["SAMPARK_INSTANCE_PATH"]
    env["FLASK_APP"] = "app"
    for key, value in config.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        # Settings the app knows by name come as themselves; any other as SAMPARK_<NAME>.
        env[key if key in DEFAULTS else f"SAMPARK_{key}"] = str(value)
    return env


def start_worker(config: dict[str, Any], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``flask queue worker`` with the settings of ``config``, its output in ``log_path``."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [FLASK, "queue", "worker"],
            cwd=ROOT,
            env=app_env(config),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_worker(process: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """Stop a worker as a supervisor would (SIGTERM), killing whatever it left; return its code."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    process.terminate()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    for leftover in descendants:
        try:
            leftover.kill()
        except psutil.NoSuchProcess:
            pass
    return code


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """Kill a worker as a crash would (SIGKILL): it, its scheduler and a work horse mid-job."""
    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    for each in family:
        each.kill()
    process.wait(timeout=5)
