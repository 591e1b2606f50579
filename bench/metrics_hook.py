"""``python -m bench.metrics_hook``: what timing a webhook for ``/metrics`` costs a request.

Calls the two hooks ``core.metrics`` puts on the webhook blueprints (before the view and
after it) 200,000 times inside one request, in a process of its own per mode: one web
process, and prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) as
under gunicorn. Prints microseconds per request, five runs each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

CALLS = 200_000
RUNS = 5


def measure() -> list[float]:
    """Return the hooks' cost per request, in µs, of each run (in this process's mode)."""
    from flask import Blueprint, Flask, Response, request

    from core import metrics

    app = Flask(__name__)
    webhooks = Blueprint("ivr", __name__)
    webhooks.add_url_rule("/ivr/missed-call", "missed_call", lambda: "", methods=["POST"])
    app.register_blueprint(webhooks)
    answer = Response("")
    runs = []
    with app.test_request_context("/ivr/missed-call", method="POST"):
        request.url_rule, request.view_args = app.url_map.bind("localhost").match(
            "/ivr/missed-call", method="POST", return_rule=True
        )
        for _ in range(RUNS):
            started = time.perf_counter()
            for _ in range(CALLS):
                metrics._start_timer()
                metrics._count_answer(answer)
            runs.append((time.perf_counter() - started) / CALLS * 1e6)
    return runs


def main() -> None:
    if len(sys.argv) > 1:
        runs = measure()
        print(
            f"{sys.argv[1]:>12}: {statistics.median(runs):.1f} µs a request "
            f"(runs: {', '.join(f'{run:.1f}' for run in runs)})"
        )
        return
    with tempfile.TemporaryDirectory() as folder:
        for mode, extra in (
            ("one process", {}),
            ("multiprocess", {"PROMETHEUS_MULTIPROC_DIR": folder}),
        ):
            env = {
                key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"
            }
            subprocess.run(
                [sys.executable, "-m", "bench.metrics_hook", mode], env={**env, **extra}, check=True
            )


if __name__ == "__main__":
    main()
