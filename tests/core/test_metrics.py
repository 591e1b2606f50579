"""``/metrics``: behind a bearer token, webhook answers by endpoint, the work as it stands."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from callqueue.campaigns import create_campaign
from core.extensions import db
from core.models import OutboundMessage, utcnow
from core.models.campaigns import CampaignKind
from tests.callqueue.test_campaigns import overdue_account
from tests.conftest import post_webhook, run_jobs
from tests.support.processes import free_port, start_gunicorn, wait_until

TOKEN = "scrape-token-0123456789"


def scrape(client, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/metrics", headers=headers)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Read Prometheus's text format into {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def missed_call(client, n: int):
    params = {"CallSid": f"CA{n:032x}", "From": f"+9198765{n:05d}", "To": "+911800180000"}
    return post_webhook(client, "/ivr/missed-call", params)


def test_without_a_token_setting_there_are_no_metrics(client):
    assert scrape(client).status_code == 404


def test_a_scrape_needs_the_bearer_token(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    assert scrape(client, token=None).status_code == 401
    assert scrape(client, token="wrong").status_code == 401
    response = scrape(client)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers


def test_webhook_answers_and_latency_are_counted_by_endpoint(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    before = scrape(client).text
    missed_call(client, 1)
    missed_call(client, 2)
    post_webhook(client, "/ivr/missed-call", {"CallSid": "CA" + "f" * 32}, signature="forged")
    client.get("/healthz")  # not a webhook: not timed

    after = scrape(client).text
    endpoint = "ivr.missed_call"
    answered = "sampark_webhook_responses_total"
    assert value(after, answered, endpoint=endpoint, status="200") - value(
        before, answered, endpoint=endpoint, status="200"
    ) == 2
    assert value(after, answered, endpoint=endpoint, status="403") - value(
        before, answered, endpoint=endpoint, status="403"
    ) == 1
    timed = "sampark_webhook_request_duration_seconds_count"
    assert value(after, timed, endpoint=endpoint) - value(before, timed, endpoint=endpoint) == 3
    assert not any(
        dict(labels).get("endpoint") == "health.healthz" for _, labels in samples(after)
    )


def test_the_work_is_read_as_it_stands(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    for n in range(3):
        missed_call(client, n)
    overdue_account(app, "+919800000501")
    with app.app_context():
        create_campaign(CampaignKind.OVERDUE_BILLS, name="march", now=utcnow())

    with app.app_context():
        # Two days old and still queued: waiting, but not among the last day's messages.
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == db.session.scalar(select(func.min(OutboundMessage.id))))
            .values(created_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()

    text = scrape(client).text
    assert value(text, "sampark_callbacks_pending") == 3
    assert value(text, "sampark_callbacks_due") == 3
    assert value(text, "sampark_callbacks_oldest_due_wait_seconds") >= 0
    ack = {"template": "missed_call_ack"}
    assert value(text, "sampark_sms_waiting", **ack, status="queued") == 3
    assert value(text, "sampark_sms_messages_last_day", **ack, status="queued") == 2
    assert value(text, "sampark_campaign_calls", campaign="march", status="queued") == 1
    assert value(text, "sampark_rq_jobs", queue="sms", state="queued") == 0
    for collector in ("record_metrics", "rq_queues"):
        assert value(text, "sampark_metrics_collector_up", collector=collector) == 1

    run_jobs(app)
    text = scrape(client).text
    assert value(text, "sampark_sms_messages_last_day", **ack, status="sent") == 2
    assert value(text, "sampark_sms_waiting", **ack, status="queued") == 0


def test_a_source_that_is_down_is_reported_and_the_rest_still_answer(make_app, scratch_dir):
    app = make_app(METRICS_TOKEN=TOKEN, REDIS_URL=f"unix://{scratch_dir}/no-such-redis.sock")
    response = scrape(app.test_client())
    assert response.status_code == 200
    assert value(response.text, "sampark_metrics_collector_up", collector="rq_queues") == 0
    assert value(response.text, "sampark_metrics_collector_up", collector="record_metrics") == 1


def test_every_gunicorn_worker_counts_into_one_scrape(database_url, redis_url, tmp_path):
    # Two worker processes answer; whichever takes a scrape reports both workers' answers.
    port = free_port()
    counts_dir = tmp_path / "metrics"
    counts_dir.mkdir()
    (counts_dir / "counter_1.db").write_bytes(b"left by an earlier run")
    env = {
        **os.environ,
        "SAMPARK_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "METRICS_TOKEN": TOKEN,
        "TWILIO_AUTH_TOKEN": "not-the-signers",
        "PROMETHEUS_MULTIPROC_DIR": str(counts_dir),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "2",
        "ACCESS_LOG": "",
    }
    server = start_gunicorn(env, tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: urllib.request.urlopen(f"{base}/healthz").status == 200, timeout=60)
        for n in range(40):
            # Unsigned: each is refused (403) by whichever worker takes the connection.
            request = urllib.request.Request(
                f"{base}/ivr/missed-call", data=f"CallSid=CA{n:032x}".encode(), method="POST"
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request)
            refused.value.close()
            assert refused.value.code == 403
        scrape_request = urllib.request.Request(
            f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        for _ in range(6):
            with urllib.request.urlopen(scrape_request) as response:
                text = response.read().decode()
            # The earlier run's file is gone: gunicorn.conf.py empties the folder at start.
            assert value(
                text, "sampark_webhook_responses_total", endpoint="ivr.missed_call", status="403"
            ) == 40
        writers = {path.name for path in counts_dir.glob("counter_*.db")}
        assert "counter_1.db" not in writers
    finally:
        server.terminate()
        server.wait(timeout=30)
