"""Run an app factory under gunicorn with the project's settings, and measure it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import LoadResult, run_load

ROOT = Path(__file__).resolve().parent.parent
LOG_FILE = ROOT / "bench" / "results" / "server.log"
"""Where the servers' own output goes (it would drown the figures)."""

TOKEN = "bench-auth-token"
"""The Twilio auth token the benchmarks sign their webhooks with."""

PUBLIC_BASE_URL = "https://bench.sampark.example"
"""The public URL the benchmarks' webhooks are signed for."""


def flask_command(*args: str, env: dict[str, str]) -> None:
    """Run ``flask ARGS`` in the project with ``env``; raise if it fails."""
    flask = str(Path(sys.executable).parent / "flask")
    done = subprocess.run([flask, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        # Say what failed: no espeak-ng for `prompts build`, a database that refused…
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


@contextmanager
def bench_environment(database_url: str | None = None, **settings: str) -> Iterator[dict[str, str]]:
    """Yield the environment of one benchmark: a migrated database and a Redis, both its own.

    Without ``database_url`` the database is a fresh SQLite file; without ``REDIS_URL`` in
    the environment, an embedded Redis is started. Both are removed afterwards.
    """
    from core.embedded_redis import EmbeddedRedis

    scratch = Path(tempfile.mkdtemp(prefix="sampark-bench-"))
    LOG_FILE.parent.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        FLASK_APP="app",
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_ACCOUNT_SID="",
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        SECRET_KEY="bench",
        **settings,
    )
    env["DATABASE_URL"] = database_url or f"sqlite:///{scratch}/bench.db"
    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server = EmbeddedRedis(scratch / "redis", persist=False)
        env["REDIS_URL"] = redis_server.start()
    try:
        flask_command("db", "upgrade", env=env)
        yield env
    finally:
        if redis_server is not None:
            redis_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


class Server:
    """A gunicorn serving one app factory, with the project's settings."""

    def __init__(self, factory: str, env: dict[str, str]) -> None:
        self.port = free_port()
        env = dict(env, PORT=str(self.port), HOST="127.0.0.1", ACCESS_LOG="")
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.log = open(LOG_FILE, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), factory],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time so far of process ``pid`` and its children (Linux)."""
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for each in (pid, *map(int, children)):
        try:
            # Fields after the command's closing parenthesis; utime and stime are 12th, 13th.
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return total


def measure(
    factory: str, env: dict[str, str], warmup: list[bytes], load: list[bytes], connections: int
) -> LoadResult:
    server = Server(factory, env)
    try:
        run_load("127.0.0.1", server.port, warmup, connections)
        cpu_before = process_tree_cpu_seconds(server.process.pid)
        result = run_load("127.0.0.1", server.port, load, connections)
        result.server_cpu_seconds = process_tree_cpu_seconds(server.process.pid) - cpu_before
        return result
    finally:
        server.stop()


@dataclass
class Rounds:
    """What every round measured, by target name, in the order the rounds ran."""

    results: list[dict[str, LoadResult]] = field(default_factory=list)

    def best(self, name: str) -> LoadResult:
        """Return the target's run with the highest throughput."""
        return max((each[name] for each in self.results), key=lambda run: run.throughput)

    def ratios(self, bare: str, target: str) -> list[float]:
        """Return each round's throughput of ``target`` over that of ``bare``."""
        return [each[target].throughput / each[bare].throughput for each in self.results]


def measure_rounds(
    rounds: int,
    targets: tuple[tuple[str, str], ...],
    env: dict[str, str],
    make_load: Callable[[int, str], tuple[list[bytes], list[bytes]]],
    connections: int,
) -> Rounds:
    """Measure each (name, factory) target once a round, one after the other, ``rounds`` times.

    ``make_load(round, name)`` returns that run's warm-up and measured requests.
    """
    measured = Rounds()
    for round_number in range(1, rounds + 1):
        this_round: dict[str, LoadResult] = {}
        for name, factory in targets:
            warmup, load = make_load(round_number, name)
            result = measure(factory, env, warmup, load, connections)
            p50, p99 = result.percentile(0.5), result.percentile(0.99)
            print(
                f"round {round_number}: {name:20} {result.throughput:8.0f} req/s  "
                f"p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  "
                f"server CPU {result.cpu_us_per_request:4.0f} µs/request"
            )
            this_round[name] = result
        measured.results.append(this_round)
    return measured


def comparison(rounds: Rounds, bare_name: str, target_name: str, name: str) -> dict[str, Any]:
    """Return the figures of a target against the bare endpoint.

    The ratio is the median of the rounds' own ratios: each round measures both, one right
    after the other, so a minute in which the machine is busy weighs on both sides of it.
    Throughputs and latencies are each side's best round.
    """
    bare, target = rounds.best(bare_name), rounds.best(target_name)
    ratios = rounds.ratios(bare_name, target_name)
    return {
        "bare_rps": round(bare.throughput),
        f"{name}_rps": round(target.throughput),
        "ratio": round(statistics.median(ratios), 3),
        "round_ratios": [round(each, 3) for each in ratios],
        f"{name}_p50_ms": round(target.percentile(0.5), 2),
        f"{name}_p99_ms": round(target.percentile(0.99), 2),
        "bare_p50_ms": round(bare.percentile(0.5), 2),
        "bare_p99_ms": round(bare.percentile(0.99), 2),
        "bare_cpu_us": round(bare.cpu_us_per_request),
        f"{name}_cpu_us": round(target.cpu_us_per_request),
        "error_answers": sum(
            n
            for each in rounds.results
            for status, n in each[target_name].statuses.items()
            if status != 200
        ),
    }


def start_process(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a program of the virtualenv (``flask …``, ``rq …``) in the project, in a
    session of its own, its output going to ``LOG_FILE``."""
    program = str(Path(sys.executable).parent / command[0])
    log = open(LOG_FILE, "ab")  # noqa: SIM115 - the child keeps its own copy
    try:
        return subprocess.Popen(
            [program, *command[1:]],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def wait_for_rq_workers(count: int = 1, timeout: float = 60.0) -> None:
    """Wait (in an app context) until ``count`` RQ workers have registered in Redis."""
    from rq import Worker

    from core.redis_client import redis_client

    deadline = time.monotonic() + timeout
    while Worker.count(connection=redis_client()) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not start; see bench/results/server.log")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started by ``start_process`` and all it started (SIGTERM, then KILL)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def replace_between_markers(readme: Path, start: str, end: str, lines: list[str]) -> None:
    """Replace what README.md holds between a part's ``start`` and ``end`` markers."""
    pattern = re.escape(start) + ".*?" + re.escape(end)
    text = re.sub(pattern, "\n".join([start, *lines, end]), readme.read_text(), flags=re.S)
    readme.write_text(text)
