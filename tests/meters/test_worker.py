"""A real ``flask queue worker`` process reconnects a paid smart meter through the stand-in."""

from __future__ import annotations

import time

from rq import Worker

from callqueue.sweep import sweep
from core.models import utcnow
from core.redis_client import redis_client
from tests.meters.conftest import (
    CALLER,
    METER,
    add_meter_consumer,
    clear_dues,
    head_end_settings,
    orders,
)
from tests.support.processes import wait_until
from tests.support.workers import start_worker, stop_worker


def test_a_worker_reconnects_a_paid_smart_meter_and_sms_the_consumer_once(
    make_app, app_config, head_end_api, twilio_api, tmp_path
):
    head_end_api.reset()
    head_end_api.delay = 1.0  # the relay switches a second after the command
    config = {**app_config, **head_end_settings(head_end_api), "RECONNECT_POLL_SECONDS": 1}
    app = make_app(**config)
    account_id = add_meter_consumer(app)
    worker = start_worker(config, tmp_path / "worker.log")
    try:
        with app.app_context():
            wait_until(lambda: Worker.count(connection=redis_client()) >= 1, timeout=15)
        started = time.monotonic()
        time_paid = utcnow()
        clear_dues(app, account_id, time_paid)
        wait_until(lambda: orders(app)[0].status == "connected", timeout=20)
        took = time.monotonic() - started
        with app.app_context():
            assert sweep()["relayed"] == 1
        (sms,) = twilio_api.wait_for_messages(1, timeout=15)
        # A later sweep and a second delivery of the signal send nothing more.
        clear_dues(app, account_id, time_paid)
        with app.app_context():
            sweep()
        time.sleep(1)
    finally:
        head_end_api.delay = 0.0
        code = stop_worker(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert code == 0, log
    (order,) = orders(app)
    reads = [r for r in head_end_api.requests if r["method"] == "GET"]
    assert order.relay_state == "connected" and reads, log
    assert len(head_end_api.switchings) == 1 and head_end_api.relay(METER) == "connected"
    assert sms["To"] == CALLER and len(twilio_api.messages) == 1
    assert took < 15, f"reconnected in {took:.1f} s"
    print(f"paid → relay connected in {took:.2f} s through a real worker")
