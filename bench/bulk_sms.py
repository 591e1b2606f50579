"""Bulk SMS: how fast one worker sends a notice to many consumers.

``run(args)`` measures, on a fresh SQLite file and its own embedded Redis (or
``DATABASE_URL``/``REDIS_URL`` if set):

(a) per worker process, ``--sms-rounds`` times: N messages (``--sms-messages``) recorded
    with ``record_message``, relayed to RQ by ``relay_messages`` and sent by one
    ``flask queue worker sms`` through the outbox provider, from the first record to the
    last ``sent``; against RQ's own ``SimpleWorker`` (``rq worker --worker-class
    rq.SimpleWorker``) draining N no-op jobs queued in one round trip, on the same Redis,
    in the same round. The ratio is SMS/s over no-op jobs/s, median of the rounds.
(b) per worker host, ``--sms-rounds`` times: M messages (``--sms-slow-messages``) sent by
    one worker through the Twilio SDK to a local stand-in of Twilio's REST API that takes
    200 ms per request (``tests/support/twilio_standin.py``); then ten seconds' worth with
    ``SMS_PER_SECOND_LIMIT`` at half the median rate, counting the requests the stand-in
    saw a second on average and in its busiest second.

Both workers are started and registered before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.server import (
    ROOT,
    TOKEN,
    bench_environment,
    replace_between_markers,
    start_process,
    stop_process,
    wait_for_rq_workers,
)

DEFAULT_MESSAGES = 5000
"""Messages (and no-op jobs) per round of part (a)."""

DEFAULT_SLOW_MESSAGES = 2000
"""Messages sent through the slow provider stand-in in part (b)."""

DEFAULT_ROUNDS = 3
"""Rounds of part (a), each measuring both sides."""

PROVIDER_DELAY_SECONDS = 0.2
"""How long the provider stand-in takes per request in part (b)."""

TARGET_RATIO = 0.8
"""SMS/s per worker process must reach this share of SimpleWorker's no-op jobs/s."""

TARGET_HOST_RATE = 100.0
"""SMS/s one worker host must reach through the slow provider."""

NOOP_QUEUE = "bench-noop"

README_START, README_END = "<!-- bench:bulk-sms:start -->", "<!-- bench:bulk-sms:end -->"

ACCOUNT_SID = "AC" + "b" * 32


def noop() -> None:
    """The job SimpleWorker runs: nothing at all."""


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure both parts; return the figures."""
    rounds = [_round(args.sms_messages, n) for n in range(1, args.sms_rounds + 1)]
    ratios = [r["sms_per_second"] / r["noop_per_second"] for r in rounds]
    slow_runs = [_slow_provider(args.sms_slow_messages, limit=None) for _ in range(args.sms_rounds)]
    slow = sorted(slow_runs, key=lambda run: run["sms_per_second"])[len(slow_runs) // 2]
    limit = max(1, int(slow["sms_per_second"] // 2))
    # Ten seconds' worth at the limit: the first sends' new connections do not skew it.
    limited = _slow_provider(limit * 10, limit=limit)
    return {
        "messages": args.sms_messages,
        "rounds": rounds,
        "ratio": round(statistics.median(ratios), 3),
        "round_ratios": [round(r, 3) for r in ratios],
        "slow_provider": slow,
        "slow_provider_runs": [run["sms_per_second"] for run in slow_runs],
        "rate_limited": limited,
        "ok": statistics.median(ratios) >= TARGET_RATIO
        and slow["sms_per_second"] >= TARGET_HOST_RATE
        # One more in a second than the limit is the sleeps' jitter; a tenth more, a busy
        # machine's (a sender set aside for a moment sends its due requests together).
        and limited["requests_per_second"] <= limit * 1.02
        and limited["busiest_second"] <= limit * 1.1 + 1
        and all(r["sent"] == args.sms_messages for r in rounds)
        and slow["sent"] == slow["messages"] == slow["provider_requests"]
        and limited["sent"] == limited["messages"] == limited["provider_requests"],
    }


def _round(count: int, number: int) -> dict[str, Any]:
    """One round of part (a): no-op jobs on SimpleWorker, then SMS on our worker."""
    with bench_environment(CALLING_HOURS="00:00-23:59:59") as env:
        app = _app(env)
        noop_rate = _drain_noops(app, env, count)
        figures = _send_with_worker(app, env, count, timeout=count / 5 + 60)
    figures["noop_per_second"] = noop_rate
    print(
        f"round {number}: SimpleWorker {noop_rate:7.1f} no-op jobs/s   "
        f"worker {figures['sms_per_second']:7.1f} SMS/s   "
        f"ratio {figures['sms_per_second'] / noop_rate:.3f}"
    )
    return figures


def _app(env: dict[str, str], **settings: Any) -> Any:
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": env["DATABASE_URL"],
            "REDIS_URL": env["REDIS_URL"],
            "SECRET_KEY": "bench",
            "CALLING_HOURS": "00:00-23:59:59",
            "PUBLIC_BASE_URL": env["PUBLIC_BASE_URL"],
            **settings,
        }
    )


def _drain_noops(app: Any, env: dict[str, str], count: int) -> float:
    """Return the no-op jobs a second one SimpleWorker drains, from enqueueing to the last."""
    from rq import Queue
    from rq.registry import FinishedJobRegistry

    from core.redis_client import redis_client

    worker = start_process(
        [
            "rq",
            "worker",
            "--worker-class",
            "rq.SimpleWorker",
            "--url",
            env["REDIS_URL"],
            NOOP_QUEUE,
        ],
        env,
    )
    try:
        with app.app_context():
            wait_for_rq_workers()
            connection = redis_client()
            queue = Queue(NOOP_QUEUE, connection=connection)
            finished = FinishedJobRegistry(queue=queue)
            started = time.perf_counter()
            with connection.pipeline() as pipeline:
                queue.enqueue_many(
                    [Queue.prepare_data(noop) for _ in range(count)], pipeline=pipeline
                )
                pipeline.execute()
            while finished.count < count:
                time.sleep(0.02)
            took = time.perf_counter() - started
    finally:
        stop_process(worker)
    return round(count / took, 1)


def _send_with_worker(app: Any, env: dict[str, str], count: int, *, timeout: float) -> dict:
    """Start one ``flask queue worker sms``; record, relay and send ``count`` notices."""
    worker = start_process(["flask", "queue", "worker", "sms"], env)
    try:
        with app.app_context():
            wait_for_rq_workers()
            cpu_before = _cpu_seconds(worker.pid)
            figures = _record_relay_send(app, count, timeout=timeout)
            cpu = _cpu_seconds(worker.pid) - cpu_before
    finally:
        stop_process(worker)
    figures["worker_cpu_ms_per_sms"] = round(cpu * 1000 / count, 2)
    return figures


def _record_relay_send(app: Any, count: int, *, timeout: float) -> dict[str, Any]:
    """Record ``count`` notices, relay them, and wait until the worker has sent them all."""
    from callqueue.relay import relay_messages
    from callqueue.sms import record_message
    from core.extensions import db

    started = time.perf_counter()
    with app.app_context():
        for n in range(count):
            record_message(
                db.session,
                key="missed_call_ack",
                to=f"+9170{n:08d}",
                language="hi" if n % 2 else "en",
            )
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        recorded = time.perf_counter()
        relay_messages(limit=10**9)
        relayed = time.perf_counter()
        sent = _wait_until_sent(count, timeout)
        done = time.perf_counter()
    return {
        "sent": sent,
        "record_s": round(recorded - started, 2),
        "relay_s": round(relayed - recorded, 2),
        "send_s": round(done - relayed, 2),
        "sms_per_second": round(count / (done - started), 1),
    }


def _wait_until_sent(count: int, timeout: float) -> int:
    from sqlalchemy import func, select

    from core.extensions import db
    from core.models import MessageStatus, OutboundMessage

    deadline = time.monotonic() + timeout
    while True:
        done = db.session.scalar(
            select(func.count()).where(
                OutboundMessage.status.not_in([MessageStatus.QUEUED, MessageStatus.SENDING])
            )
        )
        sent = db.session.scalar(
            select(func.count()).where(OutboundMessage.status == MessageStatus.SENT)
        )
        db.session.rollback()
        if done >= count or time.monotonic() > deadline:
            return sent
        time.sleep(0.02)


def _slow_provider(count: int, *, limit: int | None) -> dict[str, Any]:
    """Part (b): ``count`` SMS through a provider stand-in taking 200 ms a request."""
    sys.path.insert(0, str(ROOT))
    from tests.support.twilio_standin import TwilioStandin

    class TimedStandin(TwilioStandin):
        """The Twilio stand-in, noting when each request arrived."""

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.arrivals: list[float] = []
            self._arrivals_lock = threading.Lock()

        def _handle(self, *args: Any) -> Any:
            with self._arrivals_lock:
                self.arrivals.append(time.monotonic())
            return super()._handle(*args)

    settings = {
        "TELEPHONY_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "SMS_FROM": "+911140000000",
        "CALLER_ID": "+911140000001",
        "SMS_PER_SECOND_LIMIT": str(limit or 0),
    }
    with TimedStandin(ACCOUNT_SID, TOKEN) as standin:
        standin.delay(PROVIDER_DELAY_SECONDS)
        settings["TWILIO_API_BASE_URL"] = standin.base_url
        with bench_environment(CALLING_HOURS="00:00-23:59:59") as env:
            env.update(settings)
            app = _app(env, TWILIO_AUTH_TOKEN=TOKEN, **settings)
            figures = _send_with_worker(app, env, count, timeout=count / 2 + 60)
        arrivals = sorted(standin.arrivals)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    busiest = max(
        (sum(1 for t in arrivals[i:] if t - start < 1.0) for i, start in enumerate(arrivals)),
        default=0,
    )
    result = {
        "messages": count,
        "sent": figures["sent"],
        "provider_requests": len(arrivals),
        "sms_per_second": figures["sms_per_second"],
        "requests_per_second": round((len(arrivals) - 1) / span, 1) if span else 0.0,
        "busiest_second": busiest,
        "limit": limit,
        "worker_cpu_ms_per_sms": figures["worker_cpu_ms_per_sms"],
    }
    print(f"slow provider, limit {limit or 'none'}: {result}")
    return result


def _cpu_seconds(pid: int) -> float:
    """Return the CPU time of a worker, its finished work horses and its live children."""
    import psutil

    process = psutil.Process(pid)
    times = process.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in process.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += child_times.user + child_times.system
    return total


def write_readme(readme: Path, f: dict[str, Any]) -> None:
    """Replace the figures between the bulk-sms markers in README.md."""
    slow, limited = f["slow_provider"], f["rate_limited"]
    rows = [
        f"| {n} | {r['noop_per_second']} | {r['sms_per_second']} "
        f"| {r['record_s']} s / {r['relay_s']} s / {r['send_s']} s "
        f"| {r['worker_cpu_ms_per_sms']} ms | {r['sms_per_second'] / r['noop_per_second']:.3f} |"
        for n, r in enumerate(f["rounds"], 1)
    ]
    lines = [
        f"Measured by `python -m bench --only bulk-sms` on {time.strftime('%Y-%m-%d')}: "
        f"{os.cpu_count()} cores (shared), SQLite, embedded Redis, {f['messages']:,} messages "
        "a round.",
        "",
        "| round | SimpleWorker no-op jobs/s | SMS/s, one worker, outbox "
        "| record / relay / send | worker CPU per SMS | ratio |",
        "|---:|---:|---:|---|---:|---:|",
        *rows,
        "",
        f"Ratio **{f['ratio']}** (median of the rounds; target {TARGET_RATIO}). Through a "
        f"provider stand-in taking {PROVIDER_DELAY_SECONDS * 1000:.0f} ms a request, one "
        f"worker sent {slow['messages']:,} SMS at **{slow['sms_per_second']}/s** "
        f"(median of {', '.join(map(str, f['slow_provider_runs']))}; target "
        f"{TARGET_HOST_RATE:g}), using {slow['worker_cpu_ms_per_sms']} ms of CPU per SMS. "
        f"With `SMS_PER_SECOND_LIMIT={limited['limit']}` it sent {limited['messages']:,} at "
        f"{limited['requests_per_second']} requests/s, the busiest second seeing "
        f"{limited['busiest_second']}.",
    ]
    replace_between_markers(readme, README_START, README_END, lines)
