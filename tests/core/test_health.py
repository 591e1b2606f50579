"""``/healthz`` answers load balancers."""

from __future__ import annotations


def test_healthy_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_names_redis_when_it_is_down(make_app, scratch_dir):
    app = make_app(REDIS_URL=f"unix://{scratch_dir}/no-such-redis.sock")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("down")


def test_names_the_database_when_it_is_down(make_app, scratch_dir):
    app = make_app(DATABASE_URL=f"sqlite:///{scratch_dir}/no-such-dir/x.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("down")
    assert response.json["redis"] == "ok"
