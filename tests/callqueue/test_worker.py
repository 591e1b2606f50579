"""``flask queue worker`` in a real process: it outlives Redis outages and crashed schedulers."""

from __future__ import annotations

import signal
import time
import xml.etree.ElementTree as ET
from datetime import timedelta

import psutil
from rq import Queue, Worker
from rq.scheduler import SCHEDULER_KEY_TEMPLATE

from callqueue.queues import SMS_QUEUE
from callqueue.sweep import sweep
from callqueue.worker import WORKER_TTL_SECONDS
from core.redis_client import redis_client
from tests.ivr.test_missed_call import missed_call
from tests.support.processes import wait_until
from tests.support.workers import start_worker, stop_worker


def _worker_registered(app) -> bool:
    with app.app_context():
        return Worker.count(connection=redis_client()) >= 1


def test_a_worker_waits_out_a_redis_outage_and_sends_what_came_meanwhile(
    make_app, app_config, own_redis, twilio_api, tmp_path
):
    config = {**app_config, "REDIS_URL": own_redis.url, "RECONCILE_AFTER_SECONDS": 0}
    app = make_app(**config)
    client = app.test_client()
    worker = start_worker(config, tmp_path / "worker.log")
    try:
        wait_until(lambda: _worker_registered(app), timeout=10)
        # The scheduler takes its locks just after the worker registers.
        wait_until(lambda: client.get("/healthz/background").json["status"] == "ok", timeout=10)
        missed_call(client, "+919812345600", sid="CA" + "0" * 32)
        with app.app_context():
            assert sweep()["relayed"] == 1
        twilio_api.wait_for_messages(1, timeout=10)

        own_redis.stop()
        time.sleep(1)  # the worker meets the outage while it waits on the queues
        # Webhooks still answer, and the host stays in the load balancer.
        for n in (1, 2):
            response = missed_call(client, f"+9198123456{n:02d}", sid=f"CA{n:032d}")
            assert [child.tag for child in ET.fromstring(response.data)] == ["Reject"]
        health = client.get("/healthz")
        assert (health.status_code, health.json["background"]) == (200, "stalled")
        assert health.json["redis"].startswith("down")
        assert client.get("/healthz/background").status_code == 503
        assert worker.poll() is None, "the worker died with Redis"

        own_redis.start()
        with app.app_context():
            assert sweep()["relayed"] == 2
        messages = twilio_api.wait_for_messages(3, timeout=10)
        assert sorted(sms["To"] for sms in messages) == [
            "+919812345600",
            "+919812345601",
            "+919812345602",
        ]
        # Redis came back empty: the worker registered itself again, and says so.
        wait_until(lambda: _worker_registered(app), timeout=WORKER_TTL_SECONDS)
        # Its scheduler, if Redis took it down, is back within the maintenance interval.
        wait_until(lambda: client.get("/healthz/background").status_code == 200, timeout=20)
        assert worker.poll() is None
    finally:
        code = stop_worker(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert code == 0, log
    assert len(twilio_api.messages) == 3


def test_delayed_jobs_go_out_soon_after_a_crashed_worker_is_replaced(
    make_app, app_config, own_redis, tmp_path
):
    config = {**app_config, "REDIS_URL": own_redis.url}
    app = make_app(**config)
    first = start_worker(config, tmp_path / "first.log")
    try:
        wait_until(lambda: _worker_registered(app), timeout=10)
        with app.app_context():
            connection = redis_client()
            wait_until(lambda: connection.exists(f"rq:scheduler-lock:{SMS_QUEUE}"), timeout=10)
            scheduler_lock = connection.get(f"rq:scheduler-lock:{SMS_QUEUE}")
            # The scheduler takes its lock, then its process records itself (host, pid): a
            # crash between the two leaves a lock nobody can tell is dead, which RQ lets
            # expire (61 s). The crash tested here is of a scheduler that is running.
            record = SCHEDULER_KEY_TEMPLATE % scheduler_lock.decode()
            wait_until(lambda: connection.hget(record, "pid"), timeout=10)
        # A crash: the worker and its scheduler die at once, leaving the scheduler's lock.
        for process in [psutil.Process(first.pid), *psutil.Process(first.pid).children()]:
            process.send_signal(signal.SIGKILL)
        first.wait(timeout=5)
        with app.app_context():
            assert connection.get(f"rq:scheduler-lock:{SMS_QUEUE}") == scheduler_lock
            job = Queue(SMS_QUEUE, connection=connection).enqueue_in(
                timedelta(seconds=2), "builtins.print", "delayed"
            )
        second = start_worker(config, tmp_path / "second.log")
        started = time.monotonic()
        try:
            with app.app_context():
                wait_until(lambda: job.get_status(refresh=True) == "finished", timeout=15)
            took = time.monotonic() - started
        finally:
            stop_worker(second)
    finally:
        stop_worker(first)
    log = (tmp_path / "second.log").read_text(errors="replace")
    assert took < 10, log
    assert "released the scheduler lock of a dead scheduler" in log
