"""``GET /healthz`` for load balancers: 200 when the database and Redis answer."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.redis_client import redis_client

health_bp = Blueprint("health", __name__)


@health_bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether the database and Redis answer; 503 names what is down."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    finally:
        db.session.rollback()
    try:
        redis_client().ping()
        checks["redis"] = "ok"
    except RedisError as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "down", **checks), 200 if healthy else 503


def init_app(app: Flask) -> None:
    """Register the health check."""
    app.register_blueprint(health_bp)
