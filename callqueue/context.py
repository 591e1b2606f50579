"""Running jobs inside the Flask app, in a worker process or in a test."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, has_app_context

from core.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

_bound_app: Flask | None = None
_engine_pid: int | None = None


def bind_app(app: Flask) -> None:
    """Make ``app`` the one jobs run in (the worker command does this before it forks)."""
    global _bound_app
    _bound_app = app


def _job_app() -> Flask:
    global _bound_app
    if _bound_app is None:
        # A plain ``rq worker`` started outside the app's CLI: build the app from the environment.
        from app import create_app

        _bound_app = create_app()
    return _bound_app


def app_job(func: F) -> F:
    """Run a job function inside the app context (and a fresh connection pool after a fork)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        app = _job_app()
        with app.app_context():
            _fresh_pool_after_fork()
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper  # type: ignore[return-value]


def _fresh_pool_after_fork() -> None:
    # RQ forks a work horse per job; database connections must not cross a fork.
    global _engine_pid
    if _engine_pid != os.getpid():
        db.engine.dispose(close=False)
        _engine_pid = os.getpid()
