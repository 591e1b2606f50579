"""``flask dev`` (behind ``make run``): the whole stack in real processes, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")
TOKEN = "dev-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float = 30.0):
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


@pytest.fixture()
def dev_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "REDIS_URL", "TWILIO_"))
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
        health = wait_until(lambda: json.load(urllib.request.urlopen(f"{base}/healthz")))
        assert health == {"status": "ok", "database": "ok", "redis": "ok"}

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
    assert "Sampark is running on" in output
    assert "stopped" in output
    redis_socket = tmp_path / "instance" / "redis" / "redis.sock"
    assert not redis_socket.exists(), "the embedded Redis was left running"
