"""Helpers for tests that run servers in real processes: ports, traffic, what is left behind."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psutil

T = TypeVar("T")


ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def start_gunicorn(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start the app under gunicorn with the project's settings, logging to ``log_path``."""
    with open(log_path, "wb") as log:
        # Its own session, as a shell runs a command in the foreground.
        return subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Tell whether a new server could bind ``port`` (on every address) and nothing answers."""
    with socket.socket() as probe:
        try:
            probe.connect(("127.0.0.1", port))
            return False
        except ConnectionRefusedError:
            pass
    with socket.socket() as sock:
        # As servers bind: connections the old one closed may linger in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def wait_until(check: Callable[[], T], timeout: float = 30.0) -> T:
    """Call ``check`` until it returns something true (connection errors count as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the stack did not get there in time")


def processes_with_env(name: str, value: str) -> list[psutil.Process]:
    """Return the running processes whose environment has ``name=value`` (our own only)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(name) == value and process.status() != "zombie":
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def describe(processes: list[psutil.Process]) -> str:
    """Say which processes these are, for a failing assertion."""
    lines = []
    for process in processes:
        try:
            lines.append(f"{process.pid} {process.status()} {' '.join(process.cmdline())}")
        except psutil.Error:
            lines.append(f"{process.pid} (gone)")
    return "\n".join(lines)


@contextmanager
def traffic(url: str, clients: int = 4) -> Iterator[None]:
    """Keep requests arriving at ``url`` from a few threads while the block runs.

    A signal that lands while a server accepts a connection is what once left a gunicorn
    worker deadlocked in its own signal handler; an idle server would hide it.
    """
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            try:
                urllib.request.urlopen(url, timeout=2).read()
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=5)
