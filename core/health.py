"""Health checks: can this host take webhooks, and is background work flowing.

``GET /healthz`` answers 200 whenever the database answers, because that is all a webhook
needs: work is recorded in SQL first, and the sweep hands it to Redis once Redis is back. Its
body also says whether background work flows, for people reading it. ``GET
/healthz/background`` answers 503 when Redis does not answer, no RQ worker has been seen
lately, or a queue the workers take from has no scheduler (retries and delayed jobs would
stall); point monitoring at it, not a load balancer.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from rq import Worker
from rq.scheduler import RQScheduler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.models import utcnow
from core.redis_client import redis_client

health_bp = Blueprint("health", __name__)

WORKER_SILENT_AFTER = timedelta(seconds=90)
"""A worker with no heartbeat for this long counts as gone (an idle RQ worker beats about
every 15 s here, a busy one every 30 s)."""


@health_bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer 200 when this host can take webhooks (the database answers); say how work flows."""
    database = database_check()
    background = background_checks()
    healthy = database == "ok"
    return jsonify(
        status="ok" if healthy else "down",
        database=database,
        background="ok" if _flowing(background) else "stalled",
        **background,
    ), (200 if healthy else 503)


@health_bp.get("/healthz/background")
def healthz_background() -> ResponseReturnValue:
    """Answer 200 when Redis answers, a worker is alive and every queue it takes has a scheduler."""
    checks = background_checks()
    flowing = _flowing(checks)
    return jsonify(status="ok" if flowing else "stalled", **checks), (200 if flowing else 503)


def database_check() -> str:
    """Return ``ok`` or what went wrong with the database."""
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"down: {type(exc).__name__}"
    finally:
        db.session.rollback()


def background_checks() -> dict[str, str]:
    """Say whether Redis answers, how many workers are alive and which queues lack a scheduler."""
    connection = redis_client()
    try:
        connection.ping()
        cutoff = utcnow() - WORKER_SILENT_AFTER
        alive = [
            worker
            for worker in Worker.all(connection=connection)
            if worker.last_heartbeat is not None and worker.last_heartbeat >= cutoff
        ]
        queues = sorted({name for worker in alive for name in worker.queue_names()})
        held = (
            connection.exists(*(RQScheduler.get_locking_key(name) for name in queues))
            if queues
            else 0
        )
    except RedisError as exc:
        down = f"down: {type(exc).__name__}"
        return {"redis": down, "workers": "unknown", "scheduler": "unknown"}
    return {
        "redis": "ok",
        "workers": str(len(alive)),
        "scheduler": "ok" if queues and held == len(queues) else "missing",
    }


def _flowing(checks: dict[str, str]) -> bool:
    return checks["redis"] == "ok" and checks["workers"] != "0" and checks["scheduler"] == "ok"


def init_app(app: Flask) -> None:
    """Register the health checks."""
    app.register_blueprint(health_bp)
