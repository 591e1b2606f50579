"""``flask dev`` (behind ``make run``): the whole stack in real processes, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import psutil
import pytest
from twilio.request_validator import RequestValidator

from tests.support.processes import (
    describe,
    free_port,
    port_is_free,
    processes_with_env,
    traffic,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")
TOKEN = "dev-test-token"

CTRL_C_ROUNDS = 10
"""Stops of a busy stack in a row that must each leave nothing behind."""


@pytest.fixture()
def dev_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "REDIS_URL", "TWILIO_")) and key != "HOST"
    }
    env.update(
        FLASK_APP="app",
        SAMPARK_INSTANCE_PATH=str(tmp_path / "instance"),
        DATABASE_URL=f"sqlite:///{tmp_path}/dev.db",
        TWILIO_AUTH_TOKEN=TOKEN,
        PORT=str(free_port()),
        WEB_CONCURRENCY="1",
        CALLING_HOURS="00:00-23:59:59",
    )
    subprocess.run([FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def test_make_run_serves_records_sends_and_stops_cleanly(dev_env, tmp_path):
    base = f"http://127.0.0.1:{dev_env['PORT']}"
    stack = subprocess.Popen(
        [FLASK, "dev"], cwd=ROOT, env=dev_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    failure = None
    try:
        health = wait_until(lambda: json.load(urllib.request.urlopen(f"{base}/healthz/background")))
        assert health == {"status": "ok", "redis": "ok", "workers": "1", "scheduler": "ok"}

        url = f"{base}/ivr/missed-call"
        params = {"CallSid": "CA" + "d" * 32, "From": "+919812345678", "To": "+911800180000"}
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        request = urllib.request.Request(
            url, urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
        )
        assert b'<Reject reason="busy"' in urllib.request.urlopen(request).read()

        # The sweeper relays the SMS, the worker sends it to the outbox (no Twilio account).
        import sqlite3

        def sent() -> bool:
            with sqlite3.connect(f"{tmp_path}/dev.db") as db:
                rows = db.execute("SELECT status, provider FROM outbound_messages").fetchall()
            return rows == [("sent", "outbox")]

        wait_until(sent)
    except TimeoutError as exc:
        failure = exc
    finally:
        stack.send_signal(signal.SIGINT)
        output = stack.communicate(timeout=30)[0].decode()
    assert failure is None, output
    assert stack.returncode == 0, output
    assert f"Sampark is running on http://127.0.0.1:{dev_env['PORT']}" in output
    assert f"listening on       127.0.0.1:{dev_env['PORT']}\n" in output
    assert "stopped" in output
    redis_socket = tmp_path / "instance" / "redis" / "redis.sock"
    assert not redis_socket.exists(), "the embedded Redis was left running"


def test_ctrl_c_on_a_busy_stack_leaves_no_process_and_frees_the_port_every_time(dev_env, tmp_path):
    instance = dev_env["SAMPARK_INSTANCE_PATH"]
    deadline = time.monotonic() + 300
    for round_number in range(CTRL_C_ROUNDS):
        assert time.monotonic() < deadline, f"only {round_number} rounds in 300 s"
        port = free_port()
        # Many threads, started as connections arrive, and a signal while they start: the
        # moment a gunicorn worker once deadlocked at (tests/test_gunicorn_conf.py).
        env = {**dev_env, "PORT": str(port), "WEB_CONCURRENCY": "2", "WEB_THREADS": "64"}
        base = f"http://127.0.0.1:{port}"
        log_path = tmp_path / f"round-{round_number}.log"
        with open(log_path, "wb") as log:
            # Its own session, as a shell runs a command in the foreground: Ctrl-C is SIGINT
            # to that whole process group.
            stack = subprocess.Popen(
                [FLASK, "dev"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until(lambda: urllib.request.urlopen(f"{base}/healthz").status == 200)  # noqa: B023
            with traffic(f"{base}/console/login", clients=48):
                time.sleep(0.02 * round_number)
                started = time.monotonic()
                os.killpg(stack.pid, signal.SIGINT)
                stack.wait(timeout=60)
            took = time.monotonic() - started
        finally:
            left = processes_with_env("SAMPARK_INSTANCE_PATH", instance)
            for process in left:
                process.kill()
        output = log_path.read_text(errors="replace")
        assert not left, f"round {round_number} left:\n{describe(left)}\n{output}"
        assert port_is_free(port), f"round {round_number}: port {port} still taken\n{output}"
        assert stack.returncode == 0, output
        assert "killing it" not in output, output  # every child stopped on its own
        assert took < 20, f"round {round_number} took {took:.1f} s to stop\n{output}"


def test_a_dead_worker_and_a_dead_embedded_redis_are_started_again(dev_env, tmp_path):
    base = f"http://127.0.0.1:{dev_env['PORT']}"
    instance = dev_env["SAMPARK_INSTANCE_PATH"]
    log_path = tmp_path / "stack.log"
    with open(log_path, "wb") as log:
        stack = subprocess.Popen(
            [FLASK, "dev"], cwd=ROOT, env=dev_env, stdout=log, stderr=subprocess.STDOUT
        )

    def background_ok() -> bool:
        return urllib.request.urlopen(f"{base}/healthz/background").status == 200

    try:
        wait_until(background_ok, timeout=30)
        worker = next(
            child
            for child in psutil.Process(stack.pid).children()
            if child.cmdline()[-2:] == ["queue", "worker"]
        )
        redis_pid = int((Path(instance) / "redis" / "redis.pid").read_text())
        started = time.monotonic()
        worker.kill()
        os.kill(redis_pid, signal.SIGKILL)
        # Webhooks answer while Redis and the worker are gone; the host stays in.
        assert urllib.request.urlopen(f"{base}/healthz").status == 200
        wait_until(background_ok, timeout=15)
        took = time.monotonic() - started
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=30)
        left = processes_with_env("SAMPARK_INSTANCE_PATH", instance)
        for process in left:
            process.kill()
    output = log_path.read_text(errors="replace")
    assert "worker exited with -9; starting it again in 1 s" in output
    assert "the embedded Redis stopped; starting it again" in output
    assert took < 15, output
    assert not left, f"left:\n{describe(left)}\n{output}"
    assert stack.returncode == 0, output
