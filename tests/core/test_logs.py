"""Log lines: plain or JSON (``LOG_FORMAT``), phone numbers masked either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LOGS_A_NUMBER = """
import logging
from app import create_app
create_app()
logging.getLogger("sampark.test").warning("calling %s back", "+919812345678")
"""


def run_app_that_logs(log_format: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LOG_FORMAT": log_format,
        "SAMPARK_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test",
    }
    return subprocess.run(
        [sys.executable, "-c", LOGS_A_NUMBER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_json_lines_carry_the_message_with_the_number_masked(tmp_path):
    done = run_app_that_logs("json", tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    [record] = [line for line in lines if line["logger"] == "sampark.test"]
    assert record["level"] == "WARNING"
    assert record["message"] == "calling +91******5678 back"
    assert "time" in record
    assert "9812345678" not in done.stderr


def test_plain_lines_by_default(tmp_path):
    done = run_app_that_logs("text", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "WARNING sampark.test: calling +91******5678 back" in done.stderr


def test_an_unknown_log_format_stops_the_app(make_app):
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        make_app(LOG_FORMAT="xml")
