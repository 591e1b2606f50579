"""Missed calls given one after another while another process writes, each one timed."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient


@dataclass(frozen=True)
class Load:
    """What ``missed_calls_while`` saw: the waits while busy, the calls given, the output."""

    waits: list[float]
    calls: int
    output: str
    errors: str
    returncode: int


def missed_calls_while(
    client: FlaskClient,
    app: Flask,
    process: subprocess.Popen[str],
    busy: Callable[[Flask], bool],
) -> Load:
    """Give missed calls until ``process`` ends; keep the waits of those given while ``busy``."""
    from tests.conftest import post_webhook  # here: tests.conftest imports tests.support

    waits: list[float] = []
    n = 0
    try:
        while process.poll() is None:
            n += 1
            params = {"CallSid": f"CA{n:032x}", "From": f"+9198{n:08d}", "To": "+911800180000"}
            started = time.perf_counter()
            response = post_webhook(client, "/ivr/missed-call", params)
            waited = time.perf_counter() - started
            assert response.status_code == 200
            if busy(app):
                waits.append(waited)
            time.sleep(0.01)
        output, errors = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Load(waits, n, output, errors, process.returncode)
