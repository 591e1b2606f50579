"""``/healthz`` tells load balancers whether a host takes webhooks; ``/healthz/background``
tells monitoring whether background work flows."""

from __future__ import annotations

from rq import Worker

from callqueue.queues import ALL_QUEUES, get_queue
from core.redis_client import redis_client


def test_healthy_when_the_database_answers_and_says_background_work_is_stalled(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    # No worker runs in this test.
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "background": "stalled",
        "redis": "ok",
        "workers": "0",
        "scheduler": "missing",
    }
    assert client.get("/healthz/background").status_code == 503


def test_background_flows_with_a_worker_and_its_scheduler(app, client):
    with app.app_context():
        connection = redis_client()
        worker = Worker([get_queue(name) for name in ALL_QUEUES], connection=connection)
        worker.register_birth()
        for name in ALL_QUEUES:
            connection.set(f"rq:scheduler-lock:{name}", "someone", ex=60)
    response = client.get("/healthz/background")
    assert (response.status_code, response.json["workers"]) == (200, "1")
    assert client.get("/healthz").json["background"] == "ok"

    with app.app_context():
        redis_client().delete("rq:scheduler-lock:sms")
    response = client.get("/healthz/background")
    assert (response.status_code, response.json["scheduler"]) == (503, "missing")


def test_redis_down_keeps_the_host_in_and_names_redis(make_app, scratch_dir):
    app = make_app(REDIS_URL=f"unix://{scratch_dir}/no-such-redis.sock")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert (response.json["database"], response.json["background"]) == ("ok", "stalled")
    assert response.json["redis"].startswith("down")
    background = app.test_client().get("/healthz/background")
    assert background.status_code == 503
    assert background.json["redis"].startswith("down")


def test_names_the_database_when_it_is_down(make_app, scratch_dir):
    app = make_app(DATABASE_URL=f"sqlite:///{scratch_dir}/no-such-dir/x.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("down")
    assert response.json["redis"] == "ok"
